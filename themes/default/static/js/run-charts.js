/*
 * run-charts.js: one plotly chart per metric on the run page, with x-axis choice (step, relative
 * time, wall time), EMA smoothing, a log-scale toggle, light/dark colors from the CSS, and a
 * filter on metric names.
 *
 * Reads: TrackerRunData.current() (see run-data.js) and each <figure class="chart"
 * data-kind="metrics|system" data-metric="name"> on the page; the filter box #metric-filter and
 * its status #metric-filter-status; plotly.js (vendored), styled by TrackerChartStyle
 * (chart-style.js); the x axis, smoothing and log controls through TrackerChartControls
 * (chart-controls.js); TrackerQuery.globMatches (query.js) for filters with "*".
 * Keeps the controls in the URL's hash through TrackerViewState (view-state.js):
 * #x=relative|wall&smooth=0.6&log=1&metrics=<filter> (defaults are left out), read before the first draw.
 * A chart is drawn when it comes near the viewport (IntersectionObserver), and drawn again after a
 * control changes only when it is in view or next comes into view: a run of 5,000 metrics draws a
 * screenful, not 5,000 charts. The filter is a case-insensitive substring of the name, or a
 * pattern of the whole name when it holds "*" (val/*, *acc*).
 * Long series are downsampled here, at render (run-data.js), by min/max per bucket (extremes always
 * kept). NaN and ±Infinity are drawn as markers at the chart's top/bottom edge (a hidden second y
 * axis spanning 0..1), never dropped.
 */
(function () {
  "use strict";

  const run = window.TrackerRunData && window.TrackerRunData.current();
  const Style = window.TrackerChartStyle;
  const Controls = window.TrackerChartControls;
  if (!run || !window.Plotly || !Style || !Controls) return;
  const { smooth, downsample } = window.TrackerRunData;

  const NEAR_VIEW_PX = 400; // start drawing a chart this far below (or above) the viewport
  const controls = Object.assign(Controls.find(), {
    filter: document.getElementById("metric-filter"),
    filterStatus: document.getElementById("metric-filter-status"),
  });
  const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");
  const View = window.TrackerViewState;
  const figures = [...document.querySelectorAll("figure.chart")];
  const nearView = new Set(); // figures the observer last saw near the viewport
  const drawnWith = new WeakMap(); // figure -> the settings it was last drawn with

  function traces(name, series, mode, weight, palette) {
    const x = Controls.xValues(series, run.created, mode);
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

  function settings() {
    return Object.assign(Controls.settings(controls), { dark: darkQuery.matches });
  }

  function layout(view, palette) {
    return Controls.applyAxes(Style.layout(palette), view, palette, window.TrackerRunData.EDGE_AXIS);
  }

  /** Draws the chart unless it is already drawn with the current settings. */
  function draw(figure) {
    const view = settings();
    const key = JSON.stringify(view);
    if (drawnWith.get(figure) === key) return;
    const data = run[figure.dataset.kind] && run[figure.dataset.kind][figure.dataset.metric];
    if (!data) return;
    drawnWith.set(figure, key);
    const palette = Style.palette();
    const series = window.TrackerRunData.decode(data);
    window.Plotly.react(figure.querySelector(".plot"), traces(figure.dataset.metric, series, view.mode, view.weight, palette),
      layout(view, palette), Style.CONFIG);
  }

  /** After a setting changed: the charts in view now; the others when they come into view. */
  function redrawInView() {
    nearView.forEach(draw);
  }

  // Hidden charts (filtered out, or in a closed <details>) are never near the viewport: they are
  // drawn once shown, when plotly can measure them.
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        nearView.add(entry.target);
        draw(entry.target);
      } else {
        nearView.delete(entry.target);
      }
    }
  }, { rootMargin: `${NEAR_VIEW_PX}px 0px` });

  /**
   * The charts near the viewport now, drawn at once rather than on the observer's first report a
   * frame later: the first screen is drawn before the page's load event, as other scripts
   * (tracker serve's live reload restoring a zoom) expect.
   */
  function drawNearViewNow() {
    const bottom = window.innerHeight + NEAR_VIEW_PX;
    for (const figure of figures) {
      const box = figure.getBoundingClientRect();
      if (box.height && box.bottom >= -NEAR_VIEW_PX && box.top <= bottom) draw(figure);
    }
  }

  /** (name) => whether the filter text matches it. */
  function nameMatcher(filterText) {
    const pattern = filterText.trim().toLowerCase();
    if (!pattern) return () => true;
    if (pattern.includes("*") && window.TrackerQuery) {
      const parts = pattern.split("*");
      return (name) => window.TrackerQuery.globMatches(parts, name.toLowerCase());
    }
    return (name) => name.toLowerCase().includes(pattern);
  }

  function applyFilter() {
    if (!controls.filter) return;
    const matches = nameMatcher(controls.filter.value);
    let shown = 0;
    for (const figure of figures) {
      const match = matches(figure.dataset.metric);
      figure.hidden = !match;
      shown += match ? 1 : 0;
    }
    controls.filterStatus.textContent = controls.filter.value.trim()
      ? `${shown.toLocaleString("en-US")} of ${figures.length.toLocaleString("en-US")} charts` : "";
  }

  /** Sets the controls from the hash; a missing or unknown value means the default. */
  function restoreView(hash) {
    Controls.restore(controls, hash);
    if (controls.filter) controls.filter.value = hash.metrics || "";
    applyFilter();
  }

  function saveView() {
    if (!View) return;
    // the hash holds other widgets' keys too (run-media.js's step): keep them
    View.save(Object.assign(View.read(), Controls.saved(controls),
      { metrics: controls.filter && controls.filter.value.trim() ? controls.filter.value : null }));
  }

  Controls.listen(controls, () => { saveView(); redrawInView(); });
  if (controls.filter) controls.filter.addEventListener("input", () => { saveView(); applyFilter(); });
  if (View) {
    restoreView(View.read());
    View.onChange([], (hash) => { restoreView(hash); redrawInView(); });
  }
  darkQuery.addEventListener("change", redrawInView);
  drawNearViewNow();
  figures.forEach((figure) => observer.observe(figure));
})();
