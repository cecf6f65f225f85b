/*
 * run-csv.js: "Download CSV" on the run page: every logged point of every metric, built in the
 * browser from the page's data (no stored file), one row per point:
 *   metric,step,seconds_since_start,wall_time_utc,value      (value may be NaN / Infinity / -Infinity)
 * When the page holds reduced series, #download-csv is a link to the gzipped CSV the build wrote
 * from every logged point instead (sitegen/metrics_csv.py, same columns), and this does nothing.
 *
 * Reads: TrackerRunData.current() (see run-data.js); the button #download-csv.
 */
(function () {
  "use strict";

  const button = document.getElementById("download-csv");
  const run = window.TrackerRunData && window.TrackerRunData.current();
  if (!button || button.tagName === "A" || !run) return;

  function cell(value) {
    let text = String(value);
    if (/^[=+\-@]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`; // no spreadsheet formulas
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function csv() {
    const lines = ["metric,step,seconds_since_start,wall_time_utc,value"];
    for (const [name, data] of Object.entries(run.metrics)) {
      const series = window.TrackerRunData.decode(data);
      series.values.forEach((value, index) => {
        const t = series.times[index];
        const wall = t === null || t === undefined || !run.created ? "" : new Date((run.created + t) * 1000).toISOString();
        lines.push([cell(name), series.steps[index], t ?? "", wall, window.TrackerRunData.valueText(value, data)].join(","));
      });
    }
    return lines.join("\n") + "\n";
  }

  button.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([csv()], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${(run.name || run.id).replace(/[^A-Za-z0-9._-]+/g, "_")}-metrics.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
})();
