/*
 * compare-media.js: the compare page's media section. For each media key the chosen runs side by
 * side at one step, one slider for all of them; images of two runs also overlaid (an opacity
 * slider) or swiped (a divider); ROC and PR curves of every run overlaid in one chart, AUC/AP in
 * the legend; confusion matrices side by side or as the difference of two runs; tables, text and
 * the other kinds side by side.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows (id, name, slug, media: the
 * count of media keys); the data/media/<slug>.js of each run that has media (TrackerData.media[id],
 * docs/site-data.md), loaded with TrackerCompare.loadScript (an inserted <script>: works from
 * file://). Draws every kind through TrackerMediaPanels (media-panels.js) with the site root ""
 * (compare.html is at the root); overlay and swipe are drawn here.
 * Keeps its view in the hash through TrackerCompare.saveView, read before the first draw:
 * key=<media key> (default: every key), step=<step> (default: the last), mode=overlay|swipe|difference
 * (default: side by side), pair=<run id>,<run id> (the First and Second choice, shown for more
 * than two runs). Overlay, swipe and difference compare those two when both have the key at the
 * step, else the first two runs, in the hash's order, that have it.
 * A panel's runs are drawn, and their data scripts loaded, once the panel comes near the viewport
 * (TrackerMediaPanels.whenNear); until then its body is an empty aria-busy box as tall as the key's
 * panel was before the last change (or WAITING_HEIGHT_PX), so the page keeps its place as a slider
 * moves. Run names, keys, captions and cells go in as text (textContent; the renderers do the same).
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  const Panels = window.TrackerMediaPanels;
  const section = document.getElementById("compare-media");
  if (!Compare || !View || !Panels || !section || !window.Plotly) return;

  const controls = {
    key: document.getElementById("compare-media-key"),
    step: document.getElementById("compare-media-step"),
    stepValue: document.getElementById("compare-media-step-value"),
    mode: document.getElementById("compare-media-mode"),
    pair: document.getElementById("compare-media-pair"),
    first: document.getElementById("compare-media-first"),
    second: document.getElementById("compare-media-second"),
  };
  const holder = document.getElementById("compare-media-panels");
  const ROOT = ""; // compare.html sits at the site's root
  const MODES = [["side", "Side by side", null], ["overlay", "Overlay (images)", "image"],
                 ["swipe", "Swipe (images)", "image"], ["difference", "Difference (confusion matrices)", "confusion_matrix"]];
  const OVERLAID_KINDS = new Set(["roc_curve", "pr_curve"]); // every run's curves in one chart
  const PAIR_START_PERCENT = 50; // the overlay's opacity and the swipe divider's place when drawn
  const WAITING_HEIGHT_PX = 240; // an undrawn panel's body, when the key had no drawn panel before

  const label = (run) => run.name || run.id;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** The keys of every run in first-logged order: {key, kind, series: Map(run id -> its series)}. */
  function mediaKeys(runs, media) {
    const keys = new Map();
    for (const run of runs) {
      for (const series of (media[run.id] || { keys: [] }).keys) {
        if (!keys.has(series.key)) keys.set(series.key, { key: series.key, kind: series.kind, series: new Map() });
        keys.get(series.key).series.set(run.id, series);
      }
    }
    return [...keys.values()];
  }

  /** The latest of `steps` at or before `step`, or null before the first. */
  function stepAtOrBefore(steps, step) {
    let found = null;
    for (const value of steps) if (value <= step) found = value;
    return found;
  }

  function stepsOf(keys) {
    const steps = new Set();
    for (const entry of keys) for (const series of entry.series.values()) series.steps.forEach((step) => steps.add(step));
    return [...steps].sort((a, b) => a - b);
  }

  // ---- the view: key, step, mode ----------------------------------------------------------------

  const state = { runs: [], keys: [], key: "", steps: [], step: null, mode: "side", pair: [] };

  function shownKeys() {
    return state.key ? state.keys.filter((entry) => entry.key === state.key) : state.keys;
  }

  function fillModes() {
    const kinds = new Set(shownKeys().map((entry) => entry.kind));
    const pairs = state.runs.length >= 2;
    const wanted = state.mode;
    controls.mode.replaceChildren(...MODES.filter(([, , kind]) => !kind || (pairs && kinds.has(kind)))
      .map(([value, text]) => Object.assign(element("option", null, text), { value })));
    controls.mode.value = [...controls.mode.options].some((option) => option.value === wanted) ? wanted : "side";
    controls.mode.disabled = controls.mode.options.length < 2;
    showPairChoice();
  }

  /** The First/Second run choice: only for a pair mode, and only when there are more than two runs to choose from. */
  function showPairChoice() {
    controls.pair.hidden = controls.mode.value === "side" || state.runs.length < 3;
    const [first, second] = state.pair.length === 2 ? state.pair : state.runs.slice(0, 2).map((run) => run.id);
    controls.first.value = first;
    controls.second.value = second;
  }

  function fillSteps() {
    state.steps = stepsOf(shownKeys());
    const last = state.steps.length - 1;
    let position = last;
    if (state.step !== null) {
      const at = stepAtOrBefore(state.steps, state.step);
      position = at === null ? 0 : state.steps.indexOf(at);
    }
    controls.step.max = String(Math.max(0, last));
    controls.step.value = String(Math.max(0, position));
    controls.step.disabled = last < 1;
  }

  function currentStep() {
    return state.steps.length ? state.steps[Number(controls.step.value)] : null;
  }

  function restore(hash) {
    state.key = state.keys.some((entry) => entry.key === hash.key) ? hash.key : "";
    controls.key.value = state.key;
    const step = Number(hash.step);
    state.step = hash.step !== undefined && hash.step !== "" && Number.isInteger(step) ? step : null;
    state.mode = MODES.some(([value]) => value === hash.mode) ? hash.mode : "side";
    const ids = new Set(state.runs.map((run) => run.id));
    const pair = (hash.pair || "").split(",");
    state.pair = pair.length === 2 && pair[0] !== pair[1] && pair.every((id) => ids.has(id)) ? pair : [];
    fillModes();
    fillSteps();
  }

  function save() {
    const step = currentStep();
    const last = state.steps[state.steps.length - 1];
    Compare.saveView({ key: state.key || null, step: step === null || step === last ? null : String(step),
                       mode: controls.mode.value === "side" ? null : controls.mode.value,
                       pair: state.pair.length === 2 ? state.pair : null });
  }

  // ---- drawing ------------------------------------------------------------------------------------

  /** The run's items of `entry` at `step` (its latest at or before it), each labelled with the run. */
  function itemsOf(entry, run, step) {
    const series = entry.series.get(run.id);
    if (!series) return [];
    return Panels.itemAt(series, step).map((item) => Object.assign({}, item, { label: label(run) }));
  }

  /** What overlay, swipe and difference compare: the chosen First and Second runs when both have the
   * key at the step, else the first two runs that do. */
  function pairOf(entry, step) {
    const has = (run) => (entry.series.get(run.id) || {}).kind === entry.kind && itemsOf(entry, run, step).length > 0;
    const chosen = state.pair.map((id) => state.runs.find((run) => run.id === id));
    if (chosen.length === 2 && chosen.every(has)) return chosen;
    return state.runs.filter(has).slice(0, 2);
  }

  function stepNote(series, step) {
    const shown = stepAtOrBefore(series.steps, step);
    if (shown === null) return `not logged at or before step ${step}`;
    return shown === step ? `step ${step}` : `step ${shown} (its latest at or before ${step})`;
  }

  /** "step 5", or each run's own step when one of them shows its latest before it. */
  function pairStepNote(entry, pair, step) {
    const notes = pair.map((run) => stepNote(entry.series.get(run.id), step));
    return notes[0] === notes[1] ? notes[0] : pair.map((run, position) => `${label(run)}: ${notes[position]}`).join(", ");
  }

  /** One column per run, each drawn by the kind's renderer: the side-by-side view. */
  function drawColumns(body, entry, step) {
    const columns = element("div", "compare-media-runs");
    const renders = [];
    for (const run of state.runs) {
      const column = element("div", "compare-media-run");
      column.dataset.runId = run.id;
      const head = element("div", "compare-media-run-head");
      head.appendChild(element("h4", "compare-media-run-name", label(run)));
      const series = entry.series.get(run.id);
      const box = element("div", "compare-media-run-body");
      if (!series) {
        head.appendChild(element("span", "muted", "not logged in this run"));
      } else {
        head.appendChild(element("span", "muted compare-media-run-step", stepNote(series, step)));
        if (series.kind !== entry.kind) head.appendChild(element("span", "muted", `logged as ${series.kind.replace(/_/g, " ")}`));
        renders.push(Panels.render(series.kind, box, Panels.itemAt(series, step), { root: ROOT, series, step }));
      }
      column.append(head, box);
      columns.appendChild(column);
    }
    body.appendChild(columns);
    return Promise.all(renders);
  }

  function drawOverlaid(body, entry, step) {
    const items = state.runs.filter((run) => (entry.series.get(run.id) || {}).kind === entry.kind)
      .flatMap((run) => itemsOf(entry, run, step));
    const box = element("div", "compare-media-overlaid");
    body.appendChild(box);
    return Panels.render(entry.kind, box, items, { root: ROOT, step });
  }

  function drawDifference(body, entry, step) {
    const [first, second] = pairOf(entry, step);
    const [a, b] = [itemsOf(entry, first, step)[0], itemsOf(entry, second, step)[0]];
    const title = element("p", "compare-media-pair-title");
    title.append(element("strong", null, label(first)), " minus ", element("strong", null, label(second)),
                 element("span", "muted", ` · ${pairStepNote(entry, [first, second], step)}`));
    const box = element("div", "compare-media-difference");
    body.append(title, box);
    if (!a.file || !b.file) return Panels.render(entry.kind, box, [a, b], { root: ROOT });
    return Promise.all([Panels.load(ROOT, a), Panels.load(ROOT, b)]).then(([one, two]) => {
      if (JSON.stringify(one.labels) === JSON.stringify(two.labels)) {
        return Panels.render(entry.kind, box, [a, b], { root: ROOT, difference: true });
      } // a difference of unlike classes means nothing: both shown instead
      box.appendChild(element("p", "media-notice", "The two runs' classes differ: their matrices are shown side by side."));
      const both = element("div");
      box.appendChild(both);
      return Panels.render(entry.kind, both, [a, b], { root: ROOT });
    }, (error) => box.appendChild(element("p", "media-error", `Could not show this: ${error.message}`)));
  }

  /** Images of two runs in one frame: B over A at an opacity (overlay), or B right of a divider (swipe). */
  function drawPairs(body, entry, step, mode) {
    const [first, second] = pairOf(entry, step);
    const [aItems, bItems] = [itemsOf(entry, first, step), itemsOf(entry, second, step)];
    const title = element("p", "compare-media-pair-title");
    title.append(element("strong", null, label(first)), mode === "swipe" ? " left, " : " under ",
                 element("strong", null, label(second)), mode === "swipe" ? " right" : " over it",
                 element("span", "muted", ` · ${pairStepNote(entry, [first, second], step)}`));
    const grid = element("div", "compare-media-pairs");
    body.append(title, grid);
    const count = Math.max(aItems.length, bItems.length);
    for (let position = 0; position < count; position += 1) {
      const [a, b] = [aItems[position], bItems[position]];
      if (!a || !b || !a.file || !b.file) { // nothing to lay over: what there is, as a notice
        const missing = [[a, first], [b, second]].map(([item, run]) => (!item ? `no image ${position} in ${label(run)}`
          : !item.file ? `${label(run)}: left out (${item.leftOut || "no file"})` : null)).filter(Boolean);
        grid.appendChild(element("p", "media-notice", missing.join("; ")));
        continue;
      }
      grid.appendChild(pairFigure(a, b, mode));
    }
  }

  function pairFigure(a, b, mode) {
    const figure = element("figure", "compare-media-pair");
    figure.dataset.mode = mode;
    const stage = element("div", "compare-media-stage");
    const [width, height] = [(a.fields || {}).width, (a.fields || {}).height];
    if (width && height) stage.style.aspectRatio = `${width} / ${height}`;
    const under = element("img", "compare-media-a");
    under.src = ROOT + a.file;
    under.alt = `${a.label}: ${(a.fields || {}).caption || "image"}`;
    const over = element("img", "compare-media-b");
    over.src = ROOT + b.file;
    over.alt = `${b.label}: ${(b.fields || {}).caption || "image"}`;
    const divider = element("div", "compare-media-divider");
    divider.setAttribute("aria-hidden", "true");
    stage.append(under, over);
    if (mode === "swipe") stage.appendChild(divider);

    const slider = element("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "100";
    slider.value = String(PAIR_START_PERCENT);
    slider.setAttribute("aria-label", mode === "swipe" ? "Swipe divider position" : `Opacity of ${b.label}`);
    const apply = () => {
      const percent = Number(slider.value);
      if (mode === "swipe") {
        over.style.clipPath = `inset(0 0 0 ${percent}%)`;
        divider.style.left = `${percent}%`;
      } else {
        over.style.opacity = String(percent / 100);
      }
    };
    slider.addEventListener("input", apply);
    if (mode === "swipe") { // dragging on the images moves the divider too
      const follow = (event) => {
        const box = stage.getBoundingClientRect();
        slider.value = String(Math.round(Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * 100));
        apply();
      };
      under.draggable = false; // a drag of the image itself would take the pointer away
      over.draggable = false;
      stage.addEventListener("pointerdown", (event) => {
        event.preventDefault();
        stage.setPointerCapture(event.pointerId);
        follow(event);
      });
      stage.addEventListener("pointermove", (event) => { if (stage.hasPointerCapture(event.pointerId)) follow(event); });
    }
    apply();
    const control = element("label", "compare-media-pair-control");
    control.append(element("span", null, mode === "swipe" ? "Divider" : "Opacity"), slider);
    const caption = element("figcaption", "media-caption");
    for (const item of [a, b]) {
      const line = element("span", "compare-media-pair-caption");
      line.append(element("strong", null, item.label), (item.fields || {}).caption ? ` · ${item.fields.caption}` : "");
      caption.appendChild(line);
    }
    figure.append(stage, control, caption);
    return figure;
  }

  /** A panel of `entry` at `step`: its head now, its body once near the viewport (`height`: its box until then). */
  function drawPanel(entry, step, number, height) {
    const panel = element("section", "compare-media-panel");
    panel.dataset.key = entry.key;
    panel.dataset.kind = entry.kind;
    const head = element("div", "media-panel-head");
    const title = element("h3", "media-panel-title", entry.key);
    title.id = `compare-media-panel-${number}`;
    panel.setAttribute("aria-labelledby", title.id);
    head.append(title, element("span", "media-kind muted", entry.kind.replace(/_/g, " ")));
    const body = Panels.waitingBody("compare-media-body", height || WAITING_HEIGHT_PX);
    panel.append(head, body);
    const mode = controls.mode.value;
    const modeKind = (MODES.find(([value]) => value === mode) || [])[2];
    const paired = modeKind === entry.kind && pairOf(entry, step).length === 2;
    panel.dataset.mode = paired ? mode : OVERLAID_KINDS.has(entry.kind) ? "overlaid" : "side";
    const drawn = () => Panels.bodyDrawn(body);
    Panels.whenNear(panel, () => Promise.resolve(drawBody(body, entry, step, mode, modeKind, paired)).then(drawn, drawn));
    return panel;
  }

  function drawBody(body, entry, step, mode, modeKind, paired) {
    if (modeKind === entry.kind && !paired) {
      body.appendChild(element("p", "muted", `${mode === "difference" ? "A difference" : "This mode"} needs two runs with this key at or before step ${step}.`));
    }
    if (paired && mode === "difference") return drawDifference(body, entry, step);
    if (paired) return drawPairs(body, entry, step, mode);
    if (OVERLAID_KINDS.has(entry.kind)) return drawOverlaid(body, entry, step);
    return drawColumns(body, entry, step);
  }

  let frame = null;

  /** Draws on the next frame: a slider dragged across twenty steps draws once a frame, not twenty times. */
  function draw() {
    const step = currentStep();
    controls.stepValue.textContent = step === null ? "" : `step ${step}`;
    if (frame === null) frame = requestAnimationFrame(drawNow);
  }

  function drawNow() {
    frame = null;
    const step = currentStep();
    // the old panels' plots let go of their window listeners before they are dropped
    holder.querySelectorAll(".js-plotly-plot").forEach((plot) => window.Plotly.purge(plot));
    // each key's new panel waits in a box as tall as its old one: the page keeps its scroll place
    const heights = new Map();
    for (const old of holder.querySelectorAll(".compare-media-panel")) {
      Panels.stopWaiting(old);
      heights.set(old.dataset.key, old.querySelector(".compare-media-body").offsetHeight);
    }
    // Fresh panels each time: a renderer still loading for an old step draws into a detached node.
    holder.replaceChildren(...shownKeys().map((entry, number) => drawPanel(entry, step, number, heights.get(entry.key))));
    Panels.drawNearNow();
  }

  // ---- start ----------------------------------------------------------------------------------------

  function loadMedia(runs) {
    // only the runs whose index row counts media keys: a run without media has no file, and a
    // <script> for a missing file is a console error
    const withMedia = runs.filter((run) => run.media > 0);
    return Promise.all(withMedia.map((run) => Compare.loadScript(`data/media/${encodeURIComponent(run.slug)}.js`)))
      .then(() => {
        const all = (window.TrackerData && window.TrackerData.media) || {};
        const media = {};
        for (const run of runs) media[run.id] = all[run.id] || null;
        return media;
      });
  }

  Compare.onReady(({ runs }) => {
    loadMedia(runs).then((media) => {
      state.runs = runs;
      state.keys = mediaKeys(runs, media);
      if (!state.keys.length) return; // no chosen run logged media: the section stays hidden
      section.hidden = false;
      const without = runs.filter((run) => !media[run.id]).map(label);
      document.getElementById("compare-media-note").textContent = without.length
        ? `No media logged by ${without.join(", ")}.` : "";
      controls.key.replaceChildren(Object.assign(element("option", null, "All keys"), { value: "" }),
        ...state.keys.map((entry) => Object.assign(element("option", null, entry.key), { value: entry.key })));
      for (const select of [controls.first, controls.second]) {
        select.replaceChildren(...runs.map((run) => Object.assign(element("option", null, label(run)), { value: run.id })));
      }
      restore(View.read());
      draw();
      controls.key.addEventListener("change", () => {
        state.key = controls.key.value;
        state.step = currentStep();
        fillModes();
        fillSteps();
        save();
        draw();
      });
      controls.step.addEventListener("input", () => { state.step = currentStep(); save(); draw(); });
      controls.mode.addEventListener("change", () => { state.mode = controls.mode.value; showPairChoice(); save(); draw(); });
      for (const select of [controls.first, controls.second]) {
        select.addEventListener("change", () => {
          const pair = [controls.first.value, controls.second.value];
          state.pair = pair[0] === pair[1] ? [] : pair; // one run against itself compares nothing
          save();
          draw();
        });
      }
      View.onChange([], (hash) => { restore(hash); draw(); });
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw); // charts take the new colours
    });
  });
})();
