/*
 * index-table.js: the runs table on the index page: search/filter, sort, column picker, grouping.
 *
 * Reads: the index through window.TrackerIndex (index-data.js; docs/site-data.md): maxCompareRuns
 *   and the rows' id, name, project, status, tags, created, duration_s, last_seen, config, summary,
 *   url, alerts (a badge when any; and any field a filter names, through TrackerQuery). Only the
 *   rows of the page shown are made: filters and sorts run on the index's columns.
 * Uses: window.TrackerQuery (query.js) for the filter grammar and the sort order (matchIndex, sortIndex);
 *   window.TrackerFormat (format.js) for values, durations, dates and counts;
 *   window.TrackerFields (run-fields.js, ofIndex) for the config keys, metrics and default columns;
 *   window.TrackerViewState (view-state.js) to keep the view in the URL's hash:
 *   #q=<filter>&sort=[-]<field>&cols=<field>,<field>&group=1&sel=<id>,<id>&page=<n>&per=<rows per page>
 *   &groupby=<field>[,<field>]&agg=minmax|all&open=<group key JSON>,... (defaults are left out);
 *   window.TrackerGrouping (grouping.js) for groups of runs and their aggregates (optional: a theme
 *   without it has no groups).
 * Groups ("Group by", then by): the filter filters runs, then groups are formed; a group row shows its
 * run count and, per metric column, mean ± std and/or min – max of the summary values (NaN skipped and
 * counted); it expands to its runs and links to its chart (compare.html#runs=...&groups=...). Sorting
 * by a metric column sorts the groups by that metric's mean; any other sort keeps the groups' key order
 * and sorts the runs within them.
 * Rows are paged (#runs-pager): only one page is in the DOM, and only its rows are made from the
 * columns, so 100,000 runs load and redraw fast. All runs are sorted once per sort order (as
 * positions in the index), a search filters that list, and each page is a slice of it.
 * After the first render it marks performance "tracker:index-ready" (bench/bench_site.py reads it).
 * A checkbox per row selects runs; "Compare" (#compare-runs) opens compare.html#runs=<id>,<id>,...
 * for 2 to index.maxCompareRuns of them.
 * Builds every cell with textContent: no logged string is ever parsed as HTML.
 */
