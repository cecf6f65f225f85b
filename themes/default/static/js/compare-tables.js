/*
 * compare-tables.js: the compare page's "What differs" list, config table and summary table.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows with config, summary,
 * commit, datasets ({name: sha256}) and packages (a fingerprint of name==version). Keeps the
 * "Show all keys" toggle in the hash (all=1) through TrackerCompare.saveView.
 * Builds every cell with textContent: no logged string is ever parsed as HTML.
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  if (!Compare || !View) return;
  const showAll = document.getElementById("config-show-all");
  const NOTE_EXAMPLES = 3;

  const same = (values) => new Set(values.map((value) => JSON.stringify(value === undefined ? "\u0000missing" : value))).size <= 1;
  const label = (run) => run.name || run.id;

  function listed(items) {
    return items.slice(0, NOTE_EXAMPLES).join(", ") + (items.length > NOTE_EXAMPLES ? ", …" : "");
  }

  function differences(runs, configs) {
    const keys = [...new Set(configs.flatMap((config) => Object.keys(config)))];
    const differing = keys.filter((key) => !same(configs.map((config) => config[key])));
    const notes = [differing.length
      ? `Config: ${differing.length} key${differing.length === 1 ? "" : "s"} differ (${listed(differing)})`
      : "Config: the same in every run"];
    const commits = runs.map((run) => run.commit);
    if (commits.every((commit) => !commit)) notes.push("Code: no git commit recorded");
    else if (same(commits)) notes.push(`Code: the same commit (${commits[0]})`);
    else notes.push(`Code: commits differ (${listed(runs.map((run) => `${label(run)} ${run.commit || "no git"}`))})`);
    const names = [...new Set(runs.flatMap((run) => Object.keys(run.datasets || {})))];
    const changed = names.filter((name) => !same(runs.map((run) => (run.datasets || {})[name])));
    if (!names.length) notes.push("Datasets: none recorded");
    else notes.push(changed.length ? `Datasets: ${changed.length} differ (${listed(changed)})` : "Datasets: the same");
    const packages = runs.map((run) => run.packages).filter(Boolean);
    if (packages.length < runs.length) notes.push(packages.length ? "Packages: not recorded for every run" : "Packages: not recorded");
    else notes.push(same(packages) ? "Packages: the same versions" : "Packages: versions differ");
    return { notes, differing, keys };
  }

  function headRow(table, runs, first) {
    const head = table.createTHead();
    const tr = head.insertRow();
    for (const text of [first, ...runs.map(label)]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      tr.appendChild(th);
    }
  }

  function renderConfig(runs, configs, keys, differing) {
    const table = document.getElementById("compare-config");
    table.replaceChildren();
    headRow(table, runs, "Key");
    const body = table.createTBody();
    const ordered = differing.concat(keys.filter((key) => !differing.includes(key)));
    for (const key of ordered) {
      const tr = body.insertRow();
      const differs = differing.includes(key);
      tr.className = differs ? "differs" : "same";
      tr.hidden = !differs && !showAll.checked;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = key;
      tr.appendChild(th);
      for (const config of configs) tr.insertCell().textContent = key in config ? Compare.formatValue(config[key]) : "—";
    }
    if (!ordered.length) body.insertRow().insertCell().textContent = "No config logged.";
  }

  function renderSummary(runs) {
    const table = document.getElementById("compare-summary");
    table.replaceChildren();
    headRow(table, runs, "Metric");
    const body = table.createTBody();
    const names = [...new Set(runs.flatMap((run) => Object.keys(run.summary || {})))];
    for (const name of names) {
      const values = runs.map((run) => (run.summary || {})[name]);
      const finite = values.filter((value) => typeof value === "number" && Number.isFinite(value));
      const lower = Compare.lowerIsBetter(name);
      const best = finite.length > 1 ? (lower ? Math.min(...finite) : Math.max(...finite)) : null;
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      th.title = lower ? "lower is better" : "higher is better";
      tr.appendChild(th);
      for (const value of values) {
        const td = tr.insertCell();
        td.className = "num";
        td.textContent = Compare.formatValue(value);
        if (best !== null && value === best) {
          td.classList.add("best");
          td.title = "best";
          td.append(" ★");
        }
      }
    }
    if (!names.length) body.insertRow().insertCell().textContent = "No metrics logged.";
  }

  Compare.onReady(({ runs }) => {
    const configs = runs.map((run) => Compare.flatten(run.config));
    const { notes, differing, keys } = differences(runs, configs);
    const list = document.getElementById("differs-list");
    list.replaceChildren(...notes.map((note) => Object.assign(document.createElement("li"), { textContent: note })));
    showAll.checked = View.read().all === "1";
    renderConfig(runs, configs, keys, differing);
    renderSummary(runs);
    showAll.addEventListener("change", () => {
      document.querySelectorAll("#compare-config tr.same").forEach((tr) => { tr.hidden = !showAll.checked; });
      Compare.saveView({ all: showAll.checked ? "1" : null });
    });
  });
})();
