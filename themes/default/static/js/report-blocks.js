/*
 * report-blocks.js: the report page's drawn views (charts, parameter importance, media panels).
 *
 * Reads: window.TrackerData.reports[<slug>] (data/reports/<slug>.js, written by sitegen/reports.py;
 * docs/site-data.md) = {blocks: {<block number>: block}}, the slug and site root on
 * <article id="report" data-report data-root>, and each block's <section data-block="<number>">.
 *   chart:      {metric, groupBy, traces: [{name, id, url, group, points, series}]}, where series is a
 *               run data file's series without times ({values, valueBits, stepRange | steps}),
 *               decoded with TrackerRunData.decode (run-data.js);
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

  function chartTraces(block) {
    const groups = [];
    return block.traces.map((trace, index) => {
      const columns = RunData.decode(trace.series);
      let color = COLORS[index % COLORS.length];
      let legendgroup;
      if (block.groupBy) {
        if (!groups.includes(trace.group)) groups.push(trace.group);
        color = COLORS[groups.indexOf(trace.group) % COLORS.length];
        legendgroup = Style.text(trace.group);
      }
      const name = Style.text(trace.name);
      return {
        type: "scatter", mode: columns.values.length > 1 ? "lines" : "markers", name,
        x: columns.steps, y: columns.values, line: { color, width: 1.6 }, marker: { color },
        legendgroup, legendgrouptitle: legendgroup && groups.indexOf(trace.group) === groups.length - 1
          ? { text: `${Style.text(block.groupBy)} = ${legendgroup}` } : undefined,
        hovertemplate: `${name}<br>step %{x}<br>%{y}<extra></extra>`,
      };
    });
  }

  function drawChart(plot, block, palette) {
    const layout = Style.layout(palette);
    layout.showlegend = true;
    layout.legend = { orientation: "h", y: -0.2, font: { color: palette.text } };
    layout.margin.b = 48;
    layout.xaxis.title = { text: "step", font: { size: 11, color: palette.muted } };
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
