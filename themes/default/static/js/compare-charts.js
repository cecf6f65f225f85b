/*
 * compare-charts.js: the compare page's plots: per metric, one chart with a line per run (x axis
 * step / relative / wall time, EMA smoothing, log scale, as on the run page); a parallel-coordinates
 * plot of the numeric parameters and a chosen metric; a scatter of one parameter against that metric.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows and their data files,
 * decoded, smoothed and downsampled with TrackerRunData (run-data.js); plotly.js (vendored), styled
 * by TrackerChartStyle (chart-style.js); the x axis, smoothing and log controls and the selects'
 * options through TrackerChartControls (chart-controls.js).
 * Keeps its controls in the hash through TrackerCompare.saveView:
 * #runs=...&x=relative|wall&smooth=0.6&log=1&metric=<summary name>&param=<config key>
 * (defaults are left out), read before the first draw.
 * NaN and ±Infinity break the lines and are marked at the chart's top/bottom edge, named by run.
 * Run names, config keys and values and metric names reach plotly through TrackerChartStyle.text().
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  const RunData = window.TrackerRunData;
  const Style = window.TrackerChartStyle;
  const Controls = window.TrackerChartControls;
  if (!Compare || !View || !RunData || !Style || !Controls || !window.Plotly) return;

  const controls = Object.assign(Controls.find(), {
    metric: document.getElementById("compare-metric"),
    param: document.getElementById("compare-param"),
  });
  const grid = document.getElementById("compare-charts");

  function baseLayout(palette) {
    return Object.assign(Style.layout(palette), { showlegend: true, legend: { orientation: "h", y: -0.2 } });
  }

  /** The run's line, and its NaN / ±Infinity markers when it has any. */
  function curve(name, data, metric, mode, weight, palette) {
    const series = RunData.decode(data.metrics[metric]);
    const x = Controls.xValues(series, data.created, mode);
    const y = RunData.smooth(series.values, weight);
    const kept = RunData.downsample(y);
    const label = Style.text(name);
    const line = { type: "scatter", mode: "lines", name: label, x: kept.map((i) => x[i]), y: kept.map((i) => y[i]),
                   hovertemplate: "%{y:.6g}" }; // plotly names the trace beside it
    const markers = RunData.nonFiniteTrace(series, x, palette.bad, `${label}: `);
    return markers ? [line, markers] : [line];
  }

  function drawCurves(state) {
    const palette = Style.palette();
    const view = Controls.settings(controls);
    for (const figure of grid.querySelectorAll("figure.chart")) {
      const metric = figure.dataset.metric;
      const traces = state.runs.filter((run) => state.data[run.id] && state.data[run.id].metrics[metric])
        .flatMap((run) => curve(run.name || run.id, state.data[run.id], metric, view.mode, view.weight, palette))
        .map((trace, index) => Object.assign(trace, { uid: String(index) }));
      const layout = Controls.applyAxes(baseLayout(palette), view, palette, RunData.EDGE_AXIS);
      window.Plotly.react(figure.querySelector(".plot"), traces, layout, Style.CONFIG);
    }
  }

  function numeric(values) {
    return values.filter((value) => typeof value === "number" && Number.isFinite(value));
  }

  function drawParams(state) {
    const palette = Style.palette();
    const metric = controls.metric.value;
    const param = controls.param.value;
    const metricValues = state.runs.map((run) => {
      const value = (run.summary || {})[metric];
      return typeof value === "number" && Number.isFinite(value) ? value : null;
    });
    const dimensions = state.params.map((key) => ({ label: key, values: state.configs.map((config) => config[key]) }))
      .concat(metric ? [{ label: metric, values: metricValues }] : [])
      .map((dimension) => ({ label: Style.text(dimension.label),
                             values: dimension.values.map((value) => (typeof value === "number" ? value : NaN)) }));
    const layout = baseLayout(palette);
    layout.margin = { l: 60, r: 60, t: 40, b: 20 };
    const colored = numeric(metricValues).length ? { color: metricValues.map((value) => (value === null ? NaN : value)),
      colorscale: "Viridis", showscale: true, reversescale: Compare.lowerIsBetter(metric) } : { color: palette.accent };
    window.Plotly.react(document.getElementById("compare-parcoords"),
      dimensions.length ? [{ type: "parcoords", dimensions, line: colored, labelfont: { color: palette.text },
                             tickfont: { color: palette.muted } }] : [], layout, Style.CONFIG);
    const scatter = baseLayout(palette);
    scatter.showlegend = false;
    scatter.xaxis.title = { text: Style.text(param), font: { size: 11, color: palette.muted } };
    scatter.yaxis.title = { text: Style.text(metric), font: { size: 11, color: palette.muted } };
    window.Plotly.react(document.getElementById("compare-scatter"), [{
      type: "scatter", mode: "markers+text", textposition: "top center",
      // a text value among numbers makes the x axis categorical: its ticks are labels too
      x: state.configs.map((config) => (typeof config[param] === "string" ? Style.text(config[param]) : config[param] ?? null)),
      y: metricValues,
      text: state.runs.map((run) => Style.text(run.name || run.id)), marker: { size: 10, color: palette.accent },
      hovertemplate: "%{text}<br>%{x}: %{y:.6g}<extra></extra>",
    }], scatter, Style.CONFIG);
  }

  /** Sets the controls from the hash; a missing or unknown value means the default. */
  function restoreView(hash) {
    const known = (select, value) => [...select.options].some((option) => option.value === value);
    Controls.restore(controls, hash);
    if (known(controls.metric, hash.metric)) controls.metric.value = hash.metric;
    else if (controls.metric.options.length) controls.metric.selectedIndex = 0;
    if (known(controls.param, hash.param)) controls.param.value = hash.param;
    else if (controls.param.options.length) controls.param.selectedIndex = 0;
  }

  function saveView() {
    Compare.saveView(Object.assign(Controls.saved(controls), {
      metric: controls.metric.selectedIndex > 0 ? controls.metric.value : null,
      param: controls.param.selectedIndex > 0 ? controls.param.value : null,
    }));
  }

  Compare.onReady(({ runs, data }) => {
    const configs = runs.map((run) => Compare.flatten(run.config));
    const params = [...new Set(configs.flatMap((config) => Object.keys(config)))]
      .filter((key) => configs.some((config) => typeof config[key] === "number"));
    const summaries = [...new Set(runs.flatMap((run) => Object.keys(run.summary || {})))]
      .filter((name) => runs.some((run) => typeof (run.summary || {})[name] === "number"));
    const state = { runs, data, configs, params };
    const metrics = [...new Set(runs.flatMap((run) => Object.keys((data[run.id] || { metrics: {} }).metrics)))];
    for (const metric of metrics) {
      const figure = document.createElement("figure");
      figure.className = "chart";
      figure.dataset.metric = metric;
      const caption = document.createElement("figcaption");
      caption.textContent = metric;
      const plot = document.createElement("div");
      plot.className = "plot";
      plot.setAttribute("role", "img");
      plot.setAttribute("aria-label", `Chart of ${metric}`);
      figure.append(caption, plot);
      grid.appendChild(figure);
    }
    if (!metrics.length) grid.textContent = "No metrics logged.";
    Controls.fillSelect(controls.metric, summaries);
    Controls.fillSelect(controls.param, params);
    restoreView(View.read());

    const redrawCurves = () => { saveView(); drawCurves(state); };
    const redrawParams = () => { saveView(); drawParams(state); };
    Controls.listen(controls, redrawCurves);
    controls.metric.addEventListener("change", redrawParams);
    controls.param.addEventListener("change", redrawParams);
    View.onChange([], (hash) => { restoreView(hash); drawCurves(state); drawParams(state); });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { drawCurves(state); drawParams(state); });
    drawCurves(state);
    drawParams(state);
  });
})();
