/*
 * query.js: the run filter language in the browser, for the search box and the column sort.
 *
 * The same rules as tracker/query.py, function for function; tests/query_cases.json holds the
 * cases both must pass, so change the two together. The grammar is in docs/query.md, e.g.
 *   status:failed lr>=1e-3 -tag:debug "first try" optimizer.name:adam*
 *
 * Reads: run objects as embedded in the page's run data, shaped like
 *   {id, name, project, group, status, tags, user, host, notes, created, duration_s, config, summary}
 * (summary values may be the strings "NaN", "Infinity", "-Infinity"). Touches no DOM.
 * Exposes: window.TrackerQuery = {parse, matches, resolveField, compareForSort, sortRuns, globMatches,
 *   matchIndex, sortIndex, fieldColumn} (globMatches also serves the run page's metric filter,
 *   run-charts.js). matchIndex, sortIndex and fieldColumn do what matches, sortRuns and
 *   resolveField do, on an index's columns (TrackerIndex, index-data.js) rather than its rows:
 *   tests/query_cases.json runs both ways.
 */
(function () {
  "use strict";

  // Two-character operators first, so ">=" is not read as ">" followed by a value "=...".
  const OPERATORS = [">=", "<=", "!=", "=", ":", ">", "<", "~"];
  const OPERATOR_CHARS = "=:!<>~";
  const WHITESPACE = " \t\r\n";
  const RUN_FIELDS = {
    id: "id", name: "name", project: "project", group: "group", status: "status",
    tag: "tags", tags: "tags", user: "user", host: "host", notes: "notes",
    created: "created", duration: "duration_s", duration_s: "duration_s",
  };
  const SECTION_PREFIXES = { config: "config", params: "config", summary: "summary", metrics: "summary" };
  const FREE_TEXT_FIELDS = ["id", "name", "project", "group", "tags", "notes", "user", "host"];

  const NUMBER = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;
  const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?$/;
  const COMPARE = {
    "=": (a, b) => a === b,
    ">": (a, b) => a > b,
    ">=": (a, b) => a >= b,
    "<": (a, b) => a < b,
    "<=": (a, b) => a <= b,
  };

  class QueryError extends Error {
    constructor(query, position, problem) {
      super(`invalid filter '${query}': ${problem} at position ${position}`);
      this.name = "QueryError";
      this.query = query;
      this.position = position;
      this.problem = problem;
    }
  }

  // A term: whether the run's value of any of `fields` passes `test`, negated or not. Both the
  // row path (matches) and the column path (matchIndex) ask the same test.
  function term(fields, test, negated) {
    return { negated, fields, test, matches: (run) => fields.some((field) => test(resolveField(run, field))) };
  }

  function freeText(needle, negated) {
    const lowered = needle.toLowerCase();
    return term(FREE_TEXT_FIELDS, (value) => typeof value === "string" ? value.toLowerCase().includes(lowered)
      : items(value).some((item) => text(item).toLowerCase().includes(lowered)), negated);
  }

  function comparison(field, op, value, number, negated) {
    op = op === ":" ? "=" : op;
    const lowered = value.toLowerCase();
    const glob = (op === "=" || op === "!=") && value.includes("*") ? lowered.split("*") : null;

    function test(actual, testOp) {
      if (testOp === "~") return text(actual).toLowerCase().includes(lowered);
      const actualNumber = number !== null ? asNumber(actual) : null;
      if (actualNumber !== null) {
        if (testOp === "=" && Number.isNaN(number)) return Number.isNaN(actualNumber);
        return COMPARE[testOp](actualNumber, number);
      }
      if (glob !== null) return globMatches(glob, text(actual).toLowerCase());
      return COMPARE[testOp](text(actual).toLowerCase(), lowered);
    }

    return term([field], (value) => {
      if (typeof value === "string" || typeof value === "number") return op === "!=" ? !test(value, "=") : test(value, op);
      const found = items(value);
      if (op === "!=") return found.length > 0 && !found.some((item) => test(item, "="));
      return found.some((item) => test(item, op));
    }, negated);
  }

  /** Parse a filter query into {text, terms, matches(run)}; throw a QueryError at the first problem. */
  function parse(queryText) {
    const terms = [];
    let position = skipWhitespace(queryText, 0);
    while (position < queryText.length) {
      const [term, end] = parseTerm(queryText, position);
      terms.push(term);
      position = skipWhitespace(queryText, end);
    }
    return {
      text: queryText,
      terms,
      matches: (run) => terms.every((term) => term.matches(run) !== term.negated),
    };
  }

  /** True when `run` satisfies the query text. */
  function matches(queryText, run) {
    return parse(queryText).matches(run);
  }

  /** The value `field` names in `run` by the filter's rules, or null when it is missing. */
  function resolveField(run, field) {
    if (Object.hasOwn(RUN_FIELDS, field)) return run[RUN_FIELDS[field]] ?? null;
    const dot = field.indexOf(".");
    const prefix = field.slice(0, dot);
    if (dot >= 0 && Object.hasOwn(SECTION_PREFIXES, prefix)) {
      return lookup(run[SECTION_PREFIXES[prefix]], field.slice(dot + 1));
    }
    const found = lookup(run.config, field);
    return found !== null ? found : lookup(run.summary, field);
  }

  /**
   * Array.sort comparator: numbers numerically, text ignoring case, missing and NaN last.
   * A leading "-" in `field` sorts descending; missing values stay last either way.
   */
  function compareForSort(a, b, field) {
    const descending = field.startsWith("-");
    const name = descending ? field.slice(1) : field;
    return compareSortValues(sortValue(resolveField(a, name)), sortValue(resolveField(b, name)), descending);
  }

  function compareSortValues(left, right, descending) {
    if (left === null || right === null) return (left === null) - (right === null);
    const order = left[0] !== right[0] ? left[0] - right[0] : (left[1] > right[1]) - (left[1] < right[1]);
    return descending ? -order : order;
  }

  /**
   * A sorted copy of ``runs``: by ``field`` as compareForSort orders them, ties by ``tiebreak``, then
   * in their given order. Each run's values are computed once, not once per comparison: sorting
   * 10,000 runs stays well under a frame's worth of work per thousand.
   */
  function sortRuns(runs, field, tiebreak = field) {
    const key = (run, spec) => sortValue(resolveField(run, spec.replace(/^-/, "")));
    const down = field.startsWith("-"), tieDown = tiebreak.startsWith("-");
    return runs.map((run, index) => ({ run, index, first: key(run, field), second: key(run, tiebreak) }))
      .sort((a, b) => compareSortValues(a.first, b.first, down) || compareSortValues(a.second, b.second, tieDown)
        || a.index - b.index)
      .map((entry) => entry.run);
  }

  // --- the same on an index's columns (TrackerIndex, index-data.js): each distinct value of a
  // dictionary-coded column is tested once, so a search of 100,000 runs is a pass over small integers.

  /** Which runs match `query` (parse's result): a Uint8Array over the index's runs, 1 where one does. */
  function matchIndex(query, index) {
    const found = new Uint8Array(index.count).fill(1);
    for (const one of query.terms) {
      const passes = new Uint8Array(index.count);
      for (const field of one.fields) orMask(passes, fieldColumn(index, field), one.test);
      const keep = one.negated ? 0 : 1;
      for (let run = 0; run < found.length; run++) if (passes[run] !== keep) found[run] = 0;
    }
    return found;
  }

  function orMask(mask, column, test) {
    if (column.codes) {
      const passes = Uint8Array.from(column.values, (value) => (test(value) ? 1 : 0));
      for (let run = 0; run < mask.length; run++) mask[run] |= passes[column.codes[run]];
    } else {
      for (let run = 0; run < mask.length; run++) if (!mask[run] && test(column.values[run])) mask[run] = 1;
    }
  }

  /** The positions of the index's runs in sortRuns's order (by `field`, ties by `tiebreak`, then position). */
  function sortIndex(index, field, tiebreak = field) {
    const first = sortKeys(index, field);
    const second = tiebreak === field ? null : sortKeys(index, tiebreak);
    const compare = (a, b) => first.compare(a, b) || (second && second.compare(a, b)) || a - b;
    const count = index.count;
    const order = new Array(count);
    // the runs are stored oldest first, so the default order (newest first) is often the stored one
    // reversed: two passes that confirm an order already there cost less than a sort of 100,000
    let ascending = true, descending = true;
    for (let run = 1; run < count && (ascending || descending); run++) {
      const sign = compare(run - 1, run);
      ascending = ascending && sign < 0;
      descending = descending && sign > 0;
    }
    const reversed = descending && !ascending;
    for (let run = 0; run < count; run++) order[run] = reversed ? count - 1 - run : run;
    return ascending || descending ? order : order.sort(compare);
  }

  // Each run's sortValue as a rank (0 a number, 1 text, 2 missing) and a number or a text, in arrays
  // made once: compareSortValues's order without an object per run.
  function sortKeys(index, spec) {
    const descending = spec.startsWith("-");
    const column = fieldColumn(index, descending ? spec.slice(1) : spec);
    const count = index.count;
    const ranks = new Uint8Array(count), numbers = new Float64Array(count), texts = new Array(count);
    const put = (run, key) => {
      if (key === null) { ranks[run] = 2; return; }
      ranks[run] = key[0];
      if (key[0] === 0) numbers[run] = key[1]; else texts[run] = key[1];
    };
    if (column.codes) {
      const keys = column.values.map(sortValue);
      for (let run = 0; run < count; run++) put(run, keys[column.codes[run]]);
    } else {
      for (let run = 0; run < count; run++) {
        const value = column.values[run];
        if (typeof value === "number") { if (value === value) numbers[run] = value; else ranks[run] = 2; } // NaN: missing
        else put(run, sortValue(value));
      }
    }
    const sign = descending ? -1 : 1;
    return {
      compare(a, b) {
        const left = ranks[a], right = ranks[b];
        if (left === 2 || right === 2) return (left === 2) - (right === 2); // missing last either way
        if (left !== right) return sign * (left - right);
        if (left === 0) return sign * ((numbers[a] > numbers[b]) - (numbers[a] < numbers[b]));
        return sign * ((texts[a] > texts[b]) - (texts[a] < texts[b]));
      },
    };
  }

  /** {values, codes}: run i's value of `field` as resolveField gives it, from the index's columns. */
  function fieldColumn(index, field) {
    if (Object.hasOwn(RUN_FIELDS, field)) return index.column(RUN_FIELDS[field]);
    const dot = field.indexOf(".");
    const prefix = field.slice(0, dot);
    if (dot >= 0 && Object.hasOwn(SECTION_PREFIXES, prefix)) {
      return sectionColumn(index.section(SECTION_PREFIXES[prefix]), field.slice(dot + 1), index.count);
    }
    const config = sectionColumn(index.section("config"), field, index.count);
    const summary = sectionColumn(index.section("summary"), field, index.count);
    if (isEmpty(summary)) return config;
    if (isEmpty(config)) return summary;
    return perRun(index.count, (run) => valueOf(config, run) ?? valueOf(summary, run));
  }

  /** lookup(section's object, path) for every run: the key itself, else a key that is a prefix of it. */
  function sectionColumn(section, path, count) {
    const exact = section.keys.includes(path);
    const prefixes = [];
    for (let position = 0; position < path.length; position++) {
      if (path[position] === "." && section.keys.includes(path.slice(0, position))) {
        prefixes.push({ key: path.slice(0, position), rest: path.slice(position + 1) });
      }
    }
    if (!prefixes.length) return exact ? section.column(path) : { values: [null], codes: new Uint32Array(count) };
    const inner = prefixes.map(({ key, rest }) => {
      const column = section.column(key);
      const presence = section.presence(key);
      const looked = column.codes ? column.values.map((value) => lookup(value, rest)) : null;
      return (run) => (!presence[run] ? null : looked ? looked[column.codes[run]] : lookup(column.values[run], rest));
    });
    const exactColumn = exact ? section.column(path) : null;
    const exactPresence = exact ? section.presence(path) : null;
    return perRun(count, (run) => {
      if (exact && exactPresence[run]) return valueOf(exactColumn, run) ?? null; // as lookup: found, even if null
      for (const valueAt of inner) {
        const found = valueAt(run);
        if (found !== null) return found;
      }
      return null;
    });
  }

  function perRun(count, valueAt) {
    return { values: Array.from({ length: count }, (_, run) => valueAt(run)), codes: null };
  }

  function valueOf(column, run) {
    return window.TrackerIndex.valueAt(column, run) ?? null; // the index's columns come from index-data.js
  }

  function isEmpty(column) {
    return column.codes !== null && column.values.length === 1 && column.values[0] === null;
  }

  function parseTerm(queryText, start) {
    const negated = queryText[start] === "-";
    const position = negated ? start + 1 : start;
    if (negated && (atBoundary(queryText, position) || queryText[position] === "-")) {
      throw new QueryError(queryText, position, "expected a term after '-'");
    }
    if (queryText[position] === '"') {
      const [phrase, end] = readQuoted(queryText, position);
      return [freeText(phrase, negated), end];
    }
    const fieldEnd = scanWord(queryText, position, OPERATOR_CHARS + '"');
    const field = queryText.slice(position, fieldEnd);
    if (atBoundary(queryText, fieldEnd)) return [freeText(field, negated), fieldEnd];
    if (queryText[fieldEnd] === '"') {
      throw new QueryError(queryText, fieldEnd, "unexpected '\"' inside a word; quote the whole word");
    }
    const [op, valueStart] = readOperator(queryText, fieldEnd);
    if (!field) throw new QueryError(queryText, position, `missing field before '${op}'`);
    if (atBoundary(queryText, valueStart)) {
      throw new QueryError(queryText, valueStart, `missing value after '${op}'`);
    }
    if (OPERATOR_CHARS.includes(queryText[valueStart])) {
      throw new QueryError(queryText, valueStart, `unexpected '${queryText[valueStart]}' after '${op}'`);
    }
    let value, end;
    if (queryText[valueStart] === '"') {
      [value, end] = readQuoted(queryText, valueStart);
    } else {
      end = scanWord(queryText, valueStart, '"');
      if (!atBoundary(queryText, end)) {
        throw new QueryError(queryText, end, "unexpected '\"' inside a value; quote the whole value");
      }
      value = queryText.slice(valueStart, end);
    }
    let number = asNumber(value);
    const date = number === null && RUN_FIELDS[field] === "created" ? DATE.exec(value) : null;
    if (date) {
      number = utcTimestamp(date);
      if (number === null) throw new QueryError(queryText, valueStart, `invalid date '${value}'`);
    }
    return [comparison(field, op, value, number, negated), end];
  }

  function readOperator(queryText, position) {
    const op = OPERATORS.find((candidate) => queryText.startsWith(candidate, position));
    if (op === undefined) {
      throw new QueryError(queryText, position, `unknown operator '${queryText[position]}'`);
    }
    return [op, position + op.length];
  }

  // The unescaped content of the quoted string opening at `start`, and the index after it.
  function readQuoted(queryText, start) {
    let content = "";
    let position = start + 1;
    while (position < queryText.length) {
      const char = queryText[position];
      if (char === "\\" && position + 1 < queryText.length) {
        content += queryText[position + 1];
        position += 2;
      } else if (char === '"') {
        if (!atBoundary(queryText, position + 1)) {
          throw new QueryError(queryText, position + 1, "expected a space after the closing quote");
        }
        return [content, position + 1];
      } else {
        content += char;
        position += 1;
      }
    }
    throw new QueryError(queryText, start, "unterminated quote");
  }

  function scanWord(queryText, position, stopChars) {
    while (!atBoundary(queryText, position) && !stopChars.includes(queryText[position])) position += 1;
    return position;
  }

  function skipWhitespace(queryText, position) {
    while (position < queryText.length && WHITESPACE.includes(queryText[position])) position += 1;
    return position;
  }

  function atBoundary(queryText, position) {
    return position >= queryText.length || WHITESPACE.includes(queryText[position]);
  }

  // Whether `value` matches the pattern whose pieces between "*" are `parts`, in linear time (a
  // RegExp backtracks: "*a*a*c" on a long run of "a"s took seconds). The first piece starts the
  // text, the last ends it, each piece between is found after the one before; its leftmost
  // occurrence is always the best choice, so one indexOf per piece decides.
  function globMatches(parts, value) {
    const first = parts[0], last = parts[parts.length - 1];
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
      return false;
    }
    let position = first.length;
    const end = value.length - last.length;
    for (const part of parts.slice(1, -1)) {
      const found = value.indexOf(part, position);
      if (found < 0 || found + part.length > end) return false;
      position = found + part.length;
    }
    return true;
  }

  function utcTimestamp(match) {
    const parts = match.slice(1).map((part) => Number(part || 0));
    const [year, month, day, hour, minute, second] = parts;
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Date.UTC rolls 2025-13-01 over into 2026; Python refuses it, so refuse it here too.
    const roundTrip = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(),
      date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
    return roundTrip.every((value, index) => value === parts[index]) ? date.getTime() / 1000 : null;
  }

  // Follow a dotted path through nested objects; a key that itself holds dots ("data.aug") also works.
  function lookup(table, path) {
    if (table === null || typeof table !== "object" || Array.isArray(table)) return null;
    if (Object.hasOwn(table, path)) return table[path] ?? null;
    for (let index = 0; index < path.length; index++) {
      if (path[index] === "." && Object.hasOwn(table, path.slice(0, index))) {
        const found = lookup(table[path.slice(0, index)], path.slice(index + 1));
        if (found !== null) return found;
      }
    }
    return null;
  }

  // The comparable scalars in a field value: an array's elements, or the value itself.
  function items(value) {
    const values = Array.isArray(value) ? value : [value];
    return values.filter((item) => item !== null && item !== undefined && typeof item !== "object");
  }

  // A number, or a string spelled as one ("1e-3", "NaN", "-Infinity"); else null.
  function asNumber(value) {
    if (typeof value === "number") return value;
    if (typeof value !== "string" || !NUMBER.test(value)) return null;
    // Number() reads "Infinity" but not "inf" or "nan", which the grammar allows.
    const word = value.replace(/^[+-]/, "").toLowerCase();
    if (word === "nan") return NaN;
    if (word.startsWith("inf")) return value.startsWith("-") ? -Infinity : Infinity;
    return Number(value);
  }

  function text(value) {
    return String(value);
  }

  // [rank, key] with numbers before text, or null for a missing value or NaN.
  function sortValue(value) {
    const found = items(value);
    if (found.length === 0) return null;
    const number = found.length === 1 ? asNumber(found[0]) : null;
    if (number !== null) return Number.isNaN(number) ? null : [0, number];
    return [1, found.map((item) => text(item).toLowerCase()).join(", ")];
  }

  window.TrackerQuery = Object.freeze({ parse, matches, resolveField, compareForSort, sortRuns, globMatches,
                                        matchIndex, sortIndex, fieldColumn });
})();
