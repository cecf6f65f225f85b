"""Finding runs: the run folders under the given roots, and a key for each that changes when any
of its files does (names, sizes and modification times only: no file is read)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from tracker.reader import is_events_file, is_run_folder_name
from tracker.session import runs_root


@dataclass
class Discovery:
    folders: list[str]  # absolute run folders, each run id once
    keys: dict[str, str] = field(default_factory=dict)  # folder -> folder key
    roots: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)


def discover(roots: list[str] | None) -> Discovery:
    """Every run folder under each runs folder; a run id (folder name) found in several roots is
    kept once, from the first root, so a folder per machine or CI job merges into one site.

    One pass: the listing that finds a folder's events file also gives the stats its key hashes,
    which keeps a rebuild of 10,000 runs to one directory read and a stat per file.
    """
    resolved = [os.path.abspath(runs_root(root)) for root in (roots or [None])]
    found = Discovery([], {}, resolved, [root for root in resolved if not os.path.isdir(root)])
    seen = set()
    for root in resolved:
        try:
            entries = sorted(os.scandir(root), key=lambda entry: entry.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name in seen or not is_run_folder_name(entry.name) or not entry.is_dir():
                continue
            stats = []
            if _scan_files(entry.path, "", stats):
                seen.add(entry.name)
                found.folders.append(entry.path)
                stats.sort()
                found.keys[entry.path] = hashlib.blake2b("\n".join(stats).encode("utf-8", "surrogateescape"),
                                                         digest_size=16).hexdigest()
    return found


def _scan_files(folder: str, prefix: str, stats: list[str]) -> bool:
    """Add "relative path NUL size NUL mtime in ns" of every file below ``folder`` to ``stats``
    (scandir: one call per folder, a stat per file); True when ``folder`` holds an events file."""
    has_events = False
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        _scan_files(entry.path, f"{prefix}{entry.name}/", stats)
                        continue
                    info = entry.stat()
                except OSError:
                    continue  # vanished while listing; the next build sees the folder as it is then
                stats.append(f"{prefix}{entry.name}\0{info.st_size}\0{info.st_mtime_ns}")
                has_events = has_events or is_events_file(entry.name)
    except OSError:
        pass
    return has_events
