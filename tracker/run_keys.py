"""Run folders and their content keys, found without reading a record.

A key hashes the name, size and modification time of every file in a run folder, so it changes
when anything in the run does. ``tracker ls`` (listing.py) and ``tracker build`` (sitegen) keep
what they made of a run under its key and read the run again only when the key changes. Finding
the folders and their keys takes one directory read per run and one stat per file: about 0.2 s
for 10,000 runs. This is the one place that says which folders of a runs folder are runs.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from .layout import MAIN_EVENTS_FILE


def is_run_folder_name(name: str) -> bool:
    """Whether a folder of this name under a runs folder may be a run (hidden folders never are)."""
    return not name.startswith(".")


def is_events_file(name: str) -> bool:
    """Whether a file name matches reader.EVENTS_GLOB (a string test: no globbing of the folder)."""
    return name.startswith("events") and name.endswith(".jsonl")


# Folders of a run's own layout (docs/format.md): an events file below them is not a nested run.
RUN_LAYOUT_FOLDERS = frozenset({"files", "artifacts"})


@dataclass
class RunFolders:
    found: list[tuple[str, str]] = field(default_factory=list)  # (path, key) of each run folder, by name
    # each run folder's events files as events_files() lists them, seen by the same directory read
    # (a listing reads their ends without listing the folder again)
    events: dict[str, list[str]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why it is not read)

    def add(self, scan: FolderScan) -> None:
        """One folder's scan, in the order of the folders' names."""
        self.problems += scan.problems
        if scan.key is not None:
            self.found.append((scan.path, scan.key))
            self.events[scan.path] = scan.events


def keyed_run_folders(root: str) -> list[tuple[str, str]]:
    """(path, key) of every run folder under ``root`` (one holding an events file), by name."""
    return find_run_folders(root).found


def find_run_folders(root: str) -> RunFolders:
    """The run folders under ``root`` with their keys, and the folders that look like runs but
    cannot be read: a folder that cannot be opened, a symbolic link that loops, a run folder
    inside another folder of the runs folder (nested runs are never read: which run would
    their files belong to?)."""
    result = RunFolders()
    for path, problem in candidate_folders(root):
        if problem is not None:
            result.problems.append((path, problem))
        else:
            result.add(scan_folder(path))
    return result


@dataclass
class FolderScan:
    """One folder of a runs folder, scanned (scan_folder): its key when it is a run folder."""

    path: str
    key: str | None                  # None: not a run folder (no events file), or not readable
    events: list[str]                # its events files, in load_run's order
    problems: list[tuple[str, str]]  # (path, why it is not read), as RunFolders.problems


def candidate_folders(root: str) -> list[tuple[str, str | None]]:
    """(path, None) for each folder of ``root`` that may be a run, by name, and (path, why) for
    one that cannot be opened: the first step of find_run_folders, one directory read; the
    second, scan_folder of each, may run anywhere (a first listing runs it on its workers)."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [(root, f"cannot open the runs folder ({exc.strerror})")]
    folders = []
    for entry in entries:
        if not is_run_folder_name(entry.name):
            continue
        try:
            if not entry.is_dir():
                continue
        except OSError as exc:  # a symbolic link loop, or a link into a folder we may not open
            folders.append((entry.path, f"cannot open ({exc.strerror})"))
            continue
        folders.append((entry.path, None))
    return folders


def scan_folder(path: str) -> FolderScan:
    """The key, events files and problems of one folder that candidate_folders found."""
    stats, nested, events = [], [], []
    try:
        has_events = _scan_files(path, "", stats, nested, events)
    except OSError as exc:
        return FolderScan(path, None, [], [(path, f"cannot open ({exc.strerror})")])
    problems = []
    for inner in nested:
        where = f"inside run folder {path}" if has_events else f"inside {path}, which is not a run folder"
        problems.append((inner, f"a run folder {where}; not read (move it into the runs folder)"))
    if not has_events:
        return FolderScan(path, None, [], problems)
    if len(stats) > 1:
        stats.sort()
    key = hashlib.blake2b("\n".join(stats).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    folder = path if path.endswith(os.sep) else path + os.sep  # os.path.join, in a tenth of its time
    return FolderScan(path, key, [folder + name for name in _in_reading_order(events)], problems)


def _scan_files(folder: str, prefix: str, stats: list[str], nested: list[str] | None = None,
                events: list[str] | None = None) -> bool:
    """Add "relative path NUL size NUL mtime in ns" of every file below ``folder`` to ``stats``
    (scandir: one call per folder, a stat per file); True when ``folder`` holds an events file.
    Sub-folders of ``folder`` that hold an events file themselves are added to ``nested``, and the
    names in ``folder`` that events_files() takes to ``events`` (whatever they are: a reader of
    the run opens them and finds out). The top folder failing to open raises; a sub-folder failing
    to open is left out of the key. Called for every run folder on every listing: kept lean."""
    has_events = False
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            is_events = name.startswith("events") and name.endswith(".jsonl")  # is_events_file, inlined
            if is_events and events is not None:
                events.append(name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    try:
                        inner_events = _scan_files(entry.path, f"{prefix}{name}/", stats)
                    except OSError:
                        continue
                    if inner_events and nested is not None and name not in RUN_LAYOUT_FOLDERS:
                        nested.append(entry.path)
                    continue
                info = entry.stat()
            except OSError:
                continue  # vanished while listing; the next reader sees the folder as it is then
            stats.append(f"{prefix}{name}\0{info.st_size}\0{info.st_mtime_ns}")
            has_events = has_events or is_events
    return has_events


def copy_rank(run_id: str, folder: str, root_index: int) -> tuple:
    """Sort key choosing among folders that hold the same run id (a run folder copied under another
    name): the lowest wins. The folder named like the id wins, then the one in the runs folder given
    first, then the first folder name. Readers warn about the others and skip them."""
    name = os.path.basename(os.path.normpath(folder))
    return (name != run_id, root_index, name)


def events_files(path: str) -> list[str]:
    """The events files of a run folder: the creating process's first, then the others by name.
    Raises OSError when the folder cannot be listed."""
    with os.scandir(path) as entries:
        names = [entry.name for entry in entries if is_events_file(entry.name)]
    return [os.path.join(path, name) for name in _in_reading_order(names)]


def _in_reading_order(names: list[str]) -> list[str]:
    if len(names) == 1:  # the usual run: no sort
        return names
    return sorted(names, key=lambda name: (name != MAIN_EVENTS_FILE, name))
