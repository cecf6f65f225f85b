/*
 * compare-code.js: the compare page's Code section: how two of the chosen runs' code differs.
 *
 * Reads: TrackerCompare.onReady (compare-data.js): the chosen index rows (slug, name, id) and their run
 * data files (TrackerData.runs[<run id>].code = {commit, branch} for a run without a patch or a script
 * snapshot, which has no code file); loads with TrackerCompare.loadScript, never fetched (so file:// works):
 * - for each other shown run (or a site built before run data held "code"), its runs/<slug>/code.js
 *   (sitegen/code_data.py): TrackerData.code[<run id>] = {commit, branch, patch, patchCut, script,
 *   scriptText, scriptCut};
 * - when the two commits differ, data/commits/index.js (sitegen/commit_diffs.py):
 *   TrackerData.commitDiffIndex = {repository, keys}, the pairs the site holds (the build makes them
 *   only inside the runs' git checkout, a bounded set), and the pair's data/commits/<hash>-<hash>.js
 *   (the two full hashes sorted) when it is one of them: TrackerData.commitDiffs[key] =
 *   {from, to, text, files, filesTotal, bytesCut, notice}.
 * Computes the difference of the two uncommitted patches and of the two entry scripts with
 * TrackerLineDiff.unifiedDiff (line-diff.js; the same text as `tracker diff --code`).
 * Of more than two runs, the pair is chosen with From and To and kept in the hash as code=<id>,<id>
 * (TrackerCompare.saveView). Every logged text is set as textContent: markup in code shows as text.
 */
