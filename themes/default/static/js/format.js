/* Value and duration text shared by the index table, the compare tables and the project view.
 * Reads: nothing. Exposes: window.TrackerFormat = {formatValue, formatDuration, MISSING}.
 * Non-finite numbers arrive as the markers "NaN", "Infinity", "-Infinity" and are shown as such.
 * tracker/formatting.py (format_value, format_duration) gives the same text for the cases in
 * tests/contracts/text.json, which both test suites run.
 */
(function () {
  "use strict";

  const MISSING = "-"; // a value or time that is not there

  function formatValue(value) {
    if (value === null || value === undefined) return MISSING;
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      return Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3 ? value.toExponential(3) : String(+value.toPrecision(5));
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value); // includes the markers "NaN", "Infinity", "-Infinity"
  }

  /** "1h05m", "4m07s", "9s": whole seconds, halves rounded up; none or non-finite is MISSING. */
  function formatDuration(seconds) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds)) return MISSING;
    const total = Math.round(seconds);
    if (total < 0) return `-${formatDuration(-total)}`;
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
  }

  window.TrackerFormat = Object.freeze({ formatValue, formatDuration, MISSING });
})();
