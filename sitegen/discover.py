"""Finding runs: the run folders under the given roots and their keys, listed without reading a record.

A folder's key (see tracker/run_keys.py) hashes its files' names, sizes and modification times;
here the folder's name is hashed in too, because which copy of a run the site shows depends on it
(see identity.py): a key names one folder as it is now. Every run folder is listed, copies of one
run included; a folder's run id is known only once it is read. Given the last build's stamps
(folder_stamps.py), a folder whose stamp still holds keeps its key without being listed.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter, not_

from tracker.layout import runs_root
from tracker.run_keys import (candidate_entries, candidate_names, folder_problem, names_since, scan_folder,
                              stamp_holds)

from .folder_stamps import FolderStamps
from .stamp_checks import StampChecks


@dataclass
class Discovery:
    folders: list[str]  # absolute run folders, in the order of the roots, then by name
    keys: dict[str, str] = field(default_factory=dict)  # folder -> key, of each of ``folders`` in its order
    roots: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)
    root_of: dict[str, int] = field(default_factory=dict)  # folder -> index of its root in ``roots``
    problems: dict[str, str] = field(default_factory=dict)  # folder -> why it is not read (unopenable, nested)

    def add_problem(self, folder: str, reason: str, root_index: int) -> None:
        self.problems.setdefault(folder, reason)
        self.root_of.setdefault(folder, root_index)

    def relative(self, folder: str) -> str:
        """``folder`` as messages and the site name it: relative to its runs folder, never the
        build machine's absolute path."""
        root = self.roots[self.root_of[folder]] if folder in self.root_of else os.path.dirname(folder)
        return os.path.relpath(folder, root)


def discover(roots: list[str] | None, stamps: FolderStamps | None = None,
             checks: StampChecks | None = None, unchanged_except: dict[str, set[str]] | None = None,
             names_listed: dict[str, list] | None = None) -> Discovery:
    """Every run folder under each runs folder (one folder per machine or CI job merges into one site).
    ``stamps``: the last build's, checked for each folder, and this build's added to them;
    ``checks``: a child checking them meanwhile (stamp_checks.py), asked once the folders are listed;
    ``unchanged_except``: {absolute runs folder: the names of its folders that may have changed
    since the last build}, for a runs folder whose only writer says so (a store's cache): the
    stamps of the others hold without a stat; ``names_listed``: {such a runs folder: its
    candidate_names, taken while its store synced} (run_keys.names_since)."""
    stamps = stamps or FolderStamps()
    resolved = resolved_roots(roots)
    found = Discovery([], {}, resolved, [root for root in resolved if not os.path.isdir(root)])
    # A runs folder with stamps is listed by name alone (no entry objects): a stamp that holds
    # stat'ed its folder, and the names without one are told apart by a stat (folder_problem).
    by_name = [index < len(stamps.previous) and bool(stamps.previous[index]) for index in range(len(resolved))]
    listings = [names_since(names_listed[root], unchanged_except[root], root)
                if by_name[index] and root in (names_listed or {}) and root in (unchanged_except or {})
                else (candidate_names if by_name[index] else candidate_entries)(root) for index, root in enumerate(resolved)]
    verdicts = checks.verdicts() if checks is not None else None
    if unchanged_except:
        verdicts = list(verdicts or [None] * len(resolved))
        for index, root in enumerate(resolved):
            if root in unchanged_except and index < len(stamps.previous):
                verdicts[index] = _trusted_verdicts(root, stamps.previous[index], unchanged_except[root])
    for index, (root, entries) in enumerate(zip(resolved, listings)):
        if any(map(itemgetter(2), entries)):
            for _, path, problem in entries:
                if problem is not None:  # the site names folders relative to their runs folder
                    found.add_problem(path, problem.replace(root + os.sep, ""), index)
            entries = [entry for entry in entries if entry[2] is None]
        if not found.keys.keys().isdisjoint(map(itemgetter(1), entries)):  # the same runs folder given twice
            entries = [entry for entry in entries if entry[1] not in found.keys]
        names, paths = list(map(itemgetter(0), entries)), list(map(itemgetter(1), entries))
        keys = stamps.known_keys(index, paths, names, verdicts[index] if verdicts and index < len(verdicts) else None)
        for place in list(compress(range(len(keys)), map(not_, keys))):  # no stamp vouches for it: read it
            path = paths[place]
            problem = folder_problem(path) if by_name[index] else None
            if problem:
                found.add_problem(path, problem.replace(root + os.sep, ""), index)
            elif problem is None:
                keys[place] = _scan(path, names[place], root, index, stamps, found)
        paths = list(compress(paths, keys))
        found.folders += paths
        found.keys.update(zip(paths, filter(None, keys)))
        found.root_of.update(zip(paths, repeat(index)))
    return found


def _trusted_verdicts(root: str, previous: dict, changed: set[str]) -> bytes:
    """A byte for each of the last build's stamps in ``root``: 1 for a folder no writer changed
    since, else whether its stamp holds."""
    changed_here = changed & previous.keys()
    if len(changed_here) > 64:  # many: one pass
        return bytes(name not in changed or stamp_holds(os.path.join(root, name), stamp[3:])
                     for name, stamp in previous.items())
    names = list(previous)
    verdicts = bytearray(map(not_, map(changed.__contains__, names)))  # in C: a few changed among 100,000
    for name in changed_here:
        verdicts[names.index(name)] = stamp_holds(os.path.join(root, name), previous[name][3:])
    return bytes(verdicts)


def resolved_roots(roots: list[str] | None) -> list[str]:
    """The absolute runs folders of --runs (the default one when none is given), in its order."""
    return [os.path.abspath(runs_root(root)) for root in (roots or [None])]


def _scan(folder: str, name: str, root: str, index: int, stamps: FolderStamps, found: Discovery) -> str | None:
    """The key of a folder its stamp does not vouch for (None: not a run folder), from a full read."""
    scan = scan_folder(folder, stamped=True)
    for inner, reason in scan.problems:
        found.add_problem(inner, reason.replace(root + os.sep, ""), index)
    if scan.key is None:
        return None
    name_bytes = name.encode("utf-8", "surrogateescape")
    key = hashlib.blake2b(name_bytes + b"\0" + scan.key.encode(), digest_size=16).hexdigest()
    if scan.stamp is not None:  # none when racy or with problems (found by reading: read it each time)
        stamps.keep(index, name, key, scan.stamp)
    return key
