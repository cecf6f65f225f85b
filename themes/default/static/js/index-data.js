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
 *      when codes is null (a column without repeats),
 *    section("config" | "summary") -> {keys (in the order they first appear), column(key) (null
 *      where a run lacks the key), presence(key) -> Uint8Array (1 where a run has it), keysOf(i)}}.
 * query.js filters and sorts on columns; run-fields.js finds the config keys and metrics on them.
 * TrackerData.index.runs still gives every row (made when first read), for a theme's own scripts.
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

  /** A stored column as {values, codes}. */
  function decode(stored) {
    if (Array.isArray(stored)) return { values: stored, codes: null };
    const { values, codes } = stored;
    if (typeof codes !== "string") return { values, codes };
    const decoded = new Uint8Array(codes.length);
    for (let position = 0; position < codes.length; position++) decoded[position] = CODE_OF[codes.charCodeAt(position)];
    return { values, codes: decoded };
  }

  function valueAt(column, position) {
    return column.codes ? column.values[column.codes[position]] : column.values[position];
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
          columns.set(key, source === undefined ? { values: [null], codes: new Uint8Array(count) } : decode(source));
        }
      }
      return columns.get(key);
    }

    function section(name) {
      if (!sections.has(name)) sections.set(name, storedSection(stored[name], count));
      return sections.get(name);
    }

    return indexOf(data, count, keys, column, section);
  }

  /** config or summary: keys, each run's keys (dictionary-coded positions), a column per key. */
  function storedSection(stored, count) {
    if (!stored) return emptySection(count);
    const shapes = decode(stored.shapes);
    const shapeKeys = shapes.values.map((positions) => positions.map((position) => stored.keys[position]));
    const columns = new Map();
    const presences = new Map();
    return {
      keys: stored.keys,
      column(key) {
        if (!columns.has(key)) {
          const position = stored.keys.indexOf(key);
          columns.set(key, position < 0 ? { values: [null], codes: new Uint8Array(count) } : decode(stored.columns[position]));
        }
        return columns.get(key);
      },
      presence(key) {
        if (!presences.has(key)) {
          const has = Uint8Array.from(shapeKeys, (names) => (names.includes(key) ? 1 : 0));
          const found = new Uint8Array(count);
          for (let run = 0; run < count; run++) found[run] = has[shapes.codes ? shapes.codes[run] : run];
          presences.set(key, found);
        }
        return presences.get(key);
      },
      keysOf: (run) => shapeKeys[shapes.codes ? shapes.codes[run] : run],
    };
  }

  function emptySection(count) {
    return { keys: [], column: () => ({ values: [null], codes: new Uint8Array(count) }),
             presence: () => new Uint8Array(count), keysOf: () => [] };
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
          presence: (key) => Uint8Array.from(objects, (object) => (Object.hasOwn(object, key) ? 1 : 0)),
          keysOf: (run) => Object.keys(objects[run]),
        });
      }
      return sections.get(name);
    }

    const index = indexOf(data, rows.length, keys, column, section);
    return Object.assign(index, { row: (run) => rows[run], rows: () => rows });
  }

  function indexOf(data, count, keys, column, section) {
    const made = new Array(count);
    let all = null;

    function row(run) {
      if (made[run] === undefined) {
        const value = {};
        for (const key of keys) {
          if (SECTIONS.includes(key)) {
            const found = section(key);
            const object = {};
            for (const name of found.keysOf(run)) object[name] = valueAt(found.column(name), run);
            value[key] = object;
          } else {
            value[key] = valueAt(column(key), run);
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

  window.TrackerIndex = Object.freeze({ load });
  load();
})();
