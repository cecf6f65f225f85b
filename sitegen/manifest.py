"""The build manifest: content keys of each run's inputs and of the site as a whole.

A rebuild into a site this command made compares keys with the manifest it left there: a run
whose key is unchanged keeps its page, and a change of the site key (theme files, tracker
version, build options) rebuilds everything. Keys are hashes, so a key never says what changed,
only that something did.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from tracker import __version__
from tracker.reader import RunRecord

from .assets import plan_assets
from .load import RunSource
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 1


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, dict] = field(default_factory=dict)  # run id -> {"slug": ..., "key": ...}

    def changed_slugs(self, previous: Manifest) -> set[str]:
        """Slugs of the runs that are new or whose key differs from ``previous``."""
        return {entry["slug"] for run_id, entry in self.runs.items()
                if previous.runs.get(run_id, {}).get("key") != entry["key"]}

    def to_json(self) -> str:
        return json.dumps({"format": MANIFEST_FORMAT, "site_key": self.site_key, "runs": self.runs},
                          sort_keys=True, indent=1) + "\n"


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable."""
    try:
        with open(os.path.join(out, MANIFEST_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != MANIFEST_FORMAT:
            return None
        runs = {str(run_id): {"slug": str(entry["slug"]), "key": str(entry["key"])}
                for run_id, entry in data["runs"].items()}
        return Manifest(str(data["site_key"]), runs)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no usable manifest: the build is a full one, never a wrong incremental one


def site_manifest(theme: Theme, settings: dict, sources: list[RunSource]) -> Manifest:
    """The manifest of a build of ``sources`` with ``theme`` and ``settings`` (options that shape pages)."""
    return Manifest(site_key(theme, settings), {source.run.id: {"slug": source.slug, "key": run_key(source.run)}
                                                for source in sources})


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


def run_key(run: RunRecord) -> str:
    """Hash of every file's name, size and mtime in the run folder, plus its status and last-seen time.

    The status is part of the key because it also depends on the clock: a running run whose
    heartbeat goes stale becomes "crashed" with no file changing.
    """
    stats = []
    for relative, path in sorted(_files_under(run.path).items()):
        try:
            info = os.stat(path)
        except OSError:
            continue  # vanished between listing and stat; the next build sees the folder as it is then
        stats.append([relative, info.st_size, info.st_mtime_ns])
    state = [run.status, run.last_seen, run.ended]
    return hashlib.sha256(json.dumps([stats, state]).encode()).hexdigest()


def _files_under(folder: str) -> dict[str, str]:
    """Every file below ``folder``: {relative path with '/': absolute path}."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder).replace(os.sep, "/")] = path
    return found
