"""A run's code file: its commit, uncommitted patch and entry script, for the compare view's code section.

Written beside the run's page as ``runs/<slug>/code.js`` (``TrackerData.code[<run id>]``), loaded by
compare-code.js only for the runs a compare view shows, which diffs two of them in the browser
(line-diff.js): a compare view is opened for any selection, so no pair can be diffed in advance.
Pure but for reading the run's script snapshot: RunSource -> (JSON text, findings).

    {"commit": full hash | null, "branch", "patch": text | null, "patchCut": bool,
     "script": path | null, "scriptText": text | null, "scriptCut": bool}
"""
from __future__ import annotations

from tracker.code_diff import read_script
from tracker.redact import redact_token_shapes

from .load import RunSource
from .model import run_folder
from .redaction import Finding, run_label
from .render import script_json


def code_data_file(slug: str) -> str:
    """The site file of a run's code (inside its page's folder, which a rebuild keeps with the page)."""
    return f"{run_folder(slug)}/code.js"


def code_data_json(source: RunSource) -> tuple[str, list[Finding]]:
    """The code file's JSON text and the secrets its script held. Written for every run, with nulls
    when it captured no code, so the compare view never asks for a file that is not there.

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
    return script_json({"commit": commit, "branch": branch, "patch": source.diff_text, "patchCut": source.diff_cut,
                        "script": name, "scriptText": text, "scriptCut": cut}), findings
