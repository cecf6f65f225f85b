/*
 * view-state.js: a page's view state kept in the URL's hash, so a copied link opens the same view
 * cold, from file:// or from any server sub-path; and the "Copy link" button.
 *
 * Reads and writes: location.hash as key=value pairs joined by "&", each value percent-encoded
 * (a list is its encoded items joined by ","), e.g. #q=status%3Afailed&sort=-config.lr&group=1.
 * The hash, not the query string: file:// URLs keep it, and no server ever sees it.
 * Reads: the button #copy-link, its read-only fallback input #copy-link-input and its status
 * #copy-link-status (partials/copy_link.html).
 * Exposes: window.TrackerViewState = {read, save, flush, onChange}. Widget scripts (index-table.js,
 * run-charts.js) read the hash before their first render and save what the user changes.
 */
(function () {
  "use strict";

  const SAVE_DELAY_MS = 250; // typing and slider drags write the URL once they pause
  const STATUS_SHOWN_MS = 2000;

  /**
   * The hash as {key: string}, or {key: string[]} for the keys in listKeys; a key given twice keeps
   * its last value.
   */
  function read(listKeys = []) {
    const values = {};
    // a save still waiting is the view already: a widget saving within another's pause keeps its keys
    const hash = pending === null ? location.hash.replace(/^#/, "") : encode(pending);
    for (const pair of hash.split("&")) {
      if (!pair) continue;
      const equals = pair.indexOf("=");
      const raw = equals < 0 ? "" : pair.slice(equals + 1);
      try {
        const key = decodeURIComponent(equals < 0 ? pair : pair.slice(0, equals));
        values[key] = listKeys.includes(key)
          ? raw.split(",").filter(Boolean).map(decodeURIComponent) : decodeURIComponent(raw);
      } catch (error) {
        // a hand-edited link with a stray "%": skip that pair, keep the rest of the view
      }
    }
    return values;
  }

  /** The hash text for {key: string | string[] | null}; null and undefined leave a key out. */
  function encode(values) {
    return Object.entries(values)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${Array.isArray(value)
        ? value.map(encodeURIComponent).join(",") : encodeURIComponent(value)}`)
      .join("&");
  }

  let pending = null;
  let timer = null;

  /** Writes values to the hash after a short pause, replacing the history entry (no back-button spam). */
  function save(values) {
    pending = values;
    clearTimeout(timer);
    timer = setTimeout(flush, SAVE_DELAY_MS);
  }

  /** Writes any pending values now. */
  function flush() {
    clearTimeout(timer);
    if (pending === null) return;
    const hash = encode(pending);
    pending = null;
    if (hash === location.hash.replace(/^#/, "")) return;
    const bare = location.href.split("#")[0];
    history.replaceState(history.state, "", hash ? `${bare}#${hash}` : bare);
  }

  // a hash edited by hand (or back/forward) wins over a save still waiting
  window.addEventListener("hashchange", () => {
    clearTimeout(timer);
    pending = null;
  });

  /** Calls back with read(listKeys) when the hash is changed from outside (edited, back/forward). */
  function onChange(listKeys, callback) {
    window.addEventListener("hashchange", () => callback(read(listKeys)));
  }

  function setUpCopyLink() {
    const button = document.getElementById("copy-link");
    const input = document.getElementById("copy-link-input");
    const status = document.getElementById("copy-link-status");
    if (!button || !input || !status) return;
    let clear = null;

    function show(text) {
      status.textContent = text;
      clearTimeout(clear);
      clear = setTimeout(() => { status.textContent = ""; }, STATUS_SHOWN_MS);
    }

    // file:// pages may have no clipboard API, or one that refuses: select the link and use the
    // older copy command; if that fails too, leave the link shown and selected to copy by hand.
    function copyBySelecting(href) {
      input.value = href;
      input.hidden = false;
      input.select();
      let copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      if (copied) {
        input.hidden = true;
        show("Copied");
      } else {
        status.textContent = "Press Ctrl+C (⌘C) to copy the selected link";
      }
    }

    button.addEventListener("click", () => {
      flush();
      const href = location.href;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(href).then(() => show("Copied"), () => copyBySelecting(href));
      } else {
        copyBySelecting(href);
      }
    });
  }

  window.TrackerViewState = Object.freeze({ read, save, flush, onChange });
  setUpCopyLink();
})();
