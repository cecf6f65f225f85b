"""The build manifest: what the last build made of each run folder, keyed by content.

A rebuild into a site this command made compares keys with the manifest it left there: a run
folder whose key is unchanged keeps its page, and its index row is taken from the manifest
instead of reading the run again, so a rebuild reads only the runs that changed. A change of
the site key (theme files, tracker version, build options) rebuilds everything. A run that was
running is always read again, because its status also depends on the clock: a heartbeat that
goes stale turns it "crashed" with no file changing.

The manifest lives in the site, which is public: everything in it (rows, findings) is redacted.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from tracker import __version__

from .assets import plan_assets
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 3


@dataclass
class RunEntry:
    """One run folder as the last build left it."""

    key: str
    status: str
    row: dict                                            # its row of data/index.js (id, slug, ...)
    findings: list[str] = field(default_factory=list)    # redactions, for --strict and the report
    files: list[str] = field(default_factory=list)       # site-relative files this run owns

    @property
    def settled(self) -> bool:
        """False while the run is running: its page must be rendered again even if no file changed."""
        return self.status != "running"


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, RunEntry] = field(default_factory=dict)  # absolute run folder -> entry

    def to_json(self) -> str:
        runs = {folder: vars(entry) for folder, entry in self.runs.items()}  # asdict() deep-copies: 10x slower
        return json.dumps({"format": MANIFEST_FORMAT, "site_key": self.site_key, "runs": runs},
                          sort_keys=True, separators=(",", ":")) + "\n"


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable."""
    try:
        with open(os.path.join(out, MANIFEST_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != MANIFEST_FORMAT:
            return None
        runs = {str(folder): RunEntry(**entry) for folder, entry in data["runs"].items()}
        return Manifest(str(data["site_key"]), runs)
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


def folder_key(folder: str) -> str:
    """Hash of every file's name, size and modification time in a run folder: cheap, no file is read."""
    return hashlib.sha256(json.dumps(sorted(_stats_under(folder, ""))).encode()).hexdigest()


def _stats_under(folder: str, prefix: str) -> list:
    """[relative path, size, mtime in ns] of every file below ``folder`` (scandir: one call per folder)."""
    stats = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return stats  # vanished while listing; the next build sees the folder as it is then
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                stats.extend(_stats_under(entry.path, f"{prefix}{entry.name}/"))
            else:
                info = entry.stat()
                stats.append([prefix + entry.name, info.st_size, info.st_mtime_ns])
        except OSError:
            continue
    return stats


def _files_under(folder: str) -> dict[str, str]:
    """Every file below ``folder``: {relative path with '/': absolute path}."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder).replace(os.sep, "/")] = path
    return found
