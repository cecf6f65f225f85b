/*
 * run-charts.js: one plotly chart per metric on the run page, with x-axis choice (step, relative
 * time, wall time), EMA smoothing, a log-scale toggle and light/dark colors from the CSS.
 *
 * Reads: TrackerRunData.current() (see run-data.js) and each <figure class="chart"
 * data-kind="metrics|system" data-metric="name"> on the page; plotly.js (vendored), styled by
 * TrackerChartStyle (chart-style.js).
 * Keeps the controls in the URL's hash through TrackerViewState (view-state.js):
 * #x=relative|wall&smooth=0.6&log=1 (defaults are left out), read before the first draw.
 * Long series are downsampled here, at render (run-data.js), by min/max per bucket (extremes always kept);
 * the data file keeps every point for the CSV. NaN and ±Infinity are drawn as markers at the
 * chart's top/bottom edge (a hidden second y axis spanning 0..1), never dropped.
 */
(function () {
  "use strict";

  const run = window.TrackerRunData && window.TrackerRunData.current();
  const Style = window.TrackerChartStyle;
  if (!run || !window.Plotly || !Style) return;
  const { smooth, downsample } = window.TrackerRunData;

  const controls = {
    x: document.getElementById("chart-x"),
    smoothing: document.getElementById("chart-smoothing"),
    smoothingValue: document.getElementById("chart-smoothing-value"),
    log: document.getElementById("chart-log"),
  };
  const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");
  const View = controls.x && window.TrackerViewState; // no controls on a run without metrics

  function xValues(series, mode) {
    if (mode === "step") return series.steps;
    if (mode === "relative") return series.times;
    return series.times.map((t) => (t === null ? null : new Date((run.created + t) * 1000)));
  }

  function traces(name, series, mode, weight, palette) {
    const x = xValues(series, mode);
    const smoothed = smooth(series.values, weight);
    const raw = downsample(series.values);
    const pick = (array, indices) => indices.map((index) => array[index]);
    const result = [{
      type: "scatter", mode: "lines", name: Style.text(name),
      x: pick(x, raw), y: pick(series.values, raw),
      line: { color: palette.accent, width: weight ? 1 : 2 }, opacity: weight ? 0.3 : 1,
      hovertemplate: "%{y:.6g}<extra>" + (weight ? "raw" : "") + "</extra>",
    }];
    if (weight) {
      const kept = downsample(smoothed);
      result.push({ type: "scatter", mode: "lines", name: Style.text(`${name} (smoothed)`), x: pick(x, kept), y: pick(smoothed, kept),
        line: { color: palette.accent, width: 2 }, hovertemplate: "%{y:.6g}<extra>smoothed</extra>" });
    }
    const markers = window.TrackerRunData.nonFiniteTrace(series, x, palette.bad);
    if (markers) result.push(markers);
    return result;
  }

  function layout(mode, palette) {
    const result = Style.layout(palette);
    Object.assign(result.xaxis, { type: mode === "wall" ? "date" : "linear",
      title: { text: { step: "step", relative: "seconds since start", wall: "" }[mode], font: { size: 11, color: palette.muted } } });
    result.yaxis.type = controls.log && controls.log.checked ? "log" : "linear";
    result.yaxis2 = Object.assign({}, window.TrackerRunData.EDGE_AXIS);
    return result;
  }

  function draw(figure) {
    const data = run[figure.dataset.kind] && run[figure.dataset.kind][figure.dataset.metric];
    if (!data) return;
    const palette = Style.palette();
    const mode = controls.x ? controls.x.value : "step";
    const weight = controls.smoothing ? Number(controls.smoothing.value) : 0;
    const series = window.TrackerRunData.decode(data);
    window.Plotly.react(figure.querySelector(".plot"), traces(figure.dataset.metric, series, mode, weight, palette),
      layout(mode, palette), Style.CONFIG);
  }

  function drawAll() {
    document.querySelectorAll("figure.chart").forEach((figure) => {
      const hidden = figure.closest("details:not([open])");
      if (!hidden) draw(figure); // charts in a closed <details> are drawn when it opens (plotly needs a size)
    });
  }

  /** Sets the controls from the hash; a missing or unknown value means the default. */
  function restoreView(hash) {
    controls.x.value = [...controls.x.options].some((option) => option.value === hash.x) ? hash.x : "step";
    const weight = Number(hash.smooth);
    controls.smoothing.value = Number.isFinite(weight) ? weight : 0; // the range input clamps it to 0..0.99
    controls.smoothingValue.textContent = controls.smoothing.value;
    controls.log.checked = hash.log === "1";
  }

  function saveView() {
    if (!View) return;
    View.save({ x: controls.x.value === "step" ? null : controls.x.value,
                smooth: Number(controls.smoothing.value) ? controls.smoothing.value : null,
                log: controls.log.checked ? "1" : null });
  }

  if (controls.smoothing) {
    controls.smoothing.addEventListener("input", () => {
      controls.smoothingValue.textContent = controls.smoothing.value;
      saveView();
      drawAll();
    });
  }
  if (controls.x) controls.x.addEventListener("change", () => { saveView(); drawAll(); });
  if (controls.log) controls.log.addEventListener("change", () => { saveView(); drawAll(); });
  if (View) {
    restoreView(View.read());
    View.onChange([], (hash) => { restoreView(hash); drawAll(); });
  }
  document.querySelectorAll("details.system-charts").forEach((details) => details.addEventListener("toggle", drawAll));
  darkQuery.addEventListener("change", drawAll);
  drawAll();
})();
