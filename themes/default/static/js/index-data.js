/*
 * index-data.js: the one loader of data/index.js: every run's index row, from the columns the build
 * writes (sitegen/index_data.py; the format in docs/site-data.md).
 *
 * Reads: window.TrackerData.index: {format: 2, count, columns, unreadable, maxCompareRuns,
 *   lowerIsBetter}, or the older {runs: [row, ...], ...} (format 1), read the same way.
 * Exposes: window.TrackerIndex = {load()} -> the page's index (made once):
 *   {count, unreadable, maxCompareRuns, lowerIsBetter,
 *    row(i) -> run i's row as docs/site-data.md documents it (oldest first; made on first use),
 *    rows() -> every row (made on first use: the index table never needs them all),
 *    column(key) -> {values, codes}: run i's value of a row key is values[codes[i]], or values[i]
 *      when codes is null (a column without repeats; floats stored as base64 doubles and strings
 *      stored joined in one, decoded here),
 *    section("config" | "summary") -> {keys (in the order they first appear), column(key) (null
 *      where a run lacks the key), cell(key, i) (run i's value, without decoding the column),
 *      numeric(key) (true where the column holds only numbers and null: stored as floats),
 *      presence(key) -> Uint8Array (1 where a run has it), keysOf(i)}},
 *    and TrackerIndex.valueAt(column, i): run i's value of a column.
 * query.js filters and sorts on columns; run-fields.js finds the config keys and metrics on them.
 * TrackerData.index.runs still gives every row (made when first read), for a theme's own scripts.
 * Uses: window.TrackerBase64 (base64.js, loaded before this) for the columns of floats.
 */
