"""The build manifest: what the last build made of each run, keyed by content.

A rebuild into a site this command made compares keys with the manifest it left there: a run
whose folder's key is unchanged keeps its page, and its index row is taken from the manifest
instead of reading the run again, so a rebuild reads only the runs that changed. A change of
the site key (theme files, tracker version, build options) rebuilds everything. A run that was
running is always read again, because its status also depends on the clock: a heartbeat that
goes stale turns it "crashed" with no file changing.

Runs are keyed by their recorded id, as their pages are (the slug comes from the id), not by
folder: a folder copied under another name holds the same id, and one id is one page (see
identity.py). An entry's key names the folder its page was made from (discover.py), so a page
made from a copy that has since gone is made again from the folder now shown. The ids of the
copies are kept too, under their keys, so that telling copies apart needs no read. No path is
kept, so moving a runs folder keeps the manifest valid and the public site shows no build-machine
paths. Everything in it (rows, heads, findings) is redacted.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from tracker.fast_json import decode_fast
from tracker.version import __version__

from .assets import plan_assets
from .model import ROW_HEAD_FIELDS
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 7  # 7: packed run data (run_data.py) and each run's shared environment files
HEAD_FIELDS = frozenset(ROW_HEAD_FIELDS)


@dataclass
class RunEntry:
    """One run folder as the last build left it."""

    key: str                                             # discover.Discovery.keys: its folder's name and files
    head: dict                                           # model.row_head(): what every site page needs
    row_json: str                                        # its whole row of data/index.js, script-safe JSON
    findings: list[str] = field(default_factory=list)    # redactions, for --strict and the report
    media: dict = field(default_factory=dict)            # media_output.publish_run_media's record; {} for none
    shared: list[str] = field(default_factory=list)      # environment files it shares by content (environments.py)

    @property
    def status(self) -> str:
        return self.head["status"]

    @property
    def media_files(self) -> list[str]:
        """The site files its media need (shared with other runs when they logged the same bytes)."""
        return self.media.get("files", [])

    def media_still_fits(self, budget_bytes: int) -> bool:
        """Whether its media page would be the same under ``budget_bytes`` (the number of runs
        sets each run's share): the same budget, or one that holds all its media as the old did."""
        budget, wanted = self.media.get("budget"), self.media.get("wanted", 0)
        return not self.media or budget == budget_bytes or (wanted <= budget and wanted <= budget_bytes)

    @property
    def settled(self) -> bool:
        """False while the run is running: its page must be rendered again even if no file changed."""
        return self.status != "running"


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, RunEntry] = field(default_factory=dict)  # run id -> entry
    copies: dict[str, str] = field(default_factory=dict)     # key of a folder the site skips -> its run id

    def known_ids(self) -> dict[str, str]:
        """{folder key: run id} of every folder the last build read."""
        return {entry.key: run_id for run_id, entry in self.runs.items()} | self.copies

    def to_text(self) -> str:
        """Line 1 is JSON of everything but the rows; then each run's row, one per line, in the same
        order. A rebuild parses line 1 only and copies the rows of unchanged runs as text. An entry
        is [key, head, findings, media, shared]; the files a run owns follow from its slug
        (model.run_folder), its media files are listed in media and its shared environment files
        in shared."""
        runs = sorted(self.runs.items())
        entries = {run_id: [entry.key, entry.head, entry.findings, entry.media, entry.shared]
                   for run_id, entry in runs}
        header = json.dumps({"format": MANIFEST_FORMAT, "site_key": self.site_key, "runs": entries,
                             "copies": dict(sorted(self.copies.items()))},
                            separators=(",", ":"))
        return "\n".join([header] + [entry.row_json for _, entry in runs]) + "\n"


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable."""
    try:
        with open(os.path.join(out, MANIFEST_FILE), encoding="utf-8") as handle:
            line = handle.readline()
            # msgspec where it reads what json does (half json's time: 14 ms for 10,000 runs)
            header = decode_fast(line)
            if header is None:
                header = json.loads(line)
            if header.get("format") != MANIFEST_FORMAT:
                return None
            rows = handle.read().split("\n")
        entries = header["runs"]
        if rows.pop() != "" or len(rows) != len(entries):
            return None  # cut short: a row per run, each ended by a newline
        runs = {run_id: RunEntry(key, head, row, findings, media, shared)
                for (run_id, (key, head, findings, media, shared)), row in zip(entries.items(), rows)}
        copies = header["copies"]
        if not (all(_valid_entry(run_id, entry) for run_id, entry in runs.items()) and isinstance(copies, dict)
                and all(isinstance(key, str) and isinstance(run_id, str) for key, run_id in copies.items())):
            return None
        return Manifest(str(header["site_key"]), runs, copies)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no usable manifest: the build is a full one, never a wrong incremental one


def _valid_entry(run_id: str, entry: RunEntry) -> bool:
    """An entry as a build writes it (a hand-edited or damaged manifest must not break a rebuild)."""
    head = entry.head
    return (isinstance(entry.key, str) and isinstance(head, dict) and head.keys() >= HEAD_FIELDS
            and head["id"] == run_id and isinstance(head["slug"], str) and isinstance(head["status"], str)
            and isinstance(head["created"], (int, float, type(None))) and isinstance(entry.findings, list)
            and all(isinstance(finding, str) for finding in entry.findings) and isinstance(entry.media, dict)
            and all(isinstance(name, str) for name in entry.media.get("files", []))
            and isinstance(entry.shared, list) and all(isinstance(name, str) for name in entry.shared))


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
