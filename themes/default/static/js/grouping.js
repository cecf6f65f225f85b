/*
 * grouping.js: groups of runs, their aggregates and bands; the rules of tracker/grouping.py, and
 * both run tests/contracts/aggregate.json (docs/site.md, "Groups").
 *
 * Grouping: a field is what the filter language resolves (TrackerQuery.resolveField: project, group,
 *   status, tag, config.<key> or a bare key) or dataset.<name> (the row's datasets[name] hash). A run
 *   without the field (or with no tags) is in the group "(none)"; a list is one key, its items joined
 *   by ", "; numbers are keyed by value, anything else by its text (TrackerFormat.formatValue).
 *   Groups are ordered numbers first, then text ignoring case, "(none)" last, field by field.
 * Aggregates: count of finite numbers, skipped NaN / ±Infinity (also the data's "NaN" markers), mean,
 *   std (population, ddof=0, NumPy's default), min, max, stderr = std / sqrt(count); null when count is 0.
 * Band: the union of the runs' steps, each run's finite points interpolated linearly onto it within
 *   its own first and last step (never extrapolated), the aggregates of the runs at each step.
 * Reads: nothing at load; TrackerQuery (query.js) and TrackerFormat (format.js) when grouping.
 * Exposes: window.TrackerGrouping = {NONE, BANDS, valueOf(row, field), group(rows, fields),
 *   aggregate(values), aggregateRuns(rows, metrics), band(series), bounds(band, kind)}: group gives
 *   [{key: [text per field], runs: [row]}]; series are [{steps, values}] (TrackerRunData.decode's).
 */