(function () {
  "use strict";

  // A column's codes as a string, one character per run (sitegen/index_data.py CODE_ALPHABET).
  const CODE_ALPHABET = "()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
  const CODE_OF = new Uint8Array(128);
  for (let code = 0; code < CODE_ALPHABET.length; code++) CODE_OF[CODE_ALPHABET.charCodeAt(code)] = code;
  const SECTIONS = ["config", "summary"];
  // Columns the build leaves out when each run's value follows from another column.
  const DERIVED = {
    url: { from: "slug", value: (slug) => `runs/${slug}/index.html` },
    slug: { from: "id", value: (id) => id },
  };

  let loaded = null;

  function load() {
    const data = window.TrackerData && window.TrackerData.index;
    if (!data) return null;
    if (!loaded || loaded.data !== data) {
      loaded = { data, index: data.columns ? fromColumns(data) : fromRows(data) };
      // TrackerData.index.runs as before, for a theme's own scripts: made when first read
      if (data.columns && !Object.hasOwn(data, "runs")) {
        const index = loaded.index;
        Object.defineProperty(data, "runs", { get: () => index.rows(), configurable: true });
      }
    }
    return loaded.index;
  }

  const splitColumns = new WeakMap(); // a stored column of joined strings -> its values, split once

  /** The values of a column stored as one string (sitegen/index_data.py JOIN_SEPARATORS). */
  function joinedValues(stored) {
    let values = splitColumns.get(stored);
    if (!values) {
      values = stored.joined.split(stored.separator);
      splitColumns.set(stored, values);
    }
    return values;
  }

  /** A stored column as {values, codes}. */
  function decode(stored) {
    if (Array.isArray(stored)) return { values: stored, codes: null };
    if (typeof stored.joined === "string") return { values: joinedValues(stored), codes: null };
    if (typeof stored.f64 === "string") return { values: floats(stored.f64), codes: null };
    const { values, codes } = stored;
    // one kind of array for every column's codes, so the loops over them stay monomorphic (fast)
    if (typeof codes !== "string") return { values, codes: Uint32Array.from(codes) };
    const decoded = new Uint32Array(codes.length);
    if (values.length === 1) return { values, codes: decoded }; // one value: every code is 0 already
    for (let position = 0; position < codes.length; position++) decoded[position] = CODE_OF[codes.charCodeAt(position)];
    return { values, codes: decoded };
  }

  /** Base64 of little-endian doubles (as the run data's series), NaN standing for null. */
  function floats(base64) {
    const bytes = window.TrackerBase64.bytesOf(base64);
    const doubles = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 3);
    const values = new Array(doubles.length);
    for (let position = 0; position < doubles.length; position++) {
      const value = doubles[position];
      values[position] = value === value ? value : null; // NaN is null
    }
    return values;
  }

  /** Run `run`'s value of a column of floats, without decoding the others: the 8 bytes are within
   * at most 4 groups of 4 base64 characters. */
  function oneFloat(base64, run) {
    const first = Math.floor((run * 8) / 3), last = Math.floor((run * 8 + 7) / 3);
    const bytes = window.TrackerBase64.bytesOf(base64.slice(first * 4, (last + 1) * 4));
    const start = bytes.byteOffset + run * 8 - first * 3;
    const value = new Float64Array(bytes.buffer.slice(start, start + 8))[0];
    return value === value ? value : null;
  }

  /** Run `position`'s value of a column {values, codes} (index.column, section.column): the one
   * reading of a column, which query.js and index-table.js use too (as TrackerIndex.valueAt). */
  function valueAt(column, position) {
    return column.codes ? column.values[column.codes[position]] : column.values[position];
  }

  /** Run `run`'s value of a stored column, read from its stored form: the rows of one page need no
   * column decoded (a decoded column is read as such: it is there already). */
  function storedValueAt(stored, run) {
    if (Array.isArray(stored)) return stored[run];
    if (typeof stored.joined === "string") return joinedValues(stored)[run];
    if (typeof stored.f64 === "string") return oneFloat(stored.f64, run);
    const { values, codes } = stored;
    return values[typeof codes === "string" ? CODE_OF[codes.charCodeAt(run)] : codes[run]];
  }

  /** (key, run) -> value, for making rows: from the decoded column once there is one, else from
   * the stored column (a column made from another: from that one's value). */
  function cellReader(stored, column) {
    const cell = (key, run) => {
      if (column.decoded(key)) return valueAt(column(key), run);
      const source = Object.hasOwn(stored, key) ? stored[key] : undefined;
      if (typeof source === "string" && DERIVED[key]) return DERIVED[key].value(cell(DERIVED[key].from, run));
      return source === undefined ? null : storedValueAt(source, run);
    };
    return cell;
  }

  function fromColumns(data) {
    const count = data.count;
    const stored = data.columns;
    const keys = Object.keys(stored);
    const columns = new Map();
    const sections = new Map();

    function column(key) {
      if (!columns.has(key)) {
        const source = stored[key];
        if (typeof source === "string" && DERIVED[key]) {
          const from = column(DERIVED[key].from);
          columns.set(key, from.codes ? { values: from.values.map(DERIVED[key].value), codes: from.codes }
            : { values: from.values.map(DERIVED[key].value), codes: null });
        } else {
          columns.set(key, source === undefined ? { values: [null], codes: new Uint32Array(count) } : decode(source));
        }
      }
      return columns.get(key);
    }

    column.decoded = (key) => columns.has(key);

    function section(name) {
      if (!sections.has(name)) sections.set(name, storedSection(stored[name], count));
      return sections.get(name);
    }

    return indexOf(data, count, keys, column, section, cellReader(stored, column));
  }

  /** config or summary: keys, each run's keys (dictionary-coded positions), a column per key. */
  function storedSection(stored, count) {
    if (!stored) return emptySection(count);
    const shapes = decode(stored.shapes);
    const shapeKeys = shapes.values.map((positions) => positions.map((position) => stored.keys[position]));
    const columns = new Map();
    const presences = new Map();
    const byKey = Object.fromEntries(stored.keys.map((key, position) => [key, stored.columns[position]]));
    function column(key) {
      if (!columns.has(key)) {
        columns.set(key, Object.hasOwn(byKey, key) ? decode(byKey[key]) : { values: [null], codes: new Uint32Array(count) });
      }
      return columns.get(key);
    }
    column.decoded = (key) => columns.has(key);
    return {
      keys: stored.keys,
      column,
      cell: cellReader(byKey, column),
      numeric: (key) => Object.hasOwn(byKey, key) && typeof byKey[key].f64 === "string",
      presence(key) {
        if (!presences.has(key)) {
          const has = Uint8Array.from(shapeKeys, (names) => (names.includes(key) ? 1 : 0));
          const found = new Uint8Array(count);
          if (has.every((one) => one === 1)) found.fill(1); // every run has it: the common case, no pass
          else for (let run = 0; run < count; run++) found[run] = has[shapes.codes ? shapes.codes[run] : run];
          presences.set(key, found);
        }
        return presences.get(key);
      },
      keysOf: (run) => shapeKeys[shapes.codes ? shapes.codes[run] : run],
    };
  }

  function emptySection(count) {
    return { keys: [], column: () => ({ values: [null], codes: new Uint32Array(count) }), cell: () => null,
             numeric: () => false, presence: () => new Uint8Array(count), keysOf: () => [] };
  }

  /** The older index of whole rows: the same interface, its columns read off the rows. */
  function fromRows(data) {
    const rows = data.runs;
    const keys = rows.length ? Object.keys(rows[0]) : [];
    const sections = new Map();
    const column = (key) => ({ values: rows.map((row) => row[key] ?? null), codes: null });

    function section(name) {
      if (!sections.has(name)) {
        const objects = rows.map((row) => row[name] || {});
        const keys = [...new Set(objects.flatMap((object) => Object.keys(object)))];
        sections.set(name, {
          keys,
          column: (key) => ({ values: objects.map((object) => (Object.hasOwn(object, key) ? object[key] : null)), codes: null }),
          cell: (key, run) => (Object.hasOwn(objects[run], key) ? objects[run][key] : null),
          numeric: () => false,
          presence: (key) => Uint8Array.from(objects, (object) => (Object.hasOwn(object, key) ? 1 : 0)),
          keysOf: (run) => Object.keys(objects[run]),
        });
      }
      return sections.get(name);
    }

    const index = indexOf(data, rows.length, keys, column, section, (key, run) => rows[run][key] ?? null);
    return Object.assign(index, { row: (run) => rows[run], rows: () => rows });
  }

  function indexOf(data, count, keys, column, section, cell) {
    const made = new Array(count);
    let all = null;

    function row(run) {
      if (made[run] === undefined) {
        const value = {};
        for (const key of keys) {
          if (SECTIONS.includes(key)) {
            const found = section(key);
            const object = {};
            for (const name of found.keysOf(run)) object[name] = found.cell(name, run);
            value[key] = object;
          } else {
            value[key] = cell(key, run);
          }
        }
        made[run] = value;
      }
      return made[run];
    }

    return {
      count,
      unreadable: data.unreadable || [],
      maxCompareRuns: data.maxCompareRuns,
      lowerIsBetter: data.lowerIsBetter,
      row,
      rows: () => all || (all = Array.from({ length: count }, (_, run) => row(run))),
      column,
      section,
    };
  }

  window.TrackerIndex = Object.freeze({ load, valueAt });
  load();
})();
