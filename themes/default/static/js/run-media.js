/*
 * run-media.js: the run page's media section, one panel per logged key.
 *
 * Reads: TrackerData.media[runId] (data/media/<slug>.js, docs/site-data.md), the run id and site
 * root on <section id="media" data-run-id data-root>, the page slider #media-step and its output
 * #media-step-value; draws through TrackerMediaPanels (media-panels.js).
 * Every stepped panel has its own slider; the page slider moves them all to the step it shows (a
 * key not logged there shows its latest step before it). Histograms are drawn over all their steps,
 * with the page step marked.
 * A panel is drawn, and its data scripts loaded, only once it comes near the viewport
 * (TrackerMediaPanels.whenNear): until then its body is an empty box of about its drawn height,
 * marked aria-busy, while its slider and step already follow the page's. A drawn panel stays drawn.
 * Keeps in the URL's hash through TrackerViewState (view-state.js), so a link opens the same view
 * cold: step=<n> the page slider's step, and panels=<number>-<step>,... the panels whose own
 * slider was moved since (number: the panel's place on the page, from 0), e.g. #step=3&panels=0-5,4-1.
 * Moving the page slider moves every panel and clears panels=. Exposes nothing.
 */
(function () {
  "use strict";

  const section = document.getElementById("media");
  const Panels = window.TrackerMediaPanels;
  const View = window.TrackerViewState;
  if (!section || !Panels || !View) return;
  const data = ((window.TrackerData || {}).media || {})[section.dataset.runId];
  const holder = document.getElementById("media-panels");
  const root = section.dataset.root || "";
  if (!data || !holder) return;

  const pageSlider = document.getElementById("media-step");
  const pageOutput = document.getElementById("media-step-value");
  const panels = [];
  // An undrawn panel's body keeps about the height it will have, so that the panels below it stay
  // out of view until scrolled to, and the page does not jump as panels above are drawn.
  const WAITING_HEIGHT_PX = { figure: 320, histogram: 320, roc_curve: 360, pr_curve: 360, table: 320 };
  const WAITING_HEIGHT_DEFAULT_PX = 160;
  const PANEL_STEP = /^(\d+)-(-?\d+)$/; // one entry of the hash's panels=

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  /** The position in `steps` of the latest step at or before `step` (0 when there is none). */
  function positionAt(steps, step) {
    let found = 0;
    steps.forEach((value, position) => { if (value <= step) found = position; });
    return found;
  }

  function makePanel(series, number) {
    const panel = element("section", "media-panel");
    panel.dataset.key = series.key;
    panel.dataset.kind = series.kind;
    const head = element("div", "media-panel-head");
    const title = element("h3", "media-panel-title", series.key);
    title.id = `media-panel-${number}`;
    panel.setAttribute("aria-labelledby", title.id);
    head.append(title, element("span", "media-kind muted", series.kind.replace(/_/g, " ")));
    const stepped = Panels.STEPPED_KINDS.includes(series.kind);
    // ownStep: the step its own slider was moved to, since the page slider last moved (the hash's panels=)
    const state = { series, panel, number, stepped, position: series.steps.length - 1, mark: null,
                    drawn: null, near: false, ownStep: null };
    if (stepped) {
      const control = element("label", "media-panel-step");
      const slider = element("input");
      slider.type = "range";
      slider.min = "0";
      slider.max = String(series.steps.length - 1);
      slider.step = "1";
      slider.setAttribute("aria-label", `Step of ${series.key}`);
      slider.hidden = series.steps.length < 2; // one step: its step is all there is to say
      const output = element("output", "media-panel-step-value");
      control.append(slider, output);
      head.appendChild(control);
      slider.addEventListener("input", () => {
        show(state, Number(slider.value));
        state.ownStep = series.steps[state.position];
        saveView({});
      });
      state.slider = slider;
      state.output = output;
    } else if (series.steps.length) {
      head.appendChild(element("span", "media-panel-step-value muted",
        `steps ${series.steps[0]}–${series.steps[series.steps.length - 1]}`));
    }
    const body = Panels.waitingBody("media-panel-body", WAITING_HEIGHT_PX[series.kind] || WAITING_HEIGHT_DEFAULT_PX);
    panel.append(head, body);
    state.body = body;
    Panels.whenNear(panel, () => {
      state.near = true;
      draw(state);
    });
    return state;
  }

  /** Sets the panel's step: at `position` of its steps (a histogram: marks `pageStep`); draws it if near the viewport. */
  function show(state, position, pageStep) {
    const series = state.series;
    if (state.stepped) {
      state.position = position;
      const step = series.steps[position];
      state.slider.value = String(position);
      state.output.textContent = `step ${step}`;
      state.panel.dataset.step = String(step);
    } else {
      state.mark = pageStep === undefined ? series.steps[series.steps.length - 1] : pageStep;
      state.panel.dataset.step = String(state.mark);
    }
    draw(state);
  }

  /** Draws the panel at its step, once it is near the viewport and when its step changed. */
  function draw(state) {
    if (!state.near) return;
    const series = state.series;
    const step = state.stepped ? series.steps[state.position] : state.mark;
    if (state.drawn === step) return;
    state.drawn = step;
    const items = state.stepped ? series.items[state.position] || [] : [];
    const drawn = () => Panels.bodyDrawn(state.body);
    Panels.render(series.kind, state.body, items, { root, series, step }).then(drawn, drawn);
  }

  function showPageStep(step) {
    pageOutput.textContent = `step ${step}`;
    pageSlider.value = String(positionAt(data.steps, step));
    for (const state of panels) {
      state.ownStep = null;
      show(state, state.stepped ? positionAt(state.series.steps, step) : 0, step);
    }
  }

  function stepFromHash(hash) {
    const wanted = Number.parseInt(hash.step, 10);
    const last = data.steps[data.steps.length - 1];
    return Number.isFinite(wanted) ? wanted : last;
  }

  /** The page step, then each panel's own step, from the hash; an entry naming no stepped panel is skipped. */
  function showHash(hash) {
    showPageStep(stepFromHash(hash));
    // read as one string and split here: another widget's save may have encoded the list's commas
    for (const entry of String(hash.panels || "").split(",")) {
      const match = PANEL_STEP.exec(entry);
      const state = match && panels[Number(match[1])];
      if (!state || !state.stepped) continue;
      show(state, positionAt(state.series.steps, Number(match[2])));
      state.ownStep = state.series.steps[state.position];
    }
  }

  /** Saves `values` and the panels moved on their own into the hash (other widgets' keys kept). */
  function saveView(values) {
    const moved = panels.filter((state) => state.ownStep !== null).map((state) => `${state.number}-${state.ownStep}`);
    View.save(Object.assign(View.read(), values, { panels: moved.length ? moved : null }));
  }

  holder.replaceChildren();
  data.keys.forEach((series, number) => {
    const state = makePanel(series, number);
    panels.push(state);
    holder.appendChild(state.panel);
  });
  if (!data.keys.length) holder.appendChild(element("p", "muted", "No media logged."));

  if (data.steps.length > 1) {
    document.getElementById("media-page-step").hidden = false;
    pageSlider.max = String(data.steps.length - 1);
    pageSlider.addEventListener("input", () => {
      const step = data.steps[Number(pageSlider.value)];
      showPageStep(step);
      saveView({ step: String(step) });
    });
  }
  showHash(View.read());
  Panels.drawNearNow();
  View.onChange([], showHash);
})();
