/*
 * run-fields.js: which config keys and metrics a list of runs has, and which columns the index
 * shows by default. Worked out here from the rows rather than written by the build, so that a
 * rebuild of 10,000 runs joins the rows of data/index.js as text and never parses them.
 *
 * Reads: runs shaped like the rows of data/index.js ({config, summary, ...}), oldest first.
 * tracker/formatting.py (flatten, run_fields) follows the same cases: tests/contracts/flatten.json
 * and tests/contracts/columns.json, which both test suites run.
 * Exposes: window.TrackerFields = {of(runs), ofIndex(index), flatten(config)}: of(runs) ->
 *   {params: [dotted config keys], metrics: [summary names], defaultColumns: ["config.lr", "summary.acc", ...]},
 *   names in the order they first appear; ofIndex(index) the same for the runs of a TrackerIndex
 *   (index-data.js), from its columns; flatten(config) -> {"opt.lr": 1, ...}.
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
    return fieldsOf([...first.keys()], varying, [...metrics]);
  }

  /**
   * of(index.rows()), worked out on the index's columns (TrackerIndex, index-data.js) without making
   * a row: each distinct value of a dictionary-coded column is flattened once. The order of the
   * keys comes from the runs that bring a key in, which are flattened whole, as of() does.
   */
  function ofIndex(index) {
    const count = index.count;
    const config = index.section("config");
    const missing = comparable(null);
    const first = new Map(); // dotted key -> comparable() of its value in the first run that has it
    const counts = new Map();
    const varying = new Set();
    // 1. one pass over each key's runs: the runs that bring in a key (a value of some config key not
    // seen before: a new key, a new object; only they are flattened whole, below), how many runs have
    // each value of a coded column, and which plain columns hold objects
    const fresh = new Set();
    const columns = config.keys.map((key) => {
      const presence = config.presence(key);
      if (config.numeric(key)) { // floats: no objects, and a few values tell whether they vary
        const firstRun = presence.indexOf(1);
        if (firstRun >= 0) fresh.add(firstRun);
        return { key, numeric: true, presence, present: firstRun < 0 ? 0 : presenceCount(presence, firstRun) };
      }
      const column = config.column(key);
      if (column.codes) {
        const codes = column.codes, times = new Float64Array(column.values.length);
        for (let run = 0; run < count; run++) if (presence[run] && times[codes[run]]++ === 0) fresh.add(run);
        return { key, column, presence, times };
      }
      const values = column.values;
      let present = 0, objects = false;
      for (let run = 0; run < count; run++) {
        if (!presence[run]) continue;
        if (present++ === 0) fresh.add(run);
        if (isObject(values[run])) { objects = true; fresh.add(run); }
      }
      return { key, column, presence, present, objects };
    });
    for (const run of [...fresh].sort((a, b) => a - b)) {
      const values = Object.create(null);
      for (const key of config.keysOf(run)) values[key] = config.cell(key, run);
      for (const [key, value] of Object.entries(flatten(values))) {
        if (first.has(key)) continue;
        first.set(key, comparable(value));
        if (run > 0 && first.get(key) !== missing) varying.add(key); // earlier runs lack it
      }
    }
    // 2. how many runs have each dotted key, and whether its value ever differs from the first
    const note = (key, value, times) => {
      counts.set(key, (counts.get(key) || 0) + times);
      if (!varying.has(key) && comparable(value) !== first.get(key)) varying.add(key);
    };
    for (const { key, column, presence, present, objects, times, numeric } of columns) {
      if (numeric) {
        counts.set(key, present);
        if (differs(config, key, presence, first.get(key))) varying.add(key);
      } else if (times) {
        column.values.forEach((value, code) => {
          if (times[code]) for (const [name, item] of Object.entries(flatten({ [key]: value }))) note(name, item, times[code]);
        });
      } else if (objects) { // each run's object flattened (a column whose objects rarely repeat)
        for (let run = 0; run < count; run++) {
          if (presence[run]) for (const [name, item] of Object.entries(flatten({ [key]: column.values[run] }))) note(name, item, 1);
        }
      } else {
        counts.set(key, present);
        for (let run = 0; run < count && !varying.has(key); run++) {
          if (presence[run] && comparable(column.values[run]) !== first.get(key)) varying.add(key);
        }
      }
    }
    for (const [key, seenFirst] of first) {
      if (counts.get(key) < count && seenFirst !== missing) varying.add(key); // later runs lack it
    }
    return fieldsOf([...first.keys()], varying, index.section("summary").keys);
  }

  function presenceCount(presence, from) {
    let present = 0;
    for (let run = from; run < presence.length; run++) present += presence[run];
    return present;
  }

  /** Whether some run's value of a config key of floats differs from `seen` (comparable()): read a
   * value at a time (the column stays packed) while that is cheap, then on the decoded column. */
  function differs(config, key, presence, seen) {
    const CELLS_READ_ALONE = 64;
    let run = 0;
    for (let read = 0; run < presence.length && read < CELLS_READ_ALONE; run++) {
      if (!presence[run]) continue;
      if (comparable(config.cell(key, run)) !== seen) return true;
      read++;
    }
    const values = config.column(key).values;
    for (; run < presence.length; run++) if (presence[run] && comparable(values[run]) !== seen) return true;
    return false;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function fieldsOf(params, varying, metrics) {
    return {
      params,
      metrics,
      defaultColumns: params.filter((key) => varying.has(key)).slice(0, DEFAULT_PARAM_COLUMNS)
        .map((key) => `config.${key}`)
        .concat(metrics.slice(0, DEFAULT_METRIC_COLUMNS).map((name) => `summary.${name}`)),
    };
  }

  window.TrackerFields = Object.freeze({ of, ofIndex, flatten });
})();