(function () {
  "use strict";
  const { formatValue, formatDuration, formatDate, formatCount, MISSING } = window.TrackerFormat;

  const index = window.TrackerIndex && window.TrackerIndex.load();
  if (!index || !window.TrackerQuery || !window.TrackerFields) return;
  const Query = window.TrackerQuery;
  const fields = window.TrackerFields.ofIndex(index);

  const BASE_COLUMNS = [
    { field: "select", label: "", render: renderSelect, unsortable: true },
    { field: "name", label: "Name", render: renderName },
    { field: "project", label: "Project" },
    { field: "status", label: "Status", render: renderStatus },
    { field: "created", label: "Started", render: (run) => formatDate(run.created) },
    { field: "duration", label: "Duration", numeric: true, render: (run) => formatDuration(run.duration_s) },
    { field: "tags", label: "Tags", render: renderTags },
  ];

  const PAGE_SIZES = [50, 100, 250, 1000];
  const state = { query: "", sort: "-created", group: false, chosen: fields.defaultColumns.slice(), selected: [],
                  page: 1, perPage: 100, groupBy: [], groupAgg: "std" };
  const table = document.getElementById("runs-table");
  const tableWrap = document.getElementById("runs-table-wrap");
  const input = document.getElementById("run-filter");
  const message = document.getElementById("filter-message");
  const count = document.getElementById("run-count");
  const empty = document.getElementById("runs-empty");
  const groupToggle = document.getElementById("group-by-project");
  const compareButton = document.getElementById("compare-runs");
  const compareMessage = document.getElementById("compare-message");
  const pager = {
    nav: document.getElementById("runs-pager"),
    previous: document.getElementById("pager-previous"),
    next: document.getElementById("pager-next"),
    status: document.getElementById("pager-status"),
    size: document.getElementById("pager-size"),
  };
  const MIN_COMPARE = 2;
  const View = window.TrackerViewState; // absent in a theme whose index.html leaves view-state.js out
  const Grouping = window.TrackerGrouping; // absent in a theme whose index.html leaves grouping.js out
  const DEFAULT_VIEW = Object.assign({}, state);
  let knownRuns = null; // the run ids, as a Set once a hash names selected runs
  const isKnownRun = (id) => (knownRuns || (knownRuns = new Set(valuesOf(index.column("id"))))).has(id);
  const valuesOf = (column) => Array.from({ length: index.count }, (_, run) => window.TrackerIndex.valueAt(column, run));
  const knownColumns = new Set(fields.params.map((name) => `config.${name}`)
    .concat(fields.metrics.map((name) => `summary.${name}`)));

  function columns() {
    const extra = state.chosen.map((field) => {
      const [section, ...rest] = field.split(".");
      const name = rest.join(".");
      return { field, label: name, numeric: true, title: section === "config" ? "parameter" : "metric",
               render: (run) => formatValue(Query.resolveField(run, field)) };
    });
    return BASE_COLUMNS.concat(extra);
  }

  let sorted = null; // {sort, rows}: every run's position in the current sort order, kept while only the filter changes
  let listed = null; // {key, rows, groupCounts, message}: the positions of the runs the current filter, sort and grouping list

  /**
   * The runs to list, filtered, sorted (and grouped); null while the query is invalid. The whole list
   * is sorted once per sort order and each search filters that: filtering keeps the order, so typing
   * costs one pass over the runs, not a sort.
   */
  function filtered() {
    const key = JSON.stringify([state.query, state.sort, state.group && !state.groupBy.length]);
    if (!listed || listed.key !== key) {
      let query;
      try {
        query = Query.parse(state.query);
      } catch (error) {
        showMessage(error.message, true);
        return null;
      }
      if (!sorted || sorted.sort !== state.sort) {
        sorted = { sort: state.sort, rows: Query.sortIndex(index, state.sort, "-created") };
      }
      let rows = sorted.rows;
      if (state.query.trim()) {
        const found = Query.matchIndex(query, index);
        rows = rows.filter((run) => found[run]);
      }
      const message = state.query.trim() ? `${formatCount(rows.length)} of ${formatCount(index.count)} runs match` : "";
      const groupCounts = new Map();
      if (state.group && !state.groupBy.length) { // "Group by" below takes over from the project headings
        const projects = index.column("project");
        const projectOf = (run) => window.TrackerIndex.valueAt(projects, run);
        for (const run of rows) groupCounts.set(projectOf(run), (groupCounts.get(projectOf(run)) || 0) + 1);
        const rank = new Map([...groupCounts.keys()].sort().map((project, position) => [project, position]));
        rows = [...rows].sort((a, b) => rank.get(projectOf(a)) - rank.get(projectOf(b))); // stable: keeps the sort within a project
      }
      listed = { key, rows, groupCounts, message };
    }
    showMessage(listed.message, false); // also clears an error left by an invalid query typed since
    return listed;
  }

  function showMessage(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", isError);
    input.setAttribute("aria-invalid", isError ? "true" : "false");
  }

  function render() {
    const result = filtered();
    if (result === null) { saveView(); return; } // keep the last good table while the query is invalid
    if (state.groupBy.length && Grouping) { renderGroups(result.rows.map(index.row)); return; }
    const { rows, groupCounts } = result;
    const pages = Math.max(1, Math.ceil(rows.length / state.perPage));
    state.page = Math.min(Math.max(1, state.page), pages);
    saveView();
    const first = (state.page - 1) * state.perPage;
    const shown = rows.slice(first, first + state.perPage).map(index.row);
    const cols = columns();
    renderHead(cols);
    const body = document.createElement("tbody");
    let project = null;
    for (const run of shown) {
      if (state.group && !state.groupBy.length && run.project !== project) {
        project = run.project;
        const tr = body.insertRow();
        tr.className = "group-row";
        const td = tr.insertCell();
        td.colSpan = cols.length;
        td.textContent = `${project} · ${formatCount(groupCounts.get(project))}`;
      }
      renderRunCells(body.insertRow(), run, cols, 0);
    }
    table.replaceChild(body, table.tBodies[0]);
    empty.hidden = rows.length > 0;
    count.textContent = `${formatCount(rows.length)} run${rows.length === 1 ? "" : "s"}`;
    renderPager(rows.length, first, shown.length, pages);
  }

  /** "101–200 of 10,000", Previous / Next, rows per page; hidden when every run fits on the smallest page. */
  function renderPager(total, first, shownCount, pages) {
    if (!pager.nav) return;
    pager.nav.hidden = total <= Math.min(...PAGE_SIZES);
    pager.status.textContent = total ? `${formatCount(first + 1)}–${formatCount(first + shownCount)} of ${formatCount(total)}` : "";
    pager.previous.disabled = state.page <= 1;
    pager.next.disabled = state.page >= pages;
    pager.size.value = String(state.perPage);
  }

  /** Shows page `page`; the pager sits under the table, so the new page is shown from its first row. */
  function turnPage(page) {
    state.page = page;
    render();
    if (tableWrap && tableWrap.getBoundingClientRect().top < 0) tableWrap.scrollIntoView({ block: "start" });
  }

  /** A change of what is listed (filter, sort, grouping) starts again at its first page. */
  function relist() {
    state.page = 1;
    render();
  }

  function renderHead(cols) {
    const head = document.createElement("thead");
    const tr = head.insertRow();
    const sortField = state.sort.replace(/^-/, "");
    for (const col of cols) {
      const th = document.createElement("th");
      th.scope = "col";
      if (col.numeric) th.className = "num";
      if (col.title) th.title = `${col.title} ${col.field}`;
      if (col.unsortable) {
        const hidden = document.createElement("span");
        hidden.className = "visually-hidden";
        hidden.textContent = "Select";
        th.appendChild(hidden);
        tr.appendChild(th);
        continue;
      }
      th.setAttribute("aria-sort", col.field !== sortField ? "none" : state.sort.startsWith("-") ? "descending" : "ascending");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = col.label;
      const mark = document.createElement("span"); // aria-sort says the order; the arrow is for the eye
      mark.className = "sort-mark";
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = th.getAttribute("aria-sort") === "ascending" ? "▲" : th.getAttribute("aria-sort") === "descending" ? "▼" : "";
      button.appendChild(mark);
      button.addEventListener("click", () => {
        const descendingFirst = col.numeric || col.field === "created";
        state.sort = col.field === sortField ? (state.sort.startsWith("-") ? col.field : `-${col.field}`)
          : (descendingFirst ? `-${col.field}` : col.field);
        relist();
      });
      th.appendChild(button);
      tr.appendChild(th);
    }
    table.replaceChild(head, table.tHead);
  }

  function renderSelect(run) {
    const check = document.createElement("input");
    check.type = "checkbox";
    check.className = "select-run";
    check.checked = state.selected.includes(run.id);
    check.setAttribute("aria-label", `Select ${run.name || run.id}`);
    check.addEventListener("change", () => {
      state.selected = check.checked ? state.selected.concat(run.id) : state.selected.filter((id) => id !== run.id);
      updateCompare();
      saveView();
    });
    return check;
  }

  /** The Compare button: enabled for 2 to maxCompareRuns selected runs, with a word on why not. */
  function updateCompare() {
    const count = state.selected.length;
    const tooMany = count > index.maxCompareRuns;
    compareButton.disabled = count < MIN_COMPARE || tooMany;
    compareMessage.textContent = tooMany ? `${count} selected: compare at most ${index.maxCompareRuns} runs`
      : count ? `${count} selected` : "";
    compareMessage.classList.toggle("error", tooMany);
  }

  function renderName(run) {
    const link = document.createElement("a");
    link.href = run.url;
    link.textContent = run.name || run.id;
    link.title = run.id;
    if (!run.alerts) return link;
    // the run recorded alerts (run.alert): a badge linking to its page's Alerts section
    const cell = document.createElement("span");
    const badge = document.createElement("a");
    badge.className = "alerts-badge";
    badge.href = `${run.url}#alerts`;
    badge.textContent = `\u26a0 ${run.alerts}`;
    badge.title = `${run.alerts} alert${run.alerts === 1 ? "" : "s"}`;
    badge.setAttribute("aria-label", badge.title);
    cell.append(link, " ", badge);
    return cell;
  }

  function renderStatus(run) {
    const badge = document.createElement("span");
    badge.className = `badge status-${run.status}`;
    badge.textContent = run.status;
    if ((run.status === "running" || run.status === "crashed") && run.last_seen) {
      const when = new Date(run.last_seen * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      badge.title = `${run.status === "running" ? "last update" : "last seen"} ${when}`;
    }
    return badge;
  }

  function renderTags(run) {
    const span = document.createElement("span");
    for (const tag of run.tags || []) {
      const item = document.createElement("span");
      item.className = "tag";
      item.textContent = tag;
      span.appendChild(item);
    }
    return span;
  }

  function buildPicker() {
    const groups = [["picker-params", fields.params, "config"], ["picker-metrics", fields.metrics, "summary"]];
    for (const [id, names, section] of groups) {
      const box = document.getElementById(id);
      if (!names.length) box.textContent = "none logged";
      for (const name of names) {
        const field = `${section}.${name}`;
        const label = document.createElement("label");
        const check = document.createElement("input");
        check.type = "checkbox";
        check.value = field;
        check.checked = state.chosen.includes(field);
        check.addEventListener("change", () => {
          state.chosen = check.checked ? state.chosen.concat(field) : state.chosen.filter((f) => f !== field);
          render();
        });
        label.append(check, document.createTextNode(name));
        box.appendChild(label);
      }
    }
  }

  function textOf(value) {
    return value === null || value === undefined ? MISSING : Array.isArray(value) ? value.join(", ") : String(value);
  }

  // --- groups of runs (grouping.js): "Group by", "then by", "Show"; their rows, sort and hash keys ---

  const groupControls = {
    first: document.getElementById("group-by"),
    second: document.getElementById("group-by-2"),
    agg: document.getElementById("group-agg"),
    chart: document.getElementById("group-chart"),
  };
  const GROUP_AGGS = ["std", "minmax", "all"];
  const openGroups = new Set(); // the groups shown expanded, by their key's JSON

  let knownGroupFields = null;

  /** The fields a group can be keyed by: run fields, every config key, each dataset's hash (found once). */
  function groupFields() {
    if (!knownGroupFields) knownGroupFields = findGroupFields();
    return knownGroupFields;
  }

  function findGroupFields() {
    const datasets = [...new Set(index.column("datasets").values.flatMap((found) => Object.keys(found || {})))];
    return [["Run", ["project", "group", "status", "tag", "user", "host"].map((name) => [name, name])],
            ["Config", fields.params.map((name) => [`config.${name}`, name])],
            ["Dataset hash", datasets.map((name) => [`dataset.${name}`, name])]];
  }

  function fillGroupSelect(select) {
    for (const [label, options] of groupFields()) {
      if (!options.length) continue;
      const group = document.createElement("optgroup");
      group.label = label;
      for (const [value, text] of options) group.appendChild(Object.assign(document.createElement("option"), { value, textContent: text }));
      select.appendChild(group);
    }
  }

  function setUpGroups() {
    if (!groupControls.first || !Grouping) {
      const box = groupControls.first && groupControls.first.closest(".group-controls");
      if (box) box.hidden = true;
      return;
    }
    fillGroupSelect(groupControls.first);
    fillGroupSelect(groupControls.second);
    const chosen = () => {
      state.groupBy = [groupControls.first.value, groupControls.second.value].filter(Boolean)
        .filter((field, index, list) => list.indexOf(field) === index);
      openGroups.clear();
      syncGroupControls();
      relist();
    };
    groupControls.first.addEventListener("change", chosen);
    groupControls.second.addEventListener("change", chosen);
    groupControls.agg.addEventListener("change", () => { state.groupAgg = groupControls.agg.value; render(); });
  }

  function syncGroupControls() {
    if (!groupControls.first) return;
    const known = (select, value) => [...select.options].some((option) => option.value === value);
    groupControls.first.value = state.groupBy[0] || "";
    groupControls.second.value = state.groupBy[1] || "";
    groupControls.second.disabled = !state.groupBy.length;
    groupControls.agg.value = state.groupAgg;
    groupToggle.disabled = state.groupBy.length > 0;
    if (!known(groupControls.first, state.groupBy[0] || "")) groupControls.first.value = "";
  }

  function restoreGroups(hash) {
    const known = new Set(groupFields().flatMap(([, options]) => options.map(([value]) => value)));
    state.groupBy = (hash.groupby || []).filter((field) => known.has(field)).slice(0, 2);
    state.groupAgg = GROUP_AGGS.includes(hash.agg) ? hash.agg : "std";
    openGroups.clear();
    // the expanded groups, by their key's JSON (a key no group has any more opens nothing)
    for (const key of state.groupBy.length ? hash.open || [] : []) if (isGroupKey(key)) openGroups.add(key);
    syncGroupControls();
  }

  function isGroupKey(text) {
    try {
      const key = JSON.parse(text);
      return Array.isArray(key) && key.length >= 1 && key.length <= state.groupBy.length;
    } catch (error) {
      return false; // a hand-edited link: that group stays closed
    }
  }

  function groupsView() {
    return { groupby: state.groupBy.length ? state.groupBy : null, agg: state.groupAgg === "std" ? null : state.groupAgg,
             open: state.groupBy.length && openGroups.size ? [...openGroups] : null };
  }

  /** The metric a sort by a metric column sorts groups by, or null (groups then keep their key order). */
  function sortMetric() {
    const field = state.sort.replace(/^-/, "");
    if (field.startsWith("summary.")) return field.slice("summary.".length);
    return fields.metrics.includes(field) && !fields.params.includes(field) ? field : null;
  }

  /** Groups as a tree: [{key, label, runs, aggregates, children}], children (the second field) or null. */
  function groupTree(rows) {
    const metrics = [...new Set(state.chosen.filter((field) => field.startsWith("summary."))
      .map((field) => field.slice("summary.".length)).concat(sortMetric() || []))];
    const node = (key, runs, children) => ({ key, runs, children, aggregates: Grouping.aggregateRuns(runs, metrics) });
    const leaves = Grouping.group(rows, state.groupBy);
    let nodes;
    if (state.groupBy.length === 1) {
      nodes = leaves.map((leaf) => node(leaf.key, leaf.runs, null));
    } else {
      nodes = [];
      for (const leaf of leaves) { // ordered by the first key, so a first key's groups are together
        let parent = nodes[nodes.length - 1];
        if (!parent || parent.key[0] !== leaf.key[0]) {
          parent = { key: [leaf.key[0]], leaves: [] };
          nodes.push(parent);
        }
        parent.leaves.push(leaf);
      }
      nodes = nodes.map((parent) => node(parent.key, parent.leaves.flatMap((leaf) => leaf.runs),
                                         parent.leaves.map((leaf) => node(leaf.key, leaf.runs, null))));
    }
    const metric = sortMetric();
    if (metric) sortGroups(nodes, metric, state.sort.startsWith("-"));
    return nodes;
  }

  /** Sorts groups (and their children) by a metric's mean; groups without one stay last. */
  function sortGroups(nodes, metric, descending) {
    const mean = (node) => node.aggregates[metric].mean;
    nodes.sort((a, b) => (mean(a) === null || mean(b) === null ? (mean(a) === null) - (mean(b) === null)
      : descending ? mean(b) - mean(a) : mean(a) - mean(b)));
    for (const node of nodes) if (node.children) sortGroups(node.children, metric, descending);
  }

  /** The rows to list: each group, and the groups and runs inside the open ones. */
  function groupItems(nodes) {
    const items = [];
    for (const node of nodes) {
      const open = openGroups.has(JSON.stringify(node.key));
      items.push({ node, level: 0, open });
      if (!open) continue;
      for (const child of node.children || []) {
        const childOpen = openGroups.has(JSON.stringify(child.key));
        items.push({ node: child, level: 1, open: childOpen });
        if (childOpen) for (const run of child.runs) items.push({ run, level: 2 });
      }
      if (!node.children) for (const run of node.runs) items.push({ run, level: 1 });
    }
    return items;
  }

  function renderGroups(rows) {
    const nodes = groupTree(rows);
    const items = groupItems(nodes);
    const pages = Math.max(1, Math.ceil(items.length / state.perPage));
    state.page = Math.min(Math.max(1, state.page), pages);
    saveView();
    const first = (state.page - 1) * state.perPage;
    const shown = items.slice(first, first + state.perPage);
    const cols = columns();
    renderHead(cols);
    const body = document.createElement("tbody");
    for (const item of shown) {
      const tr = body.insertRow();
      if (item.node) renderGroupRow(tr, item, cols);
      else renderRunCells(tr, item.run, cols, item.level);
    }
    table.replaceChild(body, table.tBodies[0]);
    empty.hidden = rows.length > 0;
    count.textContent = `${formatCount(rows.length)} run${rows.length === 1 ? "" : "s"} in ${formatCount(nodes.length)} group${nodes.length === 1 ? "" : "s"}`;
    renderPager(items.length, first, shown.length, pages);
    const ids = rows.slice(0, index.maxCompareRuns).map((run) => encodeURIComponent(run.id));
    groupControls.chart.hidden = rows.length < 1;
    groupControls.chart.href = groupLink(ids);
  }

  function groupLink(ids) {
    return `compare.html#runs=${ids.join(",")}&groups=${state.groupBy.map(encodeURIComponent).join(",")}`;
  }

  /** A run's row; inside a group (level > 0) indented. */
  function renderRunCells(tr, run, cols, level) {
    tr.dataset.runId = run.id;
    if (level) tr.className = `in-group level-${level}`;
    for (const col of cols) {
      const td = tr.insertCell();
      if (col.numeric && (col.field === "duration" || typeof Query.resolveField(run, col.field) === "number")) td.className = "num";
      if (col.field === "name") td.className = "name";
      const content = col.render ? col.render(run) : textOf(Query.resolveField(run, col.field));
      if (content instanceof Node) td.appendChild(content);
      else td.textContent = content;
    }
  }

  function renderGroupRow(tr, item, cols) {
    const { node, level, open } = item;
    tr.className = `agg-group-row level-${level}`;
    const field = state.groupBy[node.key.length - 1].replace(/^config\./, ""); // a config key by its name
    for (const col of cols) {
      const td = tr.insertCell();
      if (col.field === "select") continue;
      if (col.field === "name") {
        td.className = "name";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "group-toggle";
        button.setAttribute("aria-expanded", String(open));
        button.textContent = `${field}: ${node.key[node.key.length - 1]}`;
        button.addEventListener("click", () => {
          const id = JSON.stringify(node.key);
          if (openGroups.has(id)) openGroups.delete(id); else openGroups.add(id);
          render();
        });
        const runs = document.createElement("span");
        runs.className = "group-count muted";
        runs.textContent = `${formatCount(node.runs.length)} run${node.runs.length === 1 ? "" : "s"}`;
        const link = document.createElement("a");
        link.className = "group-link";
        link.href = groupLink(node.runs.slice(0, index.maxCompareRuns).map((run) => encodeURIComponent(run.id)));
        link.textContent = "chart";
        link.setAttribute("aria-label", `Chart of ${field}: ${node.key[node.key.length - 1]}`);
        td.append(button, " ", runs, " ", link);
      } else if (col.field.startsWith("summary.")) {
        td.className = "num";
        td.appendChild(aggregateCell(node.aggregates[col.field.slice("summary.".length)]));
      } else if (col.field.startsWith("config.")) {
        const values = new Set(node.runs.map((run) => formatValue(Query.resolveField(run, col.field))));
        td.className = "num";
        td.textContent = values.size === 1 ? [...values][0] : "";
        if (values.size > 1) td.title = `${values.size} values`;
      }
    }
  }

  /** "mean ± std" and/or "min – max" of a metric, and how many NaN / Infinity values were skipped. */
  function aggregateCell(found) {
    const cell = document.createElement("span");
    cell.className = "aggregate";
    if (!found || !found.count) {
      cell.textContent = MISSING;
    } else {
      const lines = [];
      if (state.groupAgg !== "minmax") lines.push(`${formatValue(found.mean)} ± ${formatValue(found.std)}`);
      if (state.groupAgg !== "std") lines.push(`${formatValue(found.min)} – ${formatValue(found.max)}`);
      for (const text of lines) cell.appendChild(Object.assign(document.createElement("span"), { className: "aggregate-line", textContent: text }));
      cell.title = `${found.count} value${found.count === 1 ? "" : "s"}; mean ${found.mean}, std ${found.std} (population), min ${found.min}, max ${found.max}`;
    }
    if (found && found.skipped) {
      cell.appendChild(Object.assign(document.createElement("span"), { className: "aggregate-skipped muted",
        textContent: `${found.skipped} NaN/Inf skipped`, title: "NaN and ±Infinity values are left out of the aggregates" }));
    }
    return cell;
  }

  /** Sets the state and the controls from the hash (read by view-state.js); missing keys mean defaults. */
  function restoreView(hash) {
    state.query = hash.q ?? DEFAULT_VIEW.query;
    state.sort = hash.sort || DEFAULT_VIEW.sort;
    state.group = hash.group === "1";
    state.chosen = hash.cols ? hash.cols.filter((field) => knownColumns.has(field)) : DEFAULT_VIEW.chosen;
    state.selected = (hash.sel || []).filter(isKnownRun);
    state.perPage = PAGE_SIZES.includes(Number(hash.per)) ? Number(hash.per) : DEFAULT_VIEW.perPage;
    state.page = Number.isInteger(Number(hash.page)) && Number(hash.page) > 1 ? Number(hash.page) : 1;
    restoreGroups(hash);
    input.value = state.query;
    groupToggle.checked = state.group;
    document.querySelectorAll("#column-picker input[type=checkbox]").forEach((check) => {
      check.checked = state.chosen.includes(check.value);
    });
  }

  function saveView() {
    if (!View) return;
    const defaultColumns = state.chosen.length === DEFAULT_VIEW.chosen.length
      && state.chosen.every((field, index) => field === DEFAULT_VIEW.chosen[index]);
    View.save({
      q: state.query || null,
      sort: state.sort === DEFAULT_VIEW.sort ? null : state.sort,
      cols: defaultColumns ? null : state.chosen,
      group: state.group ? "1" : null,
      sel: state.selected.length ? state.selected : null,
      page: state.page > 1 ? String(state.page) : null,
      per: state.perPage === DEFAULT_VIEW.perPage ? null : String(state.perPage),
      ...groupsView(),
    });
  }

  // A keystroke filters at once, in its own input event: the table changes in the frame that shows
  // the key, and never waits for a frame in between (a timer did: right after the page was drawn
  // for the first time, that frame was a layout of the whole table). Filtering 100,000 runs on the
  // index's columns takes milliseconds.
  input.addEventListener("input", () => { state.query = input.value; relist(); });
  groupToggle.addEventListener("change", () => { state.group = groupToggle.checked; relist(); });
  compareButton.addEventListener("click", () => {
    if (View) View.flush(); // Back returns to this selection
    location.href = `compare.html#runs=${state.selected.map(encodeURIComponent).join(",")}`;
  });
  if (pager.nav) {
    pager.previous.addEventListener("click", () => turnPage(state.page - 1));
    pager.next.addEventListener("click", () => turnPage(state.page + 1));
    pager.size.addEventListener("change", () => {
      const firstShown = (state.page - 1) * state.perPage; // keep the first visible run on screen
      state.perPage = Number(pager.size.value);
      state.page = Math.floor(firstShown / state.perPage) + 1;
      render();
    });
  }
  buildPicker();
  setUpGroups();
  if (View) {
    restoreView(View.read(["cols", "sel", "groupby", "open"]));
    View.onChange(["cols", "sel", "groupby", "open"], (hash) => { restoreView(hash); render(); updateCompare(); });
  }
  render();
  updateCompare();
  performance.mark("tracker:index-ready"); // read by bench/bench_site.py: the table is drawn and live
})();
