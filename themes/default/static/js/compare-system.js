/*
 * compare-system.js: the compare page's System metrics section: per system metric (CPU, memory, GPU
 * utilisation and memory, then disk, network and the rest), one chart with a line per chosen run.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows and their data files, whose
 * "system" series (sitegen/run_data.py; the system records of docs/format.md, sampled every 5 s)
 * and "metrics" series TrackerRunData (run-data.js) decodes and downsamples; plotly.js, styled by
 * TrackerChartStyle (chart-style.js), its axes set by TrackerChartControls (chart-controls.js).
 * The x axis (#system-x): seconds since each run started (relative, the default), or the training
 * step: a sample is drawn at the step of its run's last metric point logged at or before the sample's
 * time (the run's series with the most points); a run that logged no metric then has no line.
 * Kept in the hash as sysx=step (TrackerCompare.saveView). Names reach plotly through TrackerChartStyle.text().
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  const RunData = window.TrackerRunData;
  const Style = window.TrackerChartStyle;
  const Controls = window.TrackerChartControls;
  if (!Compare || !View || !RunData || !Style || !Controls || !window.Plotly) return;

  const grid = document.getElementById("system-charts");
  const summary = document.getElementById("system-summary");
  const xSelect = document.getElementById("system-x");
  const DEFAULT_X = "relative";
  // The order the charts come in: what the issue of a slow run usually is first.
  const ORDER = [/^cpu_percent$/, /^process_cpu_percent$/, /^memory_percent$/, /^memory_used_bytes$/,
                 /^process_rss_bytes$/, /^gpu\d+_utilization_percent$/, /^gpu\d+_memory_percent$/,
                 /^gpu\d+_memory_used_bytes$/, /^gpu/];

  function rank(name) {
    const position = ORDER.findIndex((pattern) => pattern.test(name));
    return position < 0 ? ORDER.length : position;
  }

  /** The run's training step at each time: its longest metric series' last step logged by then. */
  function stepsAt(data, times) {
    const longest = Object.values(data.metrics || {}).map((series) => RunData.decode(series))
      .sort((a, b) => b.steps.length - a.steps.length)[0];
    if (!longest) return times.map(() => null);
    const points = longest.times.map((time, index) => [time, longest.steps[index]])
      .filter(([time]) => time !== null).sort((a, b) => a[0] - b[0]);
    return times.map((time) => {
      if (time === null) return null;
      let low = 0, high = points.length; // the first point later than `time`
      while (low < high) {
        const middle = (low + high) >> 1;
        if (points[middle][0] <= time) low = middle + 1; else high = middle;
      }
      return low ? points[low - 1][1] : null;
    });
  }

  function traces(runs, data, name, mode, palette) {
    return runs.filter((run) => data[run.id] && (data[run.id].system || {})[name]).flatMap((run) => {
      const series = RunData.decode(data[run.id].system[name]);
      const x = mode === "step" ? stepsAt(data[run.id], series.times) : Controls.xValues(series, data[run.id].created, mode);
      const kept = RunData.downsample(series.values).filter((index) => x[index] !== null);
      const label = Style.text(run.name || run.id);
      const line = { type: "scatter", mode: "lines", name: label, x: kept.map((i) => x[i]),
                     y: kept.map((i) => series.values[i]), hovertemplate: "%{y:.4s}" };
      const markers = RunData.nonFiniteTrace(series, x, palette.bad, `${label}: `);
      return markers ? [line, markers] : [line];
    }).map((trace, index) => Object.assign(trace, { uid: String(index) }));
  }

  function draw(state) {
    const palette = Style.palette();
    const mode = xSelect.value;
    for (const figure of grid.querySelectorAll("figure.chart")) {
      const layout = Controls.applyAxes(Object.assign(Style.layout(palette), { showlegend: true,
        legend: { orientation: "h", y: -0.2 } }), { mode, log: false }, palette, RunData.EDGE_AXIS);
      if (mode === "step") layout.xaxis.title.text = "training step";
      window.Plotly.react(figure.querySelector(".plot"), traces(state.runs, state.data, figure.dataset.metric, mode, palette),
                          layout, Style.CONFIG);
    }
  }

  function restore(hash) {
    xSelect.value = hash.sysx === "step" ? "step" : DEFAULT_X;
  }

  Compare.onReady(({ runs, data }) => {
    const names = [...new Set(runs.flatMap((run) => Object.keys((data[run.id] || {}).system || {})))]
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const recorded = runs.filter((run) => Object.keys((data[run.id] || {}).system || {}).length);
    if (!names.length) {
      summary.textContent = "None of these runs recorded system metrics.";
      return;
    }
    summary.textContent = `${recorded.length} of ${runs.length} runs recorded system metrics` +
      (recorded.length < runs.length ? `; not: ${runs.filter((run) => !recorded.includes(run)).map((run) => run.name || run.id).join(", ")}.` : ".");
    for (const name of names) {
      const figure = document.createElement("figure");
      figure.className = "chart";
      figure.dataset.metric = name;
      const caption = document.createElement("figcaption");
      caption.textContent = name;
      const plot = document.createElement("div");
      plot.className = "plot";
      plot.setAttribute("role", "img");
      plot.setAttribute("aria-label", `Chart of ${name} across runs`);
      figure.append(caption, plot);
      grid.appendChild(figure);
    }
    const state = { runs, data };
    restore(View.read());
    xSelect.addEventListener("change", () => {
      Compare.saveView({ sysx: xSelect.value === DEFAULT_X ? null : xSelect.value });
      draw(state);
    });
    View.onChange([], (hash) => { restore(hash); draw(state); });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => draw(state));
    draw(state);
  });
})();
