/*
 * stats.js: the numbers behind the project view and the compare view's "best" marks.
 * Reads: nothing (pure functions). lowerIsBetter follows tracker/rundiff.py lower_is_better: both
 *   run the cases of tests/contracts/lower_is_better.json.
 * Exposes: window.TrackerStats = {lowerIsBetter(metric, words), ranks(values), spearman(xs, ys),
 *   importance(runs, params, paramOf, metricOf)}.
 */
(function () {
  "use strict";

  /** tracker diff's rule: lower is better when a word of the name is in ``words`` (loss, error, ...). */
  function lowerIsBetter(metric, words) {
    const known = new Set(words || []);
    return String(metric).toLowerCase().split(/[^a-z]+/).some((word) => known.has(word));
  }

  /** 1-based ranks; tied values share the average of their ranks. */
  function ranks(values) {
    const order = values.map((value, index) => index).sort((a, b) => values[a] - values[b]);
    const result = new Array(values.length);
    for (let start = 0; start < order.length;) {
      let end = start;
      while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end += 1;
      const rank = (start + end) / 2 + 1;
      for (let k = start; k <= end; k++) result[order[k]] = rank;
      start = end + 1;
    }
    return result;
  }

  /** Spearman's rank correlation (Pearson's on the ranks); null when either side does not vary. */
  function spearman(xs, ys) {
    const rx = ranks(xs), ry = ranks(ys);
    const n = rx.length;
    const mean = (n + 1) / 2;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) {
      const dx = rx[i] - mean, dy = ry[i] - mean;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    return sxx && syy ? sxy / Math.sqrt(sxx * syy) : null;
  }

  /** A config value as a number for ranking: numbers, and booleans as 0/1; anything else null. */
  function numeric(value) {
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "boolean") return value ? 1 : 0;
    return null;
  }

  const MIN_RUNS = 3;

  /**
   * For each param, Spearman's rho between its values and metricOf(run) over the runs that have both
   * as finite numbers, largest |rho| first: [{param, rho, runs}]. Params with fewer than MIN_RUNS such
   * runs, or that do not vary, are left out and listed in ``skipped`` with the reason.
   */
  function importance(runs, params, paramOf, metricOf) {
    const ranked = [], skipped = [];
    for (const param of params) {
      const xs = [], ys = [];
      let categorical = false;
      for (const run of runs) {
        const raw = paramOf(run, param);
        const x = numeric(raw), y = metricOf(run);
        if (x === null && raw !== null && raw !== undefined) categorical = true;
        if (x !== null && y !== null) { xs.push(x); ys.push(y); }
      }
      if (xs.length < MIN_RUNS) {
        skipped.push({ param, reason: categorical ? "not a number" : `set in fewer than ${MIN_RUNS} runs` });
        continue;
      }
      const rho = spearman(xs, ys);
      if (rho === null) skipped.push({ param, reason: "the same in every run" });
      else ranked.push({ param, rho, runs: xs.length });
    }
    ranked.sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho) || a.param.localeCompare(b.param));
    return { ranked, skipped };
  }

  window.TrackerStats = Object.freeze({ lowerIsBetter, ranks, spearman, importance, MIN_RUNS });
})();
