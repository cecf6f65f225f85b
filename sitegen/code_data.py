"""A run's code file: its commit, uncommitted patch and entry script, for the compare view's code section.

Written beside the run's page as ``runs/<slug>/code.js`` (``TrackerData.code[<run id>]``), loaded by
compare-code.js only for the runs a compare view shows, which diffs two of them in the browser
(line-diff.js): a compare view is opened for any selection, so no pair can be diffed in advance.
A run without a patch or a script snapshot (most runs) has no such file: its commit and branch
ride in its run data file (``"code"``, run_data.py), which the compare view loads anyway, and a
cold build creates one file fewer per run.
Pure but for reading the run's script snapshot: RunSource -> (record, findings).

    {"commit": full hash | null, "branch", "patch": text | null, "patchCut": bool,
     "script": path | null, "scriptText": text | null, "scriptCut": bool}
"""
from __future__ import annotations

from tracker.code_diff import read_script
from tracker.redact import redact_token_shapes

from .load import RunSource
from .model import run_folder
from .redaction import Finding, run_label


def code_data_file(slug: str) -> str:
    """The site file of a run's code (inside its page's folder, which a rebuild keeps with the page)."""
    return f"{run_folder(slug)}/code.js"


def code_data(source: RunSource) -> tuple[dict, list[Finding]]:
    """The code record (the shape above) and the secrets its script held.

    The patch is the page's (redacted by redaction.redact_source); the script is scanned here.
    """
    run = source.run
    git = run.git if isinstance(run.git, dict) else {}
    name, text, cut = read_script(run)
    commit = git.get("commit") if isinstance(git.get("commit"), str) else None
    findings = []
    if text is not None:
        text, kinds = redact_token_shapes(text)
        if kinds:
            findings.append(Finding(run_label(source), f"entry script {name}", sorted(set(kinds))))
    branch = git.get("branch") if isinstance(git.get("branch"), str) else None
    return {"commit": commit, "branch": branch, "patch": source.diff_text, "patchCut": source.diff_cut,
            "script": name, "scriptText": text, "scriptCut": cut}, findings


def commit_only(code: dict) -> dict | None:
    """``{"commit", "branch"}`` of a code record that holds nothing else (no patch, no script): what
    the run data file carries instead of a code file; None when the run needs its code file."""
    if code["patch"] is None and code["script"] is None and code["scriptText"] is None \
            and not code["patchCut"] and not code["scriptCut"]:
        return {"commit": code["commit"], "branch": code["branch"]}
    return None

