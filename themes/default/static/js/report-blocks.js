/*
 * report-blocks.js: the report page's drawn views (charts, parameter importance, media panels).
 *
 * Reads: window.TrackerData.reports[<slug>] (data/reports/<slug>.js, written by sitegen/reports.py;
 * docs/site-data.md) = {blocks: {<block number>: block}}, the slug and site root on
 * <article id="report" data-report data-root>, and each block's <section data-block="<number>">.
 *   chart:      {metric, groupBy, band, traces: [{name, id, url, group, points, series}], groups:
 *               [{key, runs: [id], steps, mean, low, high, count, skipped}]}, where series is a run
 *               data file's series without times ({values, valueBits, stepRange | steps}), decoded
 *               with TrackerRunData.decode (run-data.js); groups (with group_by) are the mean line
 *               and band of each group by step, made at build time by tracker/grouping.py;
 *   importance: {metric, runs, ranked: [{param, rho, runs}], skipped: [{param, reason}]};
 *   media:      {run: {id, name, url, slug}, key, mediaKind, step}, drawn by TrackerMediaPanels
 *               (media-panels.js) from TrackerData.media[run id] (data/media/<slug>.js).
 * Needs plotly, run-data.js and chart-style.js before it (media-panels.js for media blocks). Tables
 * (runs, compare) are HTML from the build and need no script. Every logged string goes into plotly
 * through TrackerChartStyle.text(). Exposes nothing.
 */
(function () {
  "use strict";

  const article = document.getElementById("report");
  const Style = window.TrackerChartStyle;
  const RunData = window.TrackerRunData;
  if (!article || !Style || !RunData || !window.Plotly) return;
  const report = ((window.TrackerData || {}).reports || {})[article.dataset.report];
  if (!report) return;
  const root = article.dataset.root || "";

  // plotly's default colours, named here so that one group keeps one colour across its runs.
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                  "#bcbd22", "#17becf"];

  /** "#1f77b4" at ``alpha`` as rgba(): a group's band under its mean line. */
  function faded(hex, alpha) {
    const value = parseInt(hex.slice(1), 16);
    return `rgba(${value >> 16},${(value >> 8) & 255},${value & 255},${alpha})`;
  }

  function runTrace(trace, color, grouped) {
    const columns = RunData.decode(trace.series);
    const name = Style.text(trace.name);
    return {
      type: "scatter", mode: columns.values.length > 1 ? "lines" : "markers", name,
      x: columns.steps, y: columns.values, line: { color, width: grouped ? 1 : 1.6 }, marker: { color },
      // a group's runs toggle with its legend entry: a legend line per run crowds a phone's screen
      opacity: grouped ? 0.45 : 1, legendgroup: grouped ? Style.text(trace.group) : undefined, showlegend: !grouped,
      hovertemplate: `${name}<br>step %{x}<br>%{y}<extra></extra>`,
    };
  }

  /** Per group: its band (a filled polygon), its mean line, and its runs as thin lines, one legend entry. */
  function groupTraces(block) {
    const traces = [];
    const byId = new Map(block.traces.map((trace) => [trace.id, trace]));
    block.groups.forEach((group, index) => {
      const color = COLORS[index % COLORS.length];
      const key = Style.text(group.key);
      const title = `${Style.text(block.groupBy)} = ${key}`;
      const steps = [], low = [], high = [];
      group.steps.forEach((step, at) => {
        if (group.low[at] === null || group.high[at] === null) return;
        steps.push(step); low.push(group.low[at]); high.push(group.high[at]);
      });
      traces.push({ type: "scatter", mode: "lines", name: `${title} (${block.band})`, legendgroup: key,
                    showlegend: false, hoverinfo: "skip", x: steps.concat(steps.slice().reverse()),
                    y: high.concat(low.slice().reverse()), fill: "toself", fillcolor: faded(color, 0.18),
                    line: { width: 0, color } });
      traces.push({ type: "scatter", mode: "lines", name: `${title}: mean of ${group.runs.length}`,
                    legendgroup: key, x: group.steps, y: group.mean, line: { color, width: 2.6 },
                    customdata: group.count,
                    hovertemplate: `${title}<br>step %{x}<br>mean %{y} of %{customdata} runs<extra></extra>` });
      for (const id of group.runs) traces.push(runTrace(byId.get(id), color, true));
    });
    return traces;
  }

  function chartTraces(block) {
    if (block.groupBy) return groupTraces(block);
    return block.traces.map((trace, index) => runTrace(trace, COLORS[index % COLORS.length], false));
  }

  function drawChart(plot, block, palette) {
    const layout = Style.layout(palette);
    layout.showlegend = true;
    layout.legend = { orientation: "h", x: 0, y: -0.12, yanchor: "top", font: { color: palette.text } };
    layout.yaxis.title = { text: Style.text(block.metric), font: { size: 11, color: palette.muted } };
    return window.Plotly.react(plot, chartTraces(block), layout, Style.CONFIG);
  }

  function drawImportance(plot, block, palette) {
    const ranked = block.ranked.slice().reverse(); // plotly draws the first bar at the bottom
    const layout = Style.layout(palette);
    layout.xaxis.range = [0, 1];
    layout.xaxis.title = { text: `|Spearman ρ| with ${Style.text(block.metric)}`, font: { size: 11, color: palette.muted } };
    layout.margin.l = 120;
    return window.Plotly.react(plot, [{
      type: "bar", orientation: "h", x: ranked.map((item) => Math.abs(item.rho)),
      y: ranked.map((item) => Style.text(item.param)),
      marker: { color: ranked.map((item) => (item.rho >= 0 ? palette.accent : palette.warn)) },
      text: ranked.map((item) => `${item.rho >= 0 ? "+" : "−"}${Math.abs(item.rho).toFixed(2)}`),
      customdata: ranked.map((item) => item.runs), hovertemplate: "%{y}: %{text} over %{customdata} runs<extra></extra>",
    }], layout, Style.CONFIG);
  }

  function drawMedia(holder, block) {
    const Panels = window.TrackerMediaPanels;
    const data = ((window.TrackerData || {}).media || {})[block.run.id];
    const series = data && (data.keys || []).find((entry) => entry.key === block.key);
    if (!Panels || !series) {
      holder.textContent = `The media of ${block.run.name} are not in this site.`;
      return Promise.resolve();
    }
    return Panels.render(series.kind, holder, Panels.itemAt(series, block.step), { root, series, step: block.step });
  }

  function drawAll() {
    const palette = Style.palette();
    for (const section of article.querySelectorAll("section[data-block]")) {
      const block = report.blocks[section.dataset.block];
      if (!block) continue;
      if (block.kind === "chart") drawChart(section.querySelector(".report-plot"), block, palette);
      else if (block.kind === "importance") drawImportance(section.querySelector(".report-plot"), block, palette);
    }
  }

  drawAll();
  for (const section of article.querySelectorAll("section[data-kind='media'][data-block]")) {
    const block = report.blocks[section.dataset.block];
    if (block) drawMedia(section.querySelector(".report-media"), block);
  }
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", drawAll);
})();
