/*
 * base64.js: the bytes of the build's base64 texts, for the two loaders that unpack numbers from
 * them: index-data.js (the index's columns of floats) and run-data.js (a run's series).
 *
 * Reads: nothing. Exposes: window.TrackerBase64 = {bytesOf(text) -> Uint8Array}.
 */
(function () {
  "use strict";

  /** The bytes of a base64 text: natively where the browser can (Uint8Array.fromBase64: a column
   * of 100,000 floats in a millisecond), else through atob, a character at a time. */
  function bytesOf(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let position = 0; position < binary.length; position++) bytes[position] = binary.charCodeAt(position);
    return bytes;
  }

  window.TrackerBase64 = Object.freeze({ bytesOf });
})();
