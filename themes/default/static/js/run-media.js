/*
 * run-media.js: the run page's media section, one panel per logged key.
 *
 * Reads: TrackerData.media[runId] (data/media/<slug>.js, docs/site-data.md), the run id and site
 * root on <section id="media" data-run-id data-root>, the page slider #media-step and its output
 * #media-step-value; draws through TrackerMediaPanels (media-panels.js) and keeps the page step in
 * the URL's hash as step=<n> through TrackerViewState (view-state.js), so a link opens that step cold.
 * Every stepped panel has its own slider; the page slider moves them all to the step it shows (a
 * key not logged there shows its latest step before it). Histograms are drawn over all their steps,
 * with the page step marked. Exposes nothing.
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
    const state = { series, panel, stepped, position: series.steps.length - 1, drawn: null };
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
      slider.addEventListener("input", () => show(state, Number(slider.value)));
      state.slider = slider;
      state.output = output;
    } else if (series.steps.length) {
      head.appendChild(element("span", "media-panel-step-value muted",
        `steps ${series.steps[0]}–${series.steps[series.steps.length - 1]}`));
    }
    const body = element("div", "media-panel-body");
    panel.append(head, body);
    state.body = body;
    return state;
  }

  /** Show the panel's item at `position` of its steps (a histogram: mark `pageStep`). */
  function show(state, position, pageStep) {
    const series = state.series;
    if (!state.stepped) {
      const mark = pageStep === undefined ? series.steps[series.steps.length - 1] : pageStep;
      if (state.drawn === mark) return;
      state.drawn = mark;
      state.panel.dataset.step = String(mark);
      Panels.render(series.kind, state.body, [], { root, series, step: mark });
      return;
    }
    state.position = position;
    const step = series.steps[position];
    state.slider.value = String(position);
    state.output.textContent = `step ${step}`;
    state.panel.dataset.step = String(step);
    if (state.drawn === step) return;
    state.drawn = step;
    Panels.render(series.kind, state.body, series.items[position] || [], { root, series, step });
  }

  function showPageStep(step) {
    pageOutput.textContent = `step ${step}`;
    pageSlider.value = String(positionAt(data.steps, step));
    for (const state of panels) {
      show(state, state.stepped ? positionAt(state.series.steps, step) : 0, step);
    }
  }

  function stepFromHash(hash) {
    const wanted = Number.parseInt(hash.step, 10);
    const last = data.steps[data.steps.length - 1];
    return Number.isFinite(wanted) ? wanted : last;
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
      View.save(Object.assign(View.read(), { step: String(step) }));
    });
  }
  showPageStep(stepFromHash(View.read()));
  View.onChange([], (hash) => showPageStep(stepFromHash(hash)));
})();
