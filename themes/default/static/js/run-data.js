/*
 * run-data.js: decoding a run's data file for the run page widgets (charts, CSV).
 *
 * Reads: window.TrackerData.runs[<run id>] (data/runs/<slug>.js) =
 *   {id, name, created (unix s), metrics: {name: series}, system: {name: series}}
 * where series = {values: [number | "NaN" | "Infinity" | "-Infinity"], times: [s since created],
 *                 stepRange: [first, count]  or  steps: [int]}.
 * The page names its run in <section id="charts" data-run-id="...">.
 * Exposes: window.TrackerRunData = {current(), decode(series)}.
 */
(function () {
  "use strict";

  const MARKERS = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

  function current() {
    const section = document.getElementById("charts");
    const runs = (window.TrackerData && window.TrackerData.runs) || {};
    return section ? runs[section.dataset.runId] || null : null;
  }

  /** {steps, values, times}: every point, non-finite values as real NaN / ±Infinity. */
  function decode(series) {
    const count = series.values.length;
    let steps = series.steps;
    if (!steps) {
      const [first] = series.stepRange || [0];
      steps = Array.from({ length: count }, (_, index) => first + index);
    }
    const values = series.values.map((value) => (typeof value === "number" ? value : (MARKERS[value] ?? NaN)));
    return { steps, values, times: series.times || [] };
  }

  window.TrackerRunData = Object.freeze({ current, decode });
})();
