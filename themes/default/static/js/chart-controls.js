/*
 * chart-controls.js: the controls that every page of metric charts shares (the x axis, EMA
 * smoothing and log scale of partials/chart_controls.html), and filling a <select> with options.
 * One copy of each, so that the run page (run-charts.js) and the compare page (compare-charts.js)
 * read, draw, save and restore their controls alike; the compare and project pages fill their
 * selects with fillSelect.
 *
 * Reads: the controls #chart-x (step | relative | wall), #chart-smoothing (0..0.99) with its
 * read-out #chart-smoothing-value, and #chart-log; a page without charts of metrics has none of them,
 * and every function here then leaves them alone. Page data: only the series and the run's
 * `created` (unix s) that a page passes in (see run-data.js).
 * Keeps nothing itself: saved(controls) gives the hash keys x=relative|wall&smooth=0.6&log=1
 * (defaults as null, to be left out) for the page to save through TrackerViewState (view-state.js),
 * and restore(controls, hash) sets the controls back from them.
 * Exposes: window.TrackerChartControls = {find(), settings(controls), xValues(series, created, mode),
 *   applyAxes(layout, view, palette, edgeAxis), restore(controls, hash), saved(controls),
 *   listen(controls, onChange), fillSelect(select, options)}.
 */
(function () {
  "use strict";

  const DEFAULT_X = "step";
  const X_TITLES = { step: "step", relative: "seconds since start", wall: "" };

  /** The page's controls; each is null where the page has none. */
  function find() {
    return {
      x: document.getElementById("chart-x"),
      smoothing: document.getElementById("chart-smoothing"),
      smoothingValue: document.getElementById("chart-smoothing-value"),
      log: document.getElementById("chart-log"),
    };
  }

  /** {mode, weight, log}: what the controls ask of a chart now (the defaults without controls). */
  function settings(controls) {
    return {
      mode: controls.x ? controls.x.value : DEFAULT_X,
      weight: controls.smoothing ? Number(controls.smoothing.value) : 0,
      log: Boolean(controls.log && controls.log.checked),
    };
  }

  /** A decoded series' x values for the mode: steps, seconds since the run started, or dates. */
  function xValues(series, created, mode) {
    if (mode === "step") return series.steps;
    if (mode === "relative") return series.times;
    return series.times.map((t) => (t === null ? null : new Date((created + t) * 1000)));
  }

  /**
   * Sets a layout's axes (TrackerChartStyle.layout) for the settings: a date or linear x axis and
   * its title, a log or linear y axis, and the hidden axis of the NaN / ±Infinity markers
   * (TrackerRunData.EDGE_AXIS).
   */
  function applyAxes(layout, view, palette, edgeAxis) {
    Object.assign(layout.xaxis, { type: view.mode === "wall" ? "date" : "linear",
      title: { text: X_TITLES[view.mode], font: { size: 11, color: palette.muted } } });
    layout.yaxis.type = view.log ? "log" : "linear";
    layout.yaxis2 = Object.assign({}, edgeAxis);
    return layout;
  }

  /** Sets the controls from the hash; a missing or unknown value means the default. */
  function restore(controls, hash) {
    if (!controls.x) return;
    controls.x.value = [...controls.x.options].some((option) => option.value === hash.x) ? hash.x : DEFAULT_X;
    const weight = Number(hash.smooth);
    controls.smoothing.value = Number.isFinite(weight) ? weight : 0; // the range input clamps it to 0..0.99
    controls.smoothingValue.textContent = controls.smoothing.value;
    controls.log.checked = hash.log === "1";
  }

  /** The controls as hash keys, null where a control has its default (or the page has none). */
  function saved(controls) {
    return {
      x: controls.x && controls.x.value !== DEFAULT_X ? controls.x.value : null,
      smooth: controls.smoothing && Number(controls.smoothing.value) ? controls.smoothing.value : null,
      log: controls.log && controls.log.checked ? "1" : null,
    };
  }

  /** Calls onChange() after the user changes any control (the smoothing read-out follows its slider). */
  function listen(controls, onChange) {
    if (controls.smoothing) {
      controls.smoothing.addEventListener("input", () => {
        controls.smoothingValue.textContent = controls.smoothing.value;
        onChange();
      });
    }
    if (controls.x) controls.x.addEventListener("change", onChange);
    if (controls.log) controls.log.addEventListener("change", onChange);
  }

  /** Replaces a select's options: each a value, or [value, label]; labels are set as text. */
  function fillSelect(select, options) {
    select.replaceChildren(...options.map((option) => {
      const [value, label] = Array.isArray(option) ? option : [option, option];
      return Object.assign(document.createElement("option"), { value, textContent: label });
    }));
  }

  window.TrackerChartControls = Object.freeze({ find, settings, xValues, applyAxes, restore, saved, listen, fillSelect });
})();
