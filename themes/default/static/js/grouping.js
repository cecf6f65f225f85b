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

  /** {identity, text, order} of one key part; order is [rank, ...] as in tracker/grouping.py. */
  function keyOf(value) {
    const format = window.TrackerFormat.formatValue;
    if (value === null || value === undefined || (Array.isArray(value) && !value.length)) {
      return { identity: "none", text: NONE, order: [2] };
    }
    if (typeof value === "number" && Number.isFinite(value)) {
      return { identity: `n:${value}`, text: format(value), order: [0, value] };
    }
    const text = Array.isArray(value) ? value.map(format).join(", ") : format(value);
    return { identity: `s:${text}`, text, order: [1, text.toLowerCase(), text] };
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
      const parts = fields.map((field) => keyOf(value(row, field)));
      const identity = JSON.stringify(parts.map((part) => part.identity));
      let found = groups.get(identity);
      if (!found) {
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

  /** Appends the run's value at each union step within its own range, linearly between its points. */
  function interpolateInto(points, union, atStep) {
    const first = points[0][0], last = points[points.length - 1][0];
    let at = 0;
    for (let index = 0; index < union.length; index++) {
      const step = union[index];
      if (step < first) continue;
      if (step > last) break;
      while (points[at][0] < step) at += 1;
      const [rightStep, right] = points[at];
      if (rightStep === step) { atStep[index].push(right); continue; }
      const [leftStep, left] = points[at - 1];
      atStep[index].push(left + (right - left) * ((step - leftStep) / (rightStep - leftStep)));
    }
  }

  /** The band of [{steps, values}]: {steps, skipped, count, mean, std, min, max, stderr}, lists over the steps. */
  function band(series) {
    const runs = [];
    let skipped = 0;
    for (const { steps, values } of series) {
      const points = [];
      values.forEach((value, index) => {
        const found = number(value);
        if (found !== null && Number.isFinite(found)) points.push([steps[index], found]);
        else if (found !== null) skipped += 1;
      });
      if (points.length) runs.push(points.sort((a, b) => a[0] - b[0])); // stable: the first of a step logged twice
    }
    const union = [...new Set(runs.flatMap((points) => points.map((point) => point[0])))].sort((a, b) => a - b);
    const atStep = union.map(() => []);
    for (const points of runs) interpolateInto(points, union, atStep);
    const perStep = atStep.map((values) => stats(values, 0));
    const result = { steps: union, skipped };
    for (const name of ["count", "mean", "std", "min", "max", "stderr"]) result[name] = perStep.map((entry) => entry[name]);
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
