"""Finding runs: the run folders under the given roots and their keys, listed without reading a record.

A folder's key (see tracker/run_keys.py) hashes its files' names, sizes and modification times;
here the folder's name is hashed in too, because which copy of a run the site shows depends on it
(see identity.py): a key names one folder as it is now. Every run folder is listed, copies of one
run included; a folder's run id is known only once it is read.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from tracker.layout import runs_root
from tracker.run_keys import find_run_folders


@dataclass
class Discovery:
    folders: list[str]  # absolute run folders, in the order of the roots, then by name
    keys: dict[str, str] = field(default_factory=dict)  # folder -> key
    roots: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)
    root_of: dict[str, int] = field(default_factory=dict)  # folder -> index of its root in ``roots``
    problems: dict[str, str] = field(default_factory=dict)  # folder -> why it is not read (unopenable, nested)

    def relative(self, folder: str) -> str:
        """``folder`` as messages and the site name it: relative to its runs folder, never the
        build machine's absolute path."""
        root = self.roots[self.root_of[folder]] if folder in self.root_of else os.path.dirname(folder)
        return os.path.relpath(folder, root)


def discover(roots: list[str] | None) -> Discovery:
    """Every run folder under each runs folder (one folder per machine or CI job merges into one site)."""
    resolved = [os.path.abspath(runs_root(root)) for root in (roots or [None])]
    found = Discovery([], {}, resolved, [root for root in resolved if not os.path.isdir(root)])
    for index, root in enumerate(resolved):
        folders = find_run_folders(root)
        for folder, reason in folders.problems:  # the site names folders relative to their runs folder
            found.problems.setdefault(folder, reason.replace(root + os.sep, ""))
            found.root_of.setdefault(folder, index)
        for folder, files_key in folders.found:
            if folder in found.keys:
                continue  # the same runs folder given twice
            found.folders.append(folder)
            found.root_of[folder] = index
            name = os.path.basename(folder).encode("utf-8", "surrogateescape")
            found.keys[folder] = hashlib.blake2b(name + b"\0" + files_key.encode(), digest_size=16).hexdigest()
    return found
