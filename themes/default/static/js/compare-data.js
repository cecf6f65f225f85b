/*
 * compare-data.js: which runs the compare page shows, and loading their data files.
 *
 * Reads: the hash key runs=<id>,<id>,... (TrackerViewState, view-state.js); the index through
 * TrackerIndex (index-data.js, data/index.js: runs with config, summary, slug, commit, datasets,
 * packages; maxCompareRuns, lowerIsBetter). Loads each run's data/runs/<slug>.js by inserting a <script> element (never
 * fetched, so the page works from file://), then calls back.
 * Uses: TrackerStats.lowerIsBetter (stats.js) for which value of a metric is best, TrackerFields.flatten
 *   (run-fields.js) for dotted config keys.
 * Shows: problems in #compare-message, the run names in #compare-runs-list.
 * Exposes: window.TrackerCompare = {onReady(callback), saveView(changes), loadScript(src), flatten, formatValue,
 * lowerIsBetter}; loadScript(src) -> Promise of true, or false when the file is missing (compare-media.js);
 * saveView merges one widget's keys into the hash, so the page's widgets never overwrite each other's.
 * callback({runs, data, index}): runs are the index rows in the hash's order, data maps run id ->
 * its data file's value (run-data.js decodes its series) or null.
 */
(function () {
  "use strict";
  const formatValue = window.TrackerFormat.formatValue;

  const MIN_RUNS = 2;
  const index = window.TrackerIndex && window.TrackerIndex.load();
  const View = window.TrackerViewState;
  const message = document.getElementById("compare-message");
  const waiting = [];
  let loaded = null;
  let view = View ? View.read(["runs"]) : {};

  /** {key: string | null}: null drops the key (its default). */
  function saveView(changes) {
    view = Object.assign({}, view, changes);
    if (View) View.save(view);
  }

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function loadScript(src) {
    return new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(true);
      script.onerror = () => resolve(false);
      document.body.appendChild(script);
    });
  }

  const flatten = window.TrackerFields.flatten; // re-exposed for the compare scripts


  /** tracker diff's rule (tracker/rundiff.py), its word list from the index data. */
  function lowerIsBetter(metric) {
    return window.TrackerStats.lowerIsBetter(metric, index && index.lowerIsBetter);
  }

  function onReady(callback) {
    if (loaded) callback(loaded);
    else waiting.push(callback);
  }

  async function start() {
    if (!index || !View) return;
    const ids = View.read(["runs"]).runs || [];
    const wanted = new Set(ids);
    const idColumn = index.column("id");
    const byId = new Map(); // only the chosen runs' rows are made
    for (let run = 0; run < index.count; run++) {
      const id = idColumn.codes ? idColumn.values[idColumn.codes[run]] : idColumn.values[run];
      if (wanted.has(id)) byId.set(id, index.row(run));
    }
    const unknown = ids.filter((id) => !byId.has(id));
    const runs = [...new Set(ids)].filter((id) => byId.has(id)).map((id) => byId.get(id));
    const problems = [];
    if (unknown.length) problems.push(`not in this site: ${unknown.join(", ")}`);
    if (runs.length > index.maxCompareRuns) {
      problems.push(`${runs.length} runs chosen; showing the first ${index.maxCompareRuns}`);
      runs.length = index.maxCompareRuns;
    }
    if (runs.length < MIN_RUNS) {
      problems.push("Choose 2 or more runs on the index page (tick their boxes, then Compare).");
    }
    show(problems.join(". "));
    document.getElementById("compare-runs-list").textContent = runs.map((run) => run.name || run.id).join(" · ");
    if (runs.length < MIN_RUNS) return;
    const results = await Promise.all(runs.map((run) => loadScript(`data/runs/${encodeURIComponent(run.slug)}.js`)));
    const missing = runs.filter((_, position) => !results[position]).map((run) => run.name || run.id);
    if (missing.length) show(`${message.textContent ? message.textContent + ". " : ""}No data file for: ${missing.join(", ")}`);
    const data = {};
    for (const run of runs) data[run.id] = window.TrackerRunData.resolve((window.TrackerData.runs || {})[run.id] || null);
    loaded = { runs, data, index };
    waiting.splice(0).forEach((callback) => callback(loaded));
  }

  window.TrackerCompare = Object.freeze({ onReady, saveView, loadScript, flatten, formatValue, lowerIsBetter });
  // A different set of runs in an edited hash means other data files: start over.
  if (View) {
    let current = (View.read(["runs"]).runs || []).join(",");
    View.onChange(["runs"], (hash) => {
      view = hash;
      if ((hash.runs || []).join(",") !== current) { current = (hash.runs || []).join(","); location.reload(); }
    });
  }
  start();
})();
