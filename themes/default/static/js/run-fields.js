/*
 * run-fields.js: which config keys and metrics a list of runs has, and which columns the index
 * shows by default. Worked out here from the rows rather than written by the build, so that a
 * rebuild of 10,000 runs joins the rows of data/index.js as text and never parses them.
 *
 * Reads: runs shaped like the rows of data/index.js ({config, summary, ...}), oldest first.
 * tracker/formatting.py (flatten, run_fields) follows the same cases: tests/contracts/flatten.json
 * and tests/contracts/columns.json, which both test suites run.
 * Exposes: window.TrackerFields = {of(runs), flatten(config)}: of(runs) ->
 *   {params: [dotted config keys], metrics: [summary names], defaultColumns: ["config.lr", "summary.acc", ...]},
 *   names in the order they first appear; flatten(config) -> {"opt.lr": 1, ...}.
 */
(function () {
  "use strict";

  const DEFAULT_PARAM_COLUMNS = 4; // the first config keys whose value differs between runs
  const DEFAULT_METRIC_COLUMNS = 4;

  /** Nested objects as dotted keys, as tracker.formatting.flatten: {opt: {lr: 1}} -> {"opt.lr": 1};
   * an empty object is a value. The result has no prototype, so config keys such as "__proto__"
   * or "constructor" are kept as plain keys rather than lost or shadowed. */
  function flatten(value, prefix = "", into = Object.create(null)) {
    for (const [key, item] of Object.entries(value || {})) {
      if (item && typeof item === "object" && !Array.isArray(item) && Object.keys(item).length) {
        flatten(item, `${prefix}${key}.`, into);
      } else {
        into[`${prefix}${key}`] = item;
      }
    }
    return into;
  }

  /**
   * A string equal for config values that are the same, as tracker.formatting.same_as_json: numbers
   * by value (1 and 1.0 are one number here), true apart from 1 and "1" apart from 1, objects
   * whatever their key order, a missing value as null. tests/contracts/columns.json pins the rule.
   */
  function comparable(value) {
    if (value === null || value === undefined) return "null";
    if (typeof value === "object") return `json:${JSON.stringify(canonical(value))}`; // arrays, empty objects
    if (typeof value === "number" && !Number.isFinite(value)) return `string:${nonFiniteMarker(value)}`;
    return `${typeof value}:${value}`; // a number as its shortest text: -0 and 0 alike
  }

  /** Arrays and objects as [type, items] with object keys sorted, to compare as JSON text. */
  function canonical(value) {
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) return ["array", value.map(canonical)];
    if (typeof value === "object") {
      return ["object", Object.keys(value).sort().map((key) => [key, canonical(value[key])])];
    }
    if (typeof value === "number" && !Number.isFinite(value)) return ["string", nonFiniteMarker(value)];
    return [typeof value, value];
  }

  /** The index holds non-finite numbers as these markers: a number here is the same as its marker. */
  function nonFiniteMarker(value) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }

  function of(runs) {
    const missing = comparable(null); // a run without a key has it as null, as in tracker.formatting
    const first = new Map(); // config key -> comparable() of the value in the first run that has it
    const counts = new Map(); // config key -> how many runs have it
    const varying = new Set();
    const metrics = new Set();
    runs.forEach((run, index) => {
      for (const [key, value] of Object.entries(flatten(run.config))) {
        const seen = comparable(value);
        if (!first.has(key)) {
          first.set(key, seen);
          if (index > 0 && seen !== missing) varying.add(key); // earlier runs lack it
        } else if (first.get(key) !== seen) {
          varying.add(key);
        }
        counts.set(key, (counts.get(key) || 0) + 1);
      }
      for (const name of Object.keys(run.summary || {})) metrics.add(name);
    });
    for (const [key, seen] of first) {
      if (counts.get(key) < runs.length && seen !== missing) varying.add(key); // later runs lack it
    }
    const params = [...first.keys()];
    return {
      params,
      metrics: [...metrics],
      defaultColumns: params.filter((key) => varying.has(key)).slice(0, DEFAULT_PARAM_COLUMNS)
        .map((key) => `config.${key}`)
        .concat([...metrics].slice(0, DEFAULT_METRIC_COLUMNS).map((name) => `summary.${name}`)),
    };
  }

  window.TrackerFields = Object.freeze({ of, flatten });
})();
