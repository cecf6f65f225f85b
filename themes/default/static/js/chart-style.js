/*
 * chart-style.js: one look for every plotly chart of the site (run, compare and project pages).
 * Reads: the theme's CSS custom properties (--text, --muted, --grid, ...), so charts follow light/dark.
 * Exposes: window.TrackerChartStyle = {palette(), layout(palette), text(value), CONFIG}: layout() is a
 * fresh object each call (axes included), for a page to adjust before Plotly.react; text() is how
 * every logged string (run, metric and config names, config values) goes into a trace or layout.
 */
(function () {
  "use strict";

  const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  const PLOTLY_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

  /**
   * A logged string as plotly text. Plotly reads a subset of HTML in every label it draws (legend,
   * axis titles and category ticks, hover text, scatter text, parcoords labels): "<a href=...>" in a
   * run name would become a live link, "<b>" bold. Escaped, it shows literally (plotly decodes the
   * entities once when it draws). Anything else (null, numbers) goes through String().
   */
  function text(value) {
    return String(value).replace(/[&<>]/g, (char) => PLOTLY_ESCAPES[char]);
  }

  function palette() {
    const style = getComputedStyle(document.documentElement);
    const read = (name) => style.getPropertyValue(name).trim();
    return { text: read("--text"), muted: read("--muted"), grid: read("--grid"), accent: read("--accent"),
             bad: read("--bad"), warn: read("--warn"), ok: read("--ok"), surface: read("--surface"),
             border: read("--border") };
  }

  function layout(colors) {
    const axis = () => ({ gridcolor: colors.grid, zerolinecolor: colors.border, linecolor: colors.border,
                          tickfont: { color: colors.muted }, automargin: true });
    return {
      margin: { l: 48, r: 12, t: 8, b: 36 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: colors.text },
      hovermode: "closest", showlegend: false,
      hoverlabel: { bgcolor: colors.surface, bordercolor: colors.border, font: { color: colors.text } },
      xaxis: axis(), yaxis: axis(),
    };
  }

  window.TrackerChartStyle = Object.freeze({ palette, layout, text, CONFIG });
})();
