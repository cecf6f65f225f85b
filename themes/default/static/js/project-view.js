/*
 * project-view.js: the project page: which numeric parameters move a chosen metric (Spearman's rho
 * across the project's runs, as bars and as a table), the best runs for it, and the metric of each
 * run against when it started, with the best so far.
 *
 * Reads: the index through TrackerIndex (index-data.js, data/index.js): runs with project, name,
 *   status, created, url, config, summary; lowerIsBetter. Uses TrackerQuery.resolveField (query.js) for dotted config keys,
 *   TrackerFields (run-fields.js) for the params and metrics, TrackerStats (stats.js), TrackerFormat
 *   (format.js), plotly.js (vendored) styled by TrackerChartStyle (chart-style.js), the selects filled
 *   by TrackerChartControls.fillSelect (chart-controls.js).
 * Keeps the view in the hash through TrackerViewState (view-state.js):
 *   #project=<name>&metric=<summary name>&dir=min|max (defaults are left out), read before the first draw.
 * Builds every cell with textContent and puts every logged string into a chart through
 * TrackerChartStyle.text(): no logged string is ever parsed as HTML.
 */
(function () {
  "use strict";

  const index = window.TrackerIndex && window.TrackerIndex.load();
  const data = index && { runs: index.rows(), lowerIsBetter: index.lowerIsBetter };
  const { TrackerQuery: Query, TrackerStats: Stats, TrackerFormat: Format, TrackerViewState: View,
          TrackerChartStyle: Style, TrackerFields: Fields, TrackerChartControls: Controls } = window;
  if (!data || !Query || !Stats || !Format || !Style || !Fields || !Controls || !window.Plotly) return;
  const fields = Fields.ofIndex(index);

  const BEST_RUNS = 10;
  const PARAM_COLUMNS = 3; // the most important params shown beside the best runs
  const controls = {
    project: document.getElementById("project-select"),
    metric: document.getElementById("project-metric"),
    direction: document.getElementById("project-direction"),
  };
  const message = document.getElementById("project-message");
  const siteTitle = document.title.split(" · ").slice(-1)[0];
  const state = { project: null, metric: null, direction: null };

  /** [name, number of runs], most runs first: the first is the default project. */
  const projects = (() => {
    const counts = new Map();
    for (const run of data.runs) counts.set(run.project, (counts.get(run.project) || 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
  })();
  const defaultProject = projects.length ? projects[0][0] : null;

  function projectRuns() {
    return data.runs.filter((run) => run.project === state.project);
  }

  /** The run's summary value of the chosen metric when it is a finite number, else null. */
  function metricOf(run) {
    const value = (run.summary || {})[state.metric];
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  }

  const paramOf = (run, param) => Query.resolveField(run, `config.${param}`);

  function metricsOf(runs) {
    return fields.metrics.filter((name) => runs.some((run) => typeof (run.summary || {})[name] === "number"));
  }

  function defaultDirection(metric) {
    return Stats.lowerIsBetter(metric, data.lowerIsBetter) ? "min" : "max";
  }

  function cell(row, content, className) {
    const td = row.insertCell();
    if (className) td.className = className;
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content;
    return td;
  }

  function header(table, labels) {
    const row = table.createTHead().insertRow();
    for (const [label, numeric] of labels) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      if (numeric) th.className = "num";
      row.appendChild(th);
    }
  }

  function runLink(run) {
    return Object.assign(document.createElement("a"), { href: run.url, textContent: run.name || run.id, title: run.id });
  }

  /** The bars and the table of parameter importance; returns the most important params. */
  function drawImportance(runs, palette) {
    const { ranked, skipped } = Stats.importance(runs, fields.params, paramOf, metricOf);
    const chart = document.getElementById("importance-chart");
    const table = document.getElementById("importance-table");
    table.replaceChildren();
    if (ranked.length) {
      header(table, [["Parameter", false], ["Spearman ρ", true], ["Runs counted", true]]);
      const body = table.createTBody();
      for (const entry of ranked) {
        const row = body.insertRow();
        cell(row, entry.param);
        cell(row, entry.rho.toFixed(2), "num");
        cell(row, String(entry.runs), "num");
      }
    }
    const shown = ranked.slice().reverse(); // plotly draws the first bar at the bottom
    const layout = Style.layout(palette);
    layout.margin.l = 12;
    layout.height = Math.max(160, 36 * ranked.length + 60);
    layout.xaxis.range = [0, 1];
    layout.xaxis.title = { text: "|ρ|", font: { size: 11, color: palette.muted } };
    chart.hidden = !ranked.length;
    chart.style.height = `${layout.height}px`; // one bar per param: the chart grows with them
    window.Plotly.react(chart, ranked.length ? [{
      type: "bar", orientation: "h", y: shown.map((entry) => Style.text(entry.param)), x: shown.map((entry) => Math.abs(entry.rho)),
      marker: { color: shown.map((entry) => (entry.rho >= 0 ? palette.accent : palette.warn)) },
      text: shown.map((entry) => `${entry.rho >= 0 ? "+" : "−"}${Math.abs(entry.rho).toFixed(2)}`),
      textposition: "auto", customdata: shown.map((entry) => entry.runs),
      hovertemplate: "%{y}: ρ = %{text} over %{customdata} runs<extra></extra>",
    }] : [], layout, Style.CONFIG);
    const notes = [];
    if (!ranked.length) notes.push(`No numeric parameter varies over ${Stats.MIN_RUNS} or more runs with a value of this metric.`);
    const categorical = skipped.filter((entry) => entry.reason === "not a number").map((entry) => entry.param);
    const constant = skipped.filter((entry) => entry.reason === "the same in every run").map((entry) => entry.param);
    if (categorical.length) notes.push(`Not ranked, not numbers: ${categorical.join(", ")}.`);
    if (constant.length) notes.push(`The same in every run: ${constant.join(", ")}.`);
    document.getElementById("importance-skipped").textContent = notes.join(" ");
    return ranked.slice(0, PARAM_COLUMNS).map((entry) => entry.param);
  }

  function drawBest(runs, topParams) {
    const sign = state.direction === "min" ? 1 : -1;
    const best = runs.filter((run) => metricOf(run) !== null)
      .sort((a, b) => sign * (metricOf(a) - metricOf(b)) || (b.created || 0) - (a.created || 0))
      .slice(0, BEST_RUNS);
    const table = document.getElementById("best-table");
    table.replaceChildren();
    header(table, [["#", true], ["Run", false], [state.metric || "metric", true], ["Status", false]]
      .concat(topParams.map((param) => [param, true])));
    const body = table.createTBody();
    best.forEach((run, index) => {
      const row = body.insertRow();
      cell(row, String(index + 1), "num");
      cell(row, runLink(run), "name");
      cell(row, Format.formatValue(metricOf(run)), "num");
      cell(row, Object.assign(document.createElement("span"), { className: `badge status-${run.status}`, textContent: run.status }));
      for (const param of topParams) cell(row, Format.formatValue(paramOf(run, param)), "num");
    });
  }

  function drawProgress(runs, palette) {
    const timed = runs.filter((run) => metricOf(run) !== null && run.created).sort((a, b) => a.created - b.created);
    const when = timed.map((run) => new Date(run.created * 1000));
    const better = state.direction === "min" ? Math.min : Math.max;
    let best = null;
    const bestSoFar = timed.map((run) => (best = best === null ? metricOf(run) : better(best, metricOf(run))));
    const layout = Style.layout(palette);
    layout.xaxis.type = "date";
    layout.yaxis.title = { text: Style.text(state.metric || ""), font: { size: 11, color: palette.muted } };
    window.Plotly.react(document.getElementById("progress-chart"), [
      { type: "scatter", mode: "markers", name: "runs", x: when, y: timed.map(metricOf),
        text: timed.map((run) => Style.text(run.name || run.id)), customdata: timed.map((run) => run.url),
        marker: { color: palette.accent, size: 8, opacity: 0.75 }, hovertemplate: "%{text}: %{y:.6g}<extra></extra>" },
      { type: "scatter", mode: "lines", name: "best so far", x: when, y: bestSoFar,
        line: { shape: "hv", color: palette.ok, width: 2 }, hovertemplate: "best so far: %{y:.6g}<extra></extra>" },
    ], layout, Style.CONFIG);
  }

  function draw() {
    const runs = projectRuns();
    const palette = Style.palette();
    document.getElementById("project-title").textContent = state.project === null ? "Project" : `Project ${state.project}`;
    document.title = `${state.project ?? "Project"} · ${siteTitle}`;
    const withMetric = runs.filter((run) => metricOf(run) !== null).length;
    const missing = runs.length - withMetric;
    document.getElementById("project-summary").textContent = `${runs.length} run${runs.length === 1 ? "" : "s"}`
      + (state.metric ? `; ${withMetric} with a finite ${state.metric}`
        + (missing ? ` (${missing} left out: no value, NaN or infinite)` : "") : "");
    const problem = !state.metric ? "No run of this project has a numeric summary metric."
      : withMetric < Stats.MIN_RUNS
        ? `Parameter importance needs ${Stats.MIN_RUNS} or more runs with a finite ${state.metric}; this project has ${withMetric}.`
        : "";
    message.textContent = problem;
    message.hidden = !problem;
    const topParams = drawImportance(runs, palette);
    drawBest(runs, topParams);
    drawProgress(runs, palette);
  }

  /** Sets the state and the controls from the hash; a missing or unknown value means the default. */
  function restoreView(hash) {
    state.project = projects.some(([name]) => name === hash.project) ? hash.project : defaultProject;
    const metrics = metricsOf(projectRuns());
    Controls.fillSelect(controls.metric, metrics);
    state.metric = metrics.includes(hash.metric) ? hash.metric : (metrics[0] ?? null);
    state.direction = hash.dir === "min" || hash.dir === "max" ? hash.dir : defaultDirection(state.metric || "");
    controls.project.value = state.project;
    if (state.metric !== null) controls.metric.value = state.metric;
    controls.direction.value = state.direction;
  }

  function saveView() {
    if (!View) return;
    const metrics = metricsOf(projectRuns());
    View.save({
      project: state.project === defaultProject ? null : state.project,
      metric: state.metric === (metrics[0] ?? null) ? null : state.metric,
      dir: state.direction === defaultDirection(state.metric || "") ? null : state.direction,
    });
  }

  Controls.fillSelect(controls.project, projects.map(([name, count]) => [name, `${name} (${count})`]));
  controls.project.addEventListener("change", () => { restoreView({ project: controls.project.value }); saveView(); draw(); });
  controls.metric.addEventListener("change", () => {
    state.metric = controls.metric.value;
    state.direction = defaultDirection(state.metric);
    controls.direction.value = state.direction;
    saveView();
    draw();
  });
  controls.direction.addEventListener("change", () => { state.direction = controls.direction.value; saveView(); draw(); });
  restoreView(View ? View.read() : {});
  if (View) View.onChange([], (hash) => { restoreView(hash); draw(); });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  draw();
  document.getElementById("progress-chart").on("plotly_click", (event) => {
    const url = event.points && event.points[0] && event.points[0].customdata;
    if (url) location.href = url; // a point is a run: open its page
  });
})();
