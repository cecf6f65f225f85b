"""The build manifest: what the last build made of each run folder, keyed by content.

A rebuild into a site this command made compares keys with the manifest it left there: a run
folder whose key is unchanged keeps its page, and its index row is taken from the manifest
instead of reading the run again, so a rebuild reads only the runs that changed. A change of
the site key (theme files, tracker version, build options) rebuilds everything. A run that was
running is always read again, because its status also depends on the clock: a heartbeat that
goes stale turns it "crashed" with no file changing.

Runs are named by id (their folder's name, unique in a site: see discover.py), not by path, so
that moving a runs folder keeps the manifest valid and the public site shows no build-machine
paths. Everything in it (rows, findings) is redacted.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from tracker import __version__

from .assets import plan_assets
from .model import ROW_HEAD_FIELDS
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 4
HEAD_FIELDS = frozenset(ROW_HEAD_FIELDS)


@dataclass
class RunEntry:
    """One run folder as the last build left it."""

    key: str                                             # discover.Discovery.keys: its files' stats
    head: dict                                           # model.row_head(): what every site page needs
    row_json: str                                        # its whole row of data/index.js, script-safe JSON
    findings: list[str] = field(default_factory=list)    # redactions, for --strict and the report

    @property
    def status(self) -> str:
        return self.head["status"]

    @property
    def settled(self) -> bool:
        """False while the run is running: its page must be rendered again even if no file changed."""
        return self.status != "running"


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, RunEntry] = field(default_factory=dict)  # run id (its folder's name) -> entry

    def to_text(self) -> str:
        """Line 1 is JSON of everything but the rows; then each run's row, one per line, in the same
        order. A rebuild parses line 1 only and copies the rows of unchanged runs as text. An entry
        is [key, head, findings]; the files a run owns follow from its slug (model.run_folder)."""
        runs = sorted(self.runs.items())
        entries = {run_id: [entry.key, entry.head, entry.findings] for run_id, entry in runs}
        header = json.dumps({"format": MANIFEST_FORMAT, "site_key": self.site_key, "runs": entries},
                            separators=(",", ":"))
        return "\n".join([header] + [entry.row_json for _, entry in runs]) + "\n"


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable."""
    try:
        with open(os.path.join(out, MANIFEST_FILE), encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            if header.get("format") != MANIFEST_FORMAT:
                return None
            rows = handle.read().split("\n")
        entries = header["runs"]
        if rows.pop() != "" or len(rows) != len(entries):
            return None  # cut short: a row per run, each ended by a newline
        runs = {folder: RunEntry(key, head, row, findings)
                for (folder, (key, head, findings)), row in zip(entries.items(), rows)}
        if not all(entry.head.keys() >= HEAD_FIELDS for entry in runs.values()):
            return None
        return Manifest(str(header["site_key"]), runs)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no usable manifest: the build is a full one, never a wrong incremental one


def site_key(theme: Theme, settings: dict) -> str:
    """Hash of the tracker version, the build settings, and the content of every template and asset."""
    digest = hashlib.sha256(json.dumps([__version__, theme.name, settings], sort_keys=True, default=str).encode())
    files = {f"templates/{relative}": path for folder in reversed(theme.template_dirs)
             for relative, path in _files_under(folder).items()}
    files.update(plan_assets(theme.static_dirs)[0])
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0")
        with open(files[relative], "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _files_under(folder: str) -> dict[str, str]:
    """Every file below ``folder``: {relative path with '/': absolute path}."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder).replace(os.sep, "/")] = path
    return found