(function () {
  "use strict";

  const Compare = window.TrackerCompare;
  const View = window.TrackerViewState;
  const LineDiff = window.TrackerLineDiff;
  if (!Compare || !View || !LineDiff) return;

  const summary = document.getElementById("compare-code-summary");
  const parts = document.getElementById("compare-code-parts");
  const pairBox = document.getElementById("compare-code-pair");
  const selectA = document.getElementById("compare-code-a");
  const selectB = document.getElementById("compare-code-b");
  const SHORT = 12;
  const loads = new Map(); // src -> Promise<boolean>: each data file is inserted once

  function load(src) {
    if (!loads.has(src)) loads.set(src, Compare.loadScript(src));
    return loads.get(src);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /**
   * A diff as highlighted lines: the lines before a file's first "@@" are its header (git's
   * "diff --git", "index", "---", "+++"), then each hunk's lines by their first character until a
   * line that cannot be in a hunk starts the next file's header.
   */
  function diffBlock(text, label) {
    const pre = element("pre", "diff-body code-diff");
    pre.setAttribute("aria-label", label);
    pre.tabIndex = 0;
    const code = element("code");
    let inHunk = false;
    for (const line of LineDiff.splitLines(text)) {
      let kind;
      if (line.startsWith("@@")) { inHunk = true; kind = "hunk"; }
      else if (inHunk && /^[ +\-\\]/.test(line)) kind = { "+": "add", "-": "del", "\\": "meta" }[line[0]] || "ctx";
      else { inHunk = false; kind = "meta"; }
      code.appendChild(element("span", `d-${kind}`, line));
    }
    pre.appendChild(code);
    return pre;
  }

  function part(title, id) {
    const section = element("section", "compare-code-part");
    section.id = id;
    section.appendChild(element("h3", null, title));
    parts.appendChild(section);
    return section;
  }

  function note(section, text, className = "muted") {
    section.appendChild(element("p", className, text));
  }

  const short = (commit) => commit.slice(0, SHORT);
  const nameOf = (run) => run.name || run.id;

  async function commitsPart(section, a, b, codeA, codeB) {
    const commitA = codeA && codeA.commit, commitB = codeB && codeB.commit;
    if (!commitA || !commitB) {
      const missing = [[a, commitA], [b, commitB]].filter(([, commit]) => !commit).map(([run]) => nameOf(run));
      note(section, `No git commit recorded by ${missing.join(" and ")}.`);
      return;
    }
    if (commitA === commitB) {
      note(section, `Both at commit ${short(commitA)}${codeA.branch ? ` (${codeA.branch})` : ""}.`);
      return;
    }
    const key = [commitA, commitB].sort().join("-");
    await load("data/commits/index.js");
    const held = (window.TrackerData || {}).commitDiffIndex || { repository: false, keys: [] };
    if (held.keys.includes(key)) await load(`data/commits/${key}.js`);
    const diff = ((window.TrackerData || {}).commitDiffs || {})[key];
    if (!diff) {
      const why = held.repository
        ? "the site holds a bounded set of pairs (every pair of up to 8 commits, else each commit against the one " +
          "before it and against the most common one), or its repository lacks one of them"
        : "the build makes it only when it runs inside their git repository";
      note(section, `${nameOf(a)} is at commit ${short(commitA)}, ${nameOf(b)} at ${short(commitB)}. No diff of the ` +
        `two commits here: ${why}. In the repository, tracker diff --code ${a.id} ${b.id} prints it.`);
      return;
    }
    const runAt = (commit) => (commit === commitA ? nameOf(a) : nameOf(b));
    note(section, `From ${short(diff.from)} (${runAt(diff.from)}) to ${short(diff.to)} (${runAt(diff.to)}): ` +
      `${diff.filesTotal} file${diff.filesTotal === 1 ? "" : "s"} changed.`);
    if (diff.notice) note(section, `Not shown: ${diff.notice}.`, "notice notice-warn");
    if (diff.text) section.appendChild(diffBlock(diff.text, `git diff ${short(diff.from)} ${short(diff.to)}`));
  }

  function textPart(title, id, a, b, textA, textB, nameA, nameB, cut, nothing) {
    const section = part(title, id);
    if (!textA && !textB) {
      note(section, nothing);
      return;
    }
    const diff = LineDiff.unifiedDiff(textA || "", textB || "", `${nameOf(a)}/${nameA}`, `${nameOf(b)}/${nameB}`);
    if (cut) note(section, "A text was cut at 1 MiB when it was captured: its end is not compared.", "notice notice-warn");
    if (!diff) note(section, "Identical.");
    else section.appendChild(diffBlock(diff, `${title}: ${nameOf(a)} against ${nameOf(b)}`));
  }

  let drawing = 0; // the latest draw: an earlier one still loading must not draw over it

  /** A run's code record, or null when the site has none for it. */
  async function codeOf(run) {
    const data = ((window.TrackerData || {}).runs || {})[run.id];
    if (data && data.code) { // no patch and no script: the run data holds all there is
      return { commit: data.code.commit, branch: data.code.branch, patch: null, patchCut: false, script: null,
               scriptText: null, scriptCut: false };
    }
    const ready = await load(`runs/${encodeURIComponent(run.slug)}/code.js`);
    return ready ? ((window.TrackerData || {}).code || {})[run.id] || null : null;
  }

  async function draw(a, b) {
    const ticket = ++drawing;
    const [codeA, codeB] = await Promise.all([a, b].map(codeOf));
    if (ticket !== drawing) return;
    parts.replaceChildren();
    summary.textContent = `${nameOf(a)} → ${nameOf(b)}: lines removed from ${nameOf(a)} in red, added in ${nameOf(b)} in green.`;
    if (!codeA && !codeB) {
      summary.textContent = "No code file for these runs: the site was built before it had them.";
      return;
    }
    await commitsPart(part("Commits", "compare-code-commits"), a, b, codeA, codeB);
    if (ticket !== drawing) return;
    const empty = {};
    const [ca, cb] = [codeA || empty, codeB || empty];
    textPart("Uncommitted changes", "compare-code-patches", a, b, ca.patch, cb.patch, "diff.patch", "diff.patch",
             ca.patchCut || cb.patchCut, "Neither run had uncommitted changes (files/diff.patch).");
    textPart("Entry script", "compare-code-scripts", a, b, ca.scriptText, cb.scriptText, ca.script || "script",
             cb.script || "script", ca.scriptCut || cb.scriptCut, "Neither run has a snapshot of its entry script.");
  }

  Compare.onReady(({ runs }) => {
    if (runs.length < 2) return;
    const byId = new Map(runs.map((run) => [run.id, run]));
    const options = runs.map((run) => [run.id, nameOf(run)]);
    for (const select of [selectA, selectB]) {
      select.replaceChildren(...options.map(([value, label]) => Object.assign(document.createElement("option"),
                                                                              { value, textContent: label })));
    }
    pairBox.hidden = runs.length < 3;

    function restore(hash) {
      const chosen = String(hash.code || "").split(",").filter((id) => byId.has(id)); // "a,b" or "a%2Cb"
      selectA.value = chosen.length === 2 && chosen[0] !== chosen[1] ? chosen[0] : runs[0].id;
      selectB.value = chosen.length === 2 && chosen[0] !== chosen[1] ? chosen[1] : runs[1].id;
    }

    function redraw() {
      const defaults = selectA.value === runs[0].id && selectB.value === runs[1].id;
      Compare.saveView({ code: defaults ? null : [selectA.value, selectB.value] });
      draw(byId.get(selectA.value), byId.get(selectB.value));
    }

    restore(View.read());
    selectA.addEventListener("change", redraw);
    selectB.addEventListener("change", redraw);
    View.onChange([], (hash) => { restore(hash); draw(byId.get(selectA.value), byId.get(selectB.value)); });
    draw(byId.get(selectA.value), byId.get(selectB.value));
  });
})();
