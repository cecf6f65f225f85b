/*
 * line-diff.js: a unified diff of two texts by Myers' line diff, for the compare view's code section
 * (compare-code.js): the difference of two runs' uncommitted patches and of their entry scripts.
 *
 * The same text as tracker/code_diff.py's unified_diff() for the same inputs, tie for tie: strip the
 * common head and tail, Myers' greedy algorithm preferring a deletion before an insertion, GNU diff's
 * hunk ranges with 3 lines of context. tests/contracts/line_diff.json holds the cases both run.
 * Past maxEdits (2000) changed lines the middle is shown as all removed, then all added.
 * Reads no page data. Exposes: window.TrackerLineDiff = {splitLines(text), lineDiff(a, b, maxEdits),
 * unifiedDiff(aText, bText, aName, bName, context, maxEdits), MAX_EDITS}.
 */
(function () {
  "use strict";

  const MAX_EDITS = 2000;
  const CONTEXT_LINES = 3;

  function splitLines(text) {
    if (!text) return [];
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  /** Each round's furthest-reaching x per diagonal k (at [k + d + 1]); null past maxEdits. */
  function myersTrace(a, b, maxEdits) {
    const n = a.length, m = b.length;
    const v = new Map([[1, 0]]);
    const at = (k) => v.get(k) || 0;
    const trace = [];
    for (let d = 0; d <= Math.min(n + m, maxEdits); d++) {
      const snapshot = [];
      for (let k = -d - 1; k <= d + 1; k++) snapshot.push(at(k));
      trace.push(snapshot);
      for (let k = -d; k <= d; k += 2) {
        let x = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? at(k + 1) : at(k - 1) + 1;
        let y = x - k;
        while (x < n && y < m && a[x] === b[y]) { x++; y++; }
        v.set(k, x);
        if (x >= n && y >= m) return trace;
      }
    }
    return null;
  }

  function middleScript(a, b, maxEdits) {
    const n = a.length, m = b.length;
    if (n + m === 0) return [];
    const trace = myersTrace(a, b, maxEdits);
    if (trace === null) {
      return a.map((_, i) => ["-", i, -1]).concat(b.map((_, j) => ["+", -1, j]));
    }
    const ops = [];
    let x = n, y = m;
    for (let d = trace.length - 1; d >= 0; d--) {
      const v = trace[d];
      const k = x - y;
      const down = k === -d || (k !== d && v[k + d] < v[k + d + 2]);
      const previousK = down ? k + 1 : k - 1;
      const previousX = v[previousK + d + 1];
      const previousY = previousX - previousK;
      while (x > previousX && y > previousY) { x--; y--; ops.push(["=", x, y]); }
      if (d > 0) ops.push(down ? ["+", -1, previousY] : ["-", previousX, -1]);
      x = previousX; y = previousY;
    }
    return ops.reverse();
  }

  /** [kind, i, j] ops turning lines a into lines b: "=" both, "-" a's line i, "+" b's line j. */
  function lineDiff(a, b, maxEdits = MAX_EDITS) {
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
    const middle = middleScript(a.slice(head, a.length - tail), b.slice(head, b.length - tail), maxEdits);
    const ops = [];
    for (let i = 0; i < head; i++) ops.push(["=", i, i]);
    for (const [kind, i, j] of middle) ops.push([kind, i >= 0 ? i + head : -1, j >= 0 ? j + head : -1]);
    for (let k = 0; k < tail; k++) ops.push(["=", a.length - tail + k, b.length - tail + k]);
    return ops;
  }

  function range(before, count) {
    const start = count ? before + 1 : before;
    return count === 1 ? String(start) : `${start},${count}`;
  }

  /** The unified diff text, "" when the texts' lines are equal. */
  function unifiedDiff(aText, bText, aName = "a", bName = "b", context = CONTEXT_LINES, maxEdits = MAX_EDITS) {
    const a = splitLines(aText), b = splitLines(bText);
    const ops = lineDiff(a, b, maxEdits);
    const changes = [];
    ops.forEach((op, index) => { if (op[0] !== "=") changes.push(index); });
    if (!changes.length) return "";
    const out = [`--- ${aName}`, `+++ ${bName}`];
    let start = 0, counted = 0, aBefore = 0, bBefore = 0;
    while (start < changes.length) {
      let end = start;
      while (end + 1 < changes.length && changes[end + 1] - changes[end] <= 2 * context + 1) end++;
      const first = Math.max(0, changes[start] - context);
      const last = Math.min(ops.length, changes[end] + context + 1);
      for (let index = counted; index < first; index++) {
        if (ops[index][0] !== "+") aBefore++;
        if (ops[index][0] !== "-") bBefore++;
      }
      counted = first;
      const hunk = ops.slice(first, last);
      const aCount = hunk.filter((op) => op[0] !== "+").length;
      const bCount = hunk.filter((op) => op[0] !== "-").length;
      out.push(`@@ -${range(aBefore, aCount)} +${range(bBefore, bCount)} @@`);
      for (const [kind, i, j] of hunk) out.push(kind === "-" ? "-" + a[i] : kind === "+" ? "+" + b[j] : " " + a[i]);
      start = end + 1;
    }
    return out.join("\n") + "\n";
  }

  window.TrackerLineDiff = Object.freeze({ splitLines, lineDiff, unifiedDiff, MAX_EDITS });
})();
