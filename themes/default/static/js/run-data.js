/*
 * run-data.js: decoding a run's data file for the run and compare page widgets (charts, CSV).
 *
 * Reads: window.TrackerData.runs[<run id>] (data/runs/<slug>.js, written by sitegen/run_data.py;
 * docs/site-data.md) =
 *   {id, name, created (unix s), timeAxes: [[ms since created, ms since the previous timed point | null, ...]],
 *    metrics: {name: series}, system: {name: series}}
 * where series = {values: base64 of little-endian floats, valueBits: 32 | 64, times: <index into timeAxes>,
 *                 stepRange: [first, count, stride]  or  steps: [int]}.
 * The page names its run in <section id="charts" data-run-id="...">.
 * Exposes: window.TrackerRunData = {current(), resolve(data), decode(series), smooth(values, weight),
 * downsample(values), nonFiniteTrace(series, x, color, prefix), valueText(value, series)}: after
 * resolve(), each series' times is its array of seconds since created (null where a point has none);
 * decode() gives plain arrays. The series helpers are shared by the run page's charts and the compare page's.
 * Uses: window.TrackerBase64 (base64.js, loaded before this) to unpack the values.
 */
(function () {
  "use strict";

  const MAX_BUCKETS = 2500; // up to 2 points per bucket: at most ~5000 points per trace (the build's
                           // per-series budget, sitegen/load.py: a run page draws every point it holds)
  const decoded = new WeakMap(); // series -> its decoded columns: charts redraw, the base64 is read once

  function current() {
    const section = document.getElementById("charts");
    const runs = (window.TrackerData && window.TrackerData.runs) || {};
    return section ? resolve(runs[section.dataset.runId] || null) : null;
  }

  /** Seconds since created from an axis of millisecond deltas (null stays null); each sum is exact. */
  function axisSeconds(deltas) {
    let total = 0;
    return deltas.map((delta) => {
      if (delta === null) return null;
      total += delta;
      return total / 1000;
    });
  }

  /** Replaces each series' time-axis index by the shared array of seconds it names; safe to call twice. */
  function resolve(data) {
    if (!data) return data;
    const axes = (data.timeAxes || []).map(axisSeconds);
    for (const group of [data.metrics || {}, data.system || {}]) {
      for (const series of Object.values(group)) {
        if (typeof series.times === "number") series.times = axes[series.times] || [];
      }
    }
    return data;
  }

  /** The values of a series as a plain array: base64 -> little-endian float32 or float64. */
  function unpack(text, bits) {
    const bytes = window.TrackerBase64.bytesOf(text || "");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = bits === 64 ? 8 : 4;
    const values = new Array(Math.floor(bytes.length / size));
    for (let index = 0; index < values.length; index++) {
      values[index] = size === 8 ? view.getFloat64(index * 8, true) : view.getFloat32(index * 4, true);
    }
    return values;
  }

  /** {steps, values, times}: every point, non-finite values as real NaN / ±Infinity. */
  function decode(series) {
    let columns = decoded.get(series);
    if (!columns) {
      const values = unpack(series.values, series.valueBits);
      let steps = series.steps;
      if (!steps) {
        const [first, , stride] = series.stepRange || [0, 0, 1];
        steps = Array.from({ length: values.length }, (_, index) => first + index * (stride || 1));
      }
      columns = { steps, values };
      decoded.set(series, columns);
    }
    return { steps: columns.steps, values: columns.values, times: series.times || [] };
  }

  /**
   * A value as text for the CSV download: float32 values by the shortest decimal that reads back as
   * the same float32 (0.1, not 0.10000000149011612), float64 values as JavaScript writes them.
   */
  function valueText(value, series) {
    if (!Number.isFinite(value) || series.valueBits === 64) return String(value);
    for (let digits = 1; digits < 9; digits++) {
      const text = String(Number(value.toPrecision(digits)));
      if (Math.fround(Number(text)) === value) return text;
    }
    return String(Number(value.toPrecision(9)));
  }

  function smooth(values, weight) {
    if (!weight) return values;
    let last = 0, debias = 0;
    return values.map((value) => {
      if (!Number.isFinite(value)) return value;
      last = last * weight + (1 - weight) * value;
      debias = debias * weight + (1 - weight);
      return last / debias;
    });
  }

  /** Indices to draw: every finite point, or per bucket the first, min and max (in x order). */
  function downsample(values) {
    const finite = [];
    values.forEach((value, index) => { if (Number.isFinite(value)) finite.push(index); });
    if (finite.length <= MAX_BUCKETS * 2) return finite;
    const keep = new Set([finite[0], finite[finite.length - 1]]);
    const size = finite.length / MAX_BUCKETS;
    for (let bucket = 0; bucket < MAX_BUCKETS; bucket++) {
      let low = null, high = null;
      for (let k = Math.floor(bucket * size); k < Math.min(finite.length, Math.floor((bucket + 1) * size)); k++) {
        const index = finite[k];
        if (low === null || values[index] < values[low]) low = index;
        if (high === null || values[index] > values[high]) high = index;
      }
      if (low !== null) { keep.add(low); keep.add(high); }
    }
    return [...keep].sort((a, b) => a - b);
  }

  /**
   * A plotly marker trace for every NaN and ±Infinity of a decoded series, or null when there is none:
   * drawn at the chart's top (NaN ×, +Infinity ▲) or bottom (-Infinity ▼) edge on a hidden second
   * y axis spanning 0..1 (the layout's yaxis2), so they are shown, never dropped. ``prefix`` is plotly
   * text: a logged name in it must already be escaped (TrackerChartStyle.text).
   */
  function nonFiniteTrace(series, x, color, prefix = "") {
    const special = [];
    series.values.forEach((value, index) => { if (!Number.isFinite(value)) special.push(index); });
    if (!special.length) return null;
    const label = (value) => (Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    return {
      type: "scatter", mode: "markers", name: "NaN / Infinity", yaxis: "y2", cliponaxis: false, showlegend: false,
      x: special.map((index) => x[index]),
      y: special.map((index) => (series.values[index] === -Infinity ? 0.03 : 0.97)),
      text: special.map((index) => `${prefix}${label(series.values[index])} at step ${series.steps[index]}`),
      hovertemplate: "%{text}<extra></extra>",
      marker: { color, size: 9, symbol: special.map((index) => (Number.isNaN(series.values[index]) ? "x"
        : series.values[index] > 0 ? "triangle-up" : "triangle-down")) },
    };
  }

  /** The hidden axis nonFiniteTrace() draws on. */
  const EDGE_AXIS = Object.freeze({ overlaying: "y", range: [0, 1], visible: false, fixedrange: true });

  window.TrackerRunData = Object.freeze({ current, resolve, decode, valueText, smooth, downsample, nonFiniteTrace,
                                          EDGE_AXIS });
})();
