/*
 * compare-groups.js: the compare page's Groups section (partials/compare_groups.html): the chosen
 * runs grouped by one or two fields, and per metric one chart with each group's mean line and band
 * by step, the groups side by side, the runs as thin lines that the "Runs" box (or the legend) hides.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows and their data files;
 *   TrackerGrouping (grouping.js): the groups, their bands and bounds (tracker/grouping.py's rules);
 *   TrackerRunData.decode (run-data.js); plotly.js, styled by TrackerChartStyle (chart-style.js).
 * Keeps its controls in the hash through TrackerCompare.saveView:
 *   #runs=...&groups=<field>[,<field>]&band=minmax|stderr&grouplines=0 (defaults are left out).
 *   compare.html#runs=<the group's runs>&groups=<field> is a group's page: the index links there.
 * Each trace carries meta {group, role: "mean" | "low" | "high" | "run"} for tests and readers.
 * Run names, group keys and metric names reach plotly through TrackerChartStyle.text().
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  const RunData = window.TrackerRunData;
  const Style = window.TrackerChartStyle;
  const Grouping = window.TrackerGrouping;
  const section = document.getElementById("compare-groups");
  if (!Compare || !View || !RunData || !Style || !Grouping || !window.Plotly || !section) return;

  // plotly's default colour cycle: tells groups apart in light and dark alike
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const BAND_OPACITY = 0.18;
  const RUN_OPACITY = 0.35;
  const controls = {
    first: document.getElementById("groups-by"),
    second: document.getElementById("groups-by-2"),
    band: document.getElementById("groups-band"),
    lines: document.getElementById("groups-runs"),
  };
  const summary = document.getElementById("groups-summary");
  const grid = document.getElementById("groups-charts");

  function rgba(hex, alpha) {
    const value = parseInt(hex.slice(1), 16);
    return `rgba(${value >> 16},${(value >> 8) & 255},${value & 255},${alpha})`;
  }

  /** The fields the chosen runs can be grouped by: run fields, their config keys, their datasets. */
  function fieldOptions(runs) {
    const keys = [...new Set(runs.flatMap((run) => Object.keys(Compare.flatten(run.config || {}))))];
    const datasets = [...new Set(runs.flatMap((run) => Object.keys(run.datasets || {})))];
    return ["project", "group", "status", "tag", "user", "host"].map((name) => [name, name])
      .concat(keys.map((key) => [`config.${key}`, key]), datasets.map((name) => [`dataset.${name}`, `dataset ${name}`]));
  }

  function fill(select, options) {
    for (const [value, label] of options) select.appendChild(Object.assign(document.createElement("option"), { value, textContent: label }));
  }

  /** A field as a group's label names it: a config key without its "config." */
  function fieldLabel(field) {
    return field.replace(/^config\./, "");
  }

  function chosenFields() {
    return [controls.first.value, controls.second.value].filter(Boolean).filter((field, index, list) => list.indexOf(field) === index);
  }

  function restore(hash) {
    const known = (select, value) => [...select.options].some((option) => option.value === value);
    const [first, second] = (hash.groups || "").split(",").filter(Boolean); // one value: the page's other widgets re-save it as read
    controls.first.value = known(controls.first, first) ? first : "";
    controls.second.value = controls.first.value && known(controls.second, second) ? second : "";
    controls.band.value = Grouping.BANDS.includes(hash.band) ? hash.band : "std";
    controls.lines.checked = hash.grouplines !== "0";
  }

  function save() {
    const fields = chosenFields();
    Compare.saveView({
      groups: fields.length ? fields.join(",") : null,
      band: controls.band.value === "std" ? null : controls.band.value,
      grouplines: controls.lines.checked ? null : "0",
    });
  }

  /** One group's traces for a metric: the band (low, then high filled down to it), the mean, the runs. */
  function groupTraces(group, label, color, metric, state, kind, showRuns) {
    const runs = group.runs.filter((run) => state.data[run.id] && state.data[run.id].metrics[metric]);
    const series = runs.map((run) => RunData.decode(state.data[run.id].metrics[metric]));
    const band = Grouping.band(series);
    if (!band.steps.length) return { traces: [], skipped: band.skipped };
    const [low, high] = Grouping.bounds(band, kind);
    const text = Style.text(label);
    const edge = { type: "scatter", mode: "lines", x: band.steps, line: { width: 0, color }, legendgroup: text,
                   showlegend: false, hoverinfo: "skip" };
    const traces = [
      Object.assign({}, edge, { y: low, meta: { group: label, role: "low" } }),
      Object.assign({}, edge, { y: high, fill: "tonexty", fillcolor: rgba(color, BAND_OPACITY), meta: { group: label, role: "high" } }),
      { type: "scatter", mode: band.steps.length > 1 ? "lines" : "markers", name: `${text} (${runs.length})`, x: band.steps, y: band.mean, legendgroup: text,
        line: { color, width: 2.5 }, customdata: band.count, meta: { group: label, role: "mean" },
        hovertemplate: `mean %{y:.6g}, runs %{customdata}<extra>${text}</extra>` },
    ];
    runs.forEach((run, index) => {
      traces.push({ type: "scatter", mode: "lines", name: Style.text(run.name || run.id), x: series[index].steps,
                    y: series[index].values.map((value) => (Number.isFinite(value) ? value : null)),
                    // the colour's alpha, not the trace's opacity: a translucent trace is its own layer,
                    // which headless Chromium painted as a dark box over the plot in dark mode
                    legendgroup: text, showlegend: false, visible: showRuns,
                    line: { color: rgba(color, RUN_OPACITY), width: 1 }, meta: { group: label, role: "run", run: run.id },
                    hovertemplate: "%{y:.6g}<extra>%{fullData.name}</extra>" });
    });
    return { traces, skipped: band.skipped };
  }

  function draw(state) {
    const fields = chosenFields();
    controls.second.disabled = !controls.first.value;
    grid.replaceChildren();
    if (!fields.length) {
      summary.textContent = "Choose a field to group the runs by: each group's mean with a band, by step.";
      return;
    }
    const groups = Grouping.group(state.runs, fields);
    const labels = groups.map((group) => group.key.map((key, index) => `${fieldLabel(fields[index])}: ${key}`).join(" · "));
    summary.textContent = groups.map((group, index) => `${labels[index]} (${group.runs.length} run${group.runs.length === 1 ? "" : "s"})`).join(", ");
    const palette = Style.palette();
    const metrics = [...new Set(state.runs.flatMap((run) => Object.keys((state.data[run.id] || { metrics: {} }).metrics)))];
    for (const metric of metrics) {
      const figure = document.createElement("figure");
      figure.className = "chart";
      figure.dataset.metric = metric;
      const caption = document.createElement("figcaption");
      const plot = document.createElement("div");
      plot.className = "plot";
      plot.setAttribute("role", "img");
      plot.setAttribute("aria-label", `Groups chart of ${metric}`);
      figure.append(caption, plot);
      grid.appendChild(figure);
      let skipped = 0;
      const traces = groups.flatMap((group, index) => {
        const drawn = groupTraces(group, labels[index], COLORS[index % COLORS.length], metric, state,
                                  controls.band.value, controls.lines.checked);
        skipped += drawn.skipped;
        return drawn.traces;
      }).map((trace, index) => Object.assign(trace, { uid: String(index) }));
      caption.textContent = `${metric} by step${skipped ? ` · ${skipped} NaN/Inf point${skipped === 1 ? "" : "s"} skipped` : ""}`;
      const layout = Object.assign(Style.layout(palette), { showlegend: true, legend: { orientation: "h", y: -0.2 } });
      window.Plotly.react(plot, traces, layout, Style.CONFIG);
    }
    if (!metrics.length) grid.textContent = "No metrics logged.";
  }

  Compare.onReady(({ runs, data }) => {
    const state = { runs, data };
    const options = fieldOptions(runs);
    fill(controls.first, options);
    fill(controls.second, options);
    const hash = View.read();
    restore(hash);
    const redraw = () => { save(); draw(state); };
    for (const control of [controls.first, controls.second, controls.band, controls.lines]) control.addEventListener("change", redraw);
    View.onChange([], (changed) => { restore(changed); draw(state); });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => draw(state));
    draw(state);
    if (hash.groups) section.scrollIntoView({ block: "start" }); // a group's page: its chart first
  });
})();