(function () {
  "use strict";

  const NONE = "(none)";
  const BANDS = Object.freeze(["std", "minmax", "stderr"]);
  const DATASET_PREFIXES = ["dataset.", "datasets."];
  const MARKERS = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

  function valueOf(row, field) {
    for (const prefix of DATASET_PREFIXES) {
      if (field.startsWith(prefix)) {
        const value = (row.datasets || {})[field.slice(prefix.length)];
        return value === undefined ? null : value;
      }
    }
    return window.TrackerQuery.resolveField(row, field);
  }

  /** A key part's identity: numbers by value, anything else by its text (cheap: no formatting). */
  function identityOf(value) {
    if (value === null || value === undefined || (Array.isArray(value) && !value.length)) return "none";
    if (typeof value === "number" && Number.isFinite(value)) return `n:${value}`;
    if (typeof value === "string") return `s:${value}`; // formatValue gives a string itself
    return `s:${textOf(value)}`;
  }

  function textOf(value) {
    const format = window.TrackerFormat.formatValue;
    return Array.isArray(value) ? value.map(format).join(", ") : format(value);
  }

  /** {text, order} of one key part; order is [rank, ...] as in tracker/grouping.py. */
  function keyOf(value) {
    if (value === null || value === undefined || (Array.isArray(value) && !value.length)) return { text: NONE, order: [2] };
    const text = textOf(value);
    if (typeof value === "number" && Number.isFinite(value)) return { text, order: [0, value] };
    return { text, order: [1, text.toLowerCase(), text] };
  }

  function compareOrder(left, right) {
    for (let index = 0; index < Math.max(left.length, right.length); index++) {
      if (left[index] === right[index]) continue;
      if (left[index] === undefined) return -1;
      if (right[index] === undefined) return 1;
      return left[index] < right[index] ? -1 : 1;
    }
    return 0;
  }

  /** The rows grouped by each field in turn: [{key: [text], runs: [row]}], ordered; rows keep their order. */
  function group(rows, fields, value = valueOf) {
    const groups = new Map();
    for (const row of rows) {
      const values = fields.map((field) => value(row, field));
      const identity = values.map(identityOf).join("\u0000"); // formatted only once per group, below
      let found = groups.get(identity);
      if (!found) {
        const parts = values.map(keyOf);
        found = { key: parts.map((part) => part.text), runs: [], order: parts.map((part) => part.order) };
        groups.set(identity, found);
      }
      found.runs.push(row);
    }
    const ordered = [...groups.values()].sort((a, b) => {
      for (let index = 0; index < a.order.length; index++) {
        const order = compareOrder(a.order[index], b.order[index]);
        if (order) return order;
      }
      return 0;
    });
    return ordered.map(({ key, runs }) => ({ key, runs }));
  }

  /** A metric value as a number (markers too), or null for what is no number. */
  function number(value) {
    if (typeof value === "string") return Object.hasOwn(MARKERS, value) ? MARKERS[value] : null;
    return typeof value === "number" ? value : null;
  }

  function stats(finite, skipped) {
    const count = finite.length;
    if (!count) return { count: 0, skipped, mean: null, std: null, min: null, max: null, stderr: null };
    let total = 0;
    for (const value of finite) total += value;
    const mean = total / count;
    let squares = 0;
    for (const value of finite) squares += (value - mean) * (value - mean);
    const std = Math.sqrt(squares / count);
    let min = finite[0], max = finite[0]; // a loop: spreading 10,000 runs' values into Math.min may overflow the stack
    for (const value of finite) { if (value < min) min = value; if (value > max) max = value; }
    return { count, skipped, mean, std, min, max, stderr: std / Math.sqrt(count) };
  }

  /** {count, skipped, mean, std, min, max, stderr} of the finite numbers among values. */
  function aggregate(values) {
    const finite = [];
    let skipped = 0;
    for (const value of values) {
      const found = number(value);
      if (found === null) continue;
      if (Number.isFinite(found)) finite.push(found);
      else skipped += 1;
    }
    return stats(finite, skipped);
  }

  /** {metric: aggregate} of the rows' summary values. */
  function aggregateRuns(rows, metrics) {
    const result = {};
    for (const metric of metrics) {
      result[metric] = aggregate(rows.map((row) => (row.summary || {})[metric]));
    }
    return result;
  }

  /**
   * Writes the run's value at each union step within its own range, linearly between its points,
   * into row (NaN elsewhere). steps/values: the run's finite points, steps ascending.
   */
  function interpolateInto(steps, values, union, row) {
    const first = steps[0], last = steps[steps.length - 1];
    let at = 0;
    for (let index = 0; index < union.length; index++) {
      const step = union[index];
      if (step < first) continue;
      if (step > last) break;
      while (steps[at] < step) at += 1;
      if (steps[at] === step) { row[index] = values[at]; continue; }
      const leftStep = steps[at - 1], left = values[at - 1];
      row[index] = left + (values[at] - left) * ((step - leftStep) / (steps[at] - leftStep));
    }
  }

  /** A run's finite points as {steps, values}, ordered by step (stably: the first of a step logged twice). */
  function finitePoints(series, counter) {
    const steps = [], values = [];
    let ordered = true;
    series.values.forEach((value, index) => {
      const found = number(value);
      if (found === null) return;
      if (!Number.isFinite(found)) { counter.skipped += 1; return; }
      if (steps.length && series.steps[index] < steps[steps.length - 1]) ordered = false;
      steps.push(series.steps[index]);
      values.push(found);
    });
    if (ordered) return { steps, values };
    const order = steps.map((_, index) => index).sort((a, b) => steps[a] - steps[b] || a - b);
    return { steps: order.map((index) => steps[index]), values: order.map((index) => values[index]) };
  }

  /**
   * The band of [{steps, values}]: {steps, skipped, count, mean, std, min, max, stderr}, lists over the
   * steps. Runs' values at a step are summed in the runs' order, as tracker/grouping.py sums them.
   */
  function band(series) {
    const counter = { skipped: 0 };
    const runs = series.map((one) => finitePoints(one, counter)).filter((points) => points.steps.length);
    const all = [];
    for (const points of runs) for (const step of points.steps) all.push(step);
    all.sort((a, b) => a - b);
    const union = all.filter((step, index) => index === 0 || step !== all[index - 1]);
    const grid = runs.map((points) => {
      const row = new Float64Array(union.length).fill(NaN);
      interpolateInto(points.steps, points.values, union, row);
      return row;
    });
    const result = { steps: union, skipped: counter.skipped, count: [], mean: [], std: [], min: [], max: [], stderr: [] };
    const atStep = [];
    for (let index = 0; index < union.length; index++) {
      atStep.length = 0;
      for (const row of grid) if (!Number.isNaN(row[index])) atStep.push(row[index]);
      const entry = stats(atStep, 0);
      for (const name of ["count", "mean", "std", "min", "max", "stderr"]) result[name].push(entry[name]);
    }
    return result;
  }

  /** [low, high] of a band for kind: "std" mean ± std, "minmax", "stderr" mean ± stderr. */
  function bounds(result, kind) {
    if (kind === "minmax") return [result.min, result.max];
    if (!BANDS.includes(kind)) throw new Error(`unknown band "${kind}"; choose one of ${BANDS.join(", ")}`);
    const spread = result[kind];
    return [result.mean.map((mean, index) => (mean === null ? null : mean - spread[index])),
            result.mean.map((mean, index) => (mean === null ? null : mean + spread[index]))];
  }

  window.TrackerGrouping = Object.freeze({ NONE, BANDS, valueOf, group, aggregate, aggregateRuns, band, bounds });
})();
