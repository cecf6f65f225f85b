/* Value and duration text shared by the index table, the compare tables and the project view.
 * Reads: nothing. Exposes: window.TrackerFormat = {formatValue, formatNumber, formatDuration, formatDate,
 * formatCount, MISSING}. <script src="format.js" data-prepare> makes the date and count formatters
 * at load rather than on first use: a page's first Intl formatter costs 10-100 ms or more (ICU's
 * locale data), which the index page, loading format.js before data/index.js, pays while that parses.
 * Non-finite numbers arrive as the markers "NaN", "Infinity", "-Infinity" and are shown as such.
 * tracker/formatting.py (format_value, format_duration) gives the same text for the cases in
 * tests/contracts/text.json, which both test suites run.
 */
(function () {
  "use strict";

  const MISSING = "-"; // a value or time that is not there

  const SIGNIFICANT = 6; // digits of a number that is not whole, as Python's "%.6g"

  /** A config or metric value as text: numbers as formatNumber, lists and objects as JSON. */
  function formatValue(value) {
    if (value === null || value === undefined) return MISSING;
    if (typeof value === "number") return formatNumber(value);
    if (typeof value === "object") return JSON.stringify(value);
    return String(value); // includes the markers "NaN", "Infinity", "-Infinity"
  }

  /**
   * Whole numbers in full (up to 1e21, where JavaScript itself turns to 1e+21); others with 6
   * significant digits as Python's "%.6g" writes them: 0.123457, 1.5e-05, 1.23457e+08.
   */
  function formatNumber(value) {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
    const [mantissa, exponentText] = exponential(value).split("e");
    const exponent = Number(exponentText);
    const sign = mantissa.startsWith("-") ? "-" : "";
    if (exponent < -4 || exponent >= SIGNIFICANT) {
      return `${trimFraction(mantissa)}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
    }
    const digits = mantissa.replace(/[-.]/g, "");
    const [whole, fraction] = exponent >= 0 ? [digits.slice(0, exponent + 1), digits.slice(exponent + 1)]
      : ["0", "0".repeat(-exponent - 1) + digits];
    return sign + trimFraction(`${whole}.${fraction}`);
  }

  /**
   * value.toExponential(SIGNIFICANT - 1), a tie rounded to the even digit as Python rounds it
   * (toExponential rounds it up: 123456.5 would be 123457 where Python writes 123456). A tie is
   * a value whose exact decimal expansion (toPrecision(100) shows every digit it has) is a 5 and
   * then only zeros after the kept digits.
   */
  function exponential(value) {
    const text = value.toExponential(SIGNIFICANT - 1);
    const exact = Math.abs(value).toPrecision(100).split("e")[0].replace(".", "").replace(/^0+/, "");
    const tie = exact[SIGNIFICANT] === "5" && /^0*$/.test(exact.slice(SIGNIFICANT + 1));
    if (!tie || Number(exact[SIGNIFICANT - 1]) % 2) return text;
    // rounding down to an even last digit never carries: the exponent is toExponential's
    return `${value < 0 ? "-" : ""}${exact[0]}.${exact.slice(1, SIGNIFICANT)}e${text.split("e")[1]}`;
  }

  function trimFraction(text) {
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  /** "1h05m", "4m07s", "9s": whole seconds, halves rounded up; none or non-finite is MISSING. */
  function formatDuration(seconds) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds)) return MISSING;
    const total = Math.round(seconds);
    if (total < 0) return `-${formatDuration(-total)}`;
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
  }

  let dateFormat = null, countFormat = null;

  /** A unix time as the reader's local date and time ("Nov 29, 2026, 10:00 AM"); none is MISSING. */
  function formatDate(unixSeconds) {
    if (!unixSeconds) return MISSING;
    // one formatter for every call: toLocaleString builds one per call, 15 ms of a 100-row page
    dateFormat = dateFormat || new Intl.DateTimeFormat(undefined,
      { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    return dateFormat.format(new Date(unixSeconds * 1000));
  }

  /** A count with thousands separators, the same on every machine: 10,000. */
  function formatCount(count) {
    countFormat = countFormat || new Intl.NumberFormat("en-US");
    return countFormat.format(count);
  }

  if (document.currentScript && document.currentScript.hasAttribute("data-prepare")) {
    formatDate(1);
    formatCount(1);
  }

  window.TrackerFormat = Object.freeze({ formatValue, formatNumber, formatDuration, formatDate, formatCount, MISSING });
})();
