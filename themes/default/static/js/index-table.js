/*
 * index-table.js: the runs table on the index page: search/filter, sort, column picker, grouping.
 *
 * Reads: window.TrackerData.index (data/index.js) =
 *   {runs: [{id, name, project, group, status, tags, user, host, notes, created, duration_s,
 *            config, summary, url, slug}], params: [dotted config keys], metrics: [summary names],
 *   defaultColumns: ["config.lr", "summary.acc", ...], unreadable: [{path, reason}]}
 * Uses: window.TrackerQuery (query.js) for the filter grammar and the sort order;
 *   window.TrackerViewState (view-state.js) to keep the view in the URL's hash:
 *   #q=<filter>&sort=[-]<field>&cols=<field>,<field>&group=1&sel=<id>,<id> (defaults are left out).
 * A checkbox per row selects runs; "Compare" (#compare-runs) opens compare.html#runs=<id>,<id>,...
 * for 2 to data.maxCompareRuns of them.
 * Builds every cell with textContent: no logged string is ever parsed as HTML.
 */
(function () {
  "use strict";
  const formatValue = window.TrackerFormat.formatValue;

  const data = window.TrackerData && window.TrackerData.index;
  if (!data || !window.TrackerQuery) return;
  const Query = window.TrackerQuery;

  const BASE_COLUMNS = [
    { field: "select", label: "", render: renderSelect, unsortable: true },
    { field: "name", label: "Name", render: renderName },
    { field: "project", label: "Project" },
    { field: "status", label: "Status", render: renderStatus },
    { field: "created", label: "Started", render: (run) => formatDate(run.created) },
    { field: "duration", label: "Duration", numeric: true, render: (run) => formatDuration(run.duration_s) },
    { field: "tags", label: "Tags", render: renderTags },
  ];

  const state = { query: "", sort: "-created", group: false, chosen: data.defaultColumns.slice(), selected: [] };
  const table = document.getElementById("runs-table");
  const input = document.getElementById("run-filter");
  const message = document.getElementById("filter-message");
  const count = document.getElementById("run-count");
  const empty = document.getElementById("runs-empty");
  const groupToggle = document.getElementById("group-by-project");
  const compareButton = document.getElementById("compare-runs");
  const compareMessage = document.getElementById("compare-message");
  const MIN_COMPARE = 2;
  const View = window.TrackerViewState; // absent in a theme whose index.html leaves view-state.js out
  const DEFAULT_VIEW = Object.assign({}, state);
  const knownRuns = new Set(data.runs.map((run) => run.id));
  const knownColumns = new Set(data.params.map((name) => `config.${name}`)
    .concat(data.metrics.map((name) => `summary.${name}`)));

  function columns() {
    const extra = state.chosen.map((field) => {
      const [section, ...rest] = field.split(".");
      const name = rest.join(".");
      return { field, label: name, numeric: true, title: section === "config" ? "parameter" : "metric",
               render: (run) => formatValue(Query.resolveField(run, field)) };
    });
    return BASE_COLUMNS.concat(extra);
  }

  function filtered() {
    let query;
    try {
      query = Query.parse(state.query);
    } catch (error) {
      showMessage(error.message, true);
      return null;
    }
    const rows = data.runs.filter((run) => query.matches(run));
    showMessage(state.query.trim() ? `${rows.length} of ${data.runs.length} runs match` : "", false);
    return rows;
  }

  function showMessage(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", isError);
    input.setAttribute("aria-invalid", isError ? "true" : "false");
  }

  function render() {
    saveView();
    const rows = filtered();
    if (rows === null) return; // keep the last good table while the query is invalid
    const cols = columns();
    rows.sort((a, b) => Query.compareForSort(a, b, state.sort) || Query.compareForSort(a, b, "-created"));
    if (state.group) {
      const order = [...new Set(data.runs.map((run) => run.project))].sort();
      rows.sort((a, b) => order.indexOf(a.project) - order.indexOf(b.project));
    }
    renderHead(cols);
    const body = document.createElement("tbody");
    let project = null;
    for (const run of rows) {
      if (state.group && run.project !== project) {
        project = run.project;
        const tr = body.insertRow();
        tr.className = "group-row";
        const td = tr.insertCell();
        td.colSpan = cols.length;
        td.textContent = `${project} · ${rows.filter((r) => r.project === project).length}`;
      }
      const tr = body.insertRow();
      tr.dataset.runId = run.id;
      for (const col of cols) {
        const td = tr.insertCell();
        if (col.numeric && (col.field === "duration" || typeof Query.resolveField(run, col.field) === "number")) td.className = "num";
        if (col.field === "name") td.className = "name";
        const content = col.render ? col.render(run) : textOf(Query.resolveField(run, col.field));
        if (content instanceof Node) td.appendChild(content);
        else td.textContent = content;
      }
    }
    table.replaceChild(body, table.tBodies[0]);
    empty.hidden = rows.length > 0;
    count.textContent = `${rows.length} run${rows.length === 1 ? "" : "s"}`;
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
        render();
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
    const tooMany = count > data.maxCompareRuns;
    compareButton.disabled = count < MIN_COMPARE || tooMany;
    compareMessage.textContent = tooMany ? `${count} selected: compare at most ${data.maxCompareRuns} runs`
      : count ? `${count} selected` : "";
    compareMessage.classList.toggle("error", tooMany);
  }

  function renderName(run) {
    const link = document.createElement("a");
    link.href = run.url;
    link.textContent = run.name || run.id;
    link.title = run.id;
    return link;
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
    const groups = [["picker-params", data.params, "config"], ["picker-metrics", data.metrics, "summary"]];
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
    return value === null || value === undefined ? "–" : Array.isArray(value) ? value.join(", ") : String(value);
  }


  function formatDate(unixSeconds) {
    if (!unixSeconds) return "–";
    const date = new Date(unixSeconds * 1000);
    return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const total = Math.round(seconds);
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
  }

  /** Sets the state and the controls from the hash (read by view-state.js); missing keys mean defaults. */
  function restoreView(hash) {
    state.query = hash.q ?? DEFAULT_VIEW.query;
    state.sort = hash.sort || DEFAULT_VIEW.sort;
    state.group = hash.group === "1";
    state.chosen = hash.cols ? hash.cols.filter((field) => knownColumns.has(field)) : DEFAULT_VIEW.chosen;
    state.selected = (hash.sel || []).filter((id) => knownRuns.has(id));
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
    });
  }

  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.query = input.value; render(); }, data.runs.length > 2000 ? 150 : 0);
  });
  groupToggle.addEventListener("change", () => { state.group = groupToggle.checked; render(); });
  compareButton.addEventListener("click", () => {
    if (View) View.flush(); // Back returns to this selection
    location.href = `compare.html#runs=${state.selected.map(encodeURIComponent).join(",")}`;
  });
  buildPicker();
  if (View) {
    restoreView(View.read(["cols", "sel"]));
    View.onChange(["cols", "sel"], (hash) => { restoreView(hash); render(); updateCompare(); });
  }
  render();
  updateCompare();
})();
