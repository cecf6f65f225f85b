"""Finding runs: the run folders under the given roots and their content keys (see
tracker/run_keys.py), listed without reading a record."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from tracker.run_keys import keyed_run_folders
from tracker.session import runs_root


@dataclass
class Discovery:
    folders: list[str]  # absolute run folders, each run id once
    keys: dict[str, str] = field(default_factory=dict)  # folder -> key
    roots: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)


def discover(roots: list[str] | None) -> Discovery:
    """Every run folder under each runs folder; a run id (folder name) found in several roots is
    kept once, from the first root, so a folder per machine or CI job merges into one site."""
    resolved = [os.path.abspath(runs_root(root)) for root in (roots or [None])]
    found = Discovery([], {}, resolved, [root for root in resolved if not os.path.isdir(root)])
    seen = set()
    for root in resolved:
        for folder, key in keyed_run_folders(root):
            if os.path.basename(folder) not in seen:
                seen.add(os.path.basename(folder))
                found.folders.append(folder)
                found.keys[folder] = key
    return found
