/* Value formatting shared by the index table and the compare tables.
 * Reads: nothing. Exposes: window.TrackerFormat = {formatValue}.
 * Non-finite numbers arrive as the markers "NaN", "Infinity", "-Infinity" and are shown as such.
 */
(function () {
  "use strict";

  function formatValue(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      return Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3 ? value.toExponential(3) : String(+value.toPrecision(5));
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value); // includes the markers "NaN", "Infinity", "-Infinity"
  }

  window.TrackerFormat = Object.freeze({ formatValue });
})();
