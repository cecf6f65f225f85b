"""Run folders and their content keys, found without reading a record.

A key hashes the name, size and modification time of every file in a run folder, so it changes
when anything in the run does. ``tracker ls`` (listing.py) and ``tracker build`` (sitegen) keep
what they made of a run under its key and read the run again only when the key changes. Finding
the folders and their keys takes one directory read per run and one stat per file: about 0.2 s
for 10,000 runs. This is the one place that says which folders of a runs folder are runs.

A scan may also stamp the folder (``scan_folder(path, stamped=True)``): the change time of the
folder and of each sub-folder, and each file's size and modification time. Creating, removing or
renaming an entry changes its folder's change time, so while every time and size of a stamp holds
(``stamp_holds``: a stat each, two for the usual run of one events file, where listing the folder
takes four system calls and a stat) the folder holds the same files as when its key was made, and
its key is the same. Times have a resolution (ext4 a few milliseconds, NFS or FAT up to seconds),
so a change in the same tick as the stamp could leave every time as it was (git's "racy" entries):
a folder with a time within RACY_S of the scan's start is not stamped. The folder's own time is
taken before it is listed, so an entry added while it is listed shows as a changed stamp.
"""
from __future__ import annotations

import bisect
import hashlib
import os
import time
from dataclasses import dataclass, field
from operator import attrgetter
from stat import S_ISDIR
from typing import Union

from .layout import MAIN_EVENTS_FILE


def is_run_folder_name(name: str) -> bool:
    """Whether a folder of this name under a runs folder may be a run (hidden folders never are)."""
    return not name.startswith(".")


def is_events_file(name: str) -> bool:
    """Whether a file name matches reader.EVENTS_GLOB (a string test: no globbing of the folder)."""
    return name.startswith("events") and name.endswith(".jsonl")


# Folders of a run's own layout (docs/format.md): an events file below them is not a nested run.
RUN_LAYOUT_FOLDERS = frozenset({"files", "artifacts"})
_NAME = attrgetter("name")  # a DirEntry's name, got in C: 100,000 folders are sorted by it
RACY_S = 2.0  # a folder changed this recently is not stamped (time resolutions up to FAT's 2 s)
_UNSTAMPABLE = float("inf")  # the change time of an entry that could not be stat'ed: always racy

# [sub-folders as [relative path, change time in ns], "" the folder itself; files as [relative path,
# size, modification time in ns]]: lists, as JSON gives them back, so a stamp read compares equal to
# one taken (msgspec decodes lists of lists three times sooner than typed tuples)
FolderStamp = list[list[list[Union[str, int]]]]

# The same stamp as one flat list, as the listing cache keeps it: the count of sub-folders (the
# folder itself included), then each one's relative path and change time, then each file's
# relative path, size and modification time. The usual run, [1, "", ctime, "events.jsonl", size,
# mtime], is one list and four values where FolderStamp takes five lists (100,000 runs: 400,000
# lists fewer to decode, keep and free).
FlatStamp = list[Union[str, int]]
_USUAL_FLAT_STAMP = 6  # the length of a flat stamp of one folder and one file
_stat, _SEP = os.stat, os.sep  # looked up once: flat_stamp_holds runs for every run of a listing


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
    stamp: FolderStamp | None = None  # with stamped=True: see the module doc; None when racy or not asked


def candidate_folders(root: str) -> list[tuple[str, str | None]]:
    """(path, None) for each folder of ``root`` that may be a run, by name, and (path, why) for
    one that cannot be opened: the first step of find_run_folders, one directory read; the
    second, scan_folder of each, may run anywhere (a first listing runs it on its workers)."""
    return [(path, problem) for _, path, problem in candidate_entries(root)]


def candidate_entries(root: str) -> list[tuple[str, str, str | None]]:
    """candidate_folders with each folder's name first: (name, path, problem)."""
    try:
        entries = sorted(os.scandir(root), key=_NAME)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [(os.path.basename(root), root, f"cannot open the runs folder ({exc.strerror})")]
    folders = []
    for entry in entries:
        name = entry.name
        if not is_run_folder_name(name):
            continue
        try:
            if not entry.is_dir():
                continue
        except OSError as exc:  # a symbolic link loop, or a link into a folder we may not open
            folders.append((name, entry.path, f"cannot open ({exc.strerror})"))
            continue
        folders.append((name, entry.path, None))
    return folders


def candidate_names(root: str) -> list[tuple[str, str, str | None]]:
    """candidate_entries, without telling folders from files: each name of ``root`` that may be a
    run folder, by name (os.listdir, sorted as strings: no entry objects, a third of the time for
    100,000 names). For a listing whose cache stamps most folders: a stamp that holds stat'ed the
    folder and a file inside it, so it is a folder; folder_problem tells the others."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [(os.path.basename(root), root, f"cannot open the runs folder ({exc.strerror})")]
    names.sort()
    prefix = root if root.endswith(os.sep) else root + os.sep
    return [(name, prefix + name, None) for name in names if not name.startswith(".")]  # is_run_folder_name


def names_since(listed: list[tuple[str, str, str | None]], changed: set[str],
                root: str) -> list[tuple[str, str, str | None]]:
    """candidate_names(root) now, from ``listed``, what it gave a moment ago, when only the names in
    ``changed`` can have come or gone since (a store's cache, whose sync logs each folder it
    touches: store_generations.py): those looked up again, a stat each, the others kept. A command
    lists the folder while the store syncs into it, and so not after (0.1-0.2 s at 100,000 runs)."""
    if not changed:
        return listed
    prefix = root if root.endswith(os.sep) else root + os.sep
    names = listed.copy()
    for name in changed:  # each found by bisection in the sorted names: a few among 100,000
        place = bisect.bisect_left(names, (name,))
        if place < len(names) and names[place][0] == name:
            del names[place]
        if not name.startswith(".") and "/" not in name and os.path.lexists(prefix + name):
            bisect.insort(names, (name, prefix + name, None))
    return names


def folder_problem(path: str) -> str | None:
    """For a name candidate_names gave: None when it is a folder (or a link to one), "" when it is
    not, else why it cannot be opened, as candidate_entries tells them."""
    try:
        return None if S_ISDIR(os.stat(path).st_mode) else ""
    except FileNotFoundError:  # gone, or a link to nothing: not a folder, as DirEntry.is_dir() says
        return ""
    except OSError as exc:  # a symbolic link loop, or a link into a folder we may not open
        return f"cannot open ({exc.strerror})"


def scan_folder(path: str, stamped: bool = False) -> FolderScan:
    """The key, events files and problems of one folder that candidate_folders found; with
    ``stamped``, its stamp too (None for a folder changed within RACY_S, or with problems)."""
    stats, nested, events = [], [], []
    stamp = ([], [], []) if stamped else None  # sub-folders, files, every change time seen
    started_ns = time.time_ns()
    try:
        has_events = _scan_files(path, "", stats, nested, events, stamp)
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
    if stamp is not None and (problems or max(stamp[2]) >= started_ns - RACY_S * 1e9):
        stamp = None
    return FolderScan(path, key, [folder + name for name in _in_reading_order(events)], problems,
                      None if stamp is None else [stamp[0], stamp[1]])


def stamp_holds(path: str, stamp: FolderStamp) -> bool:
    """Whether the folder ``path`` still has every time and size of ``stamp`` (see the module doc):
    then it holds the same files, and its key is the one made with the stamp."""
    folder = path if path.endswith(os.sep) else path + os.sep
    stat = os.stat
    try:
        folders, files = stamp
        if len(folders) == 1 and len(files) == 1:  # the usual run: its folder and one events file
            (relative, ctime_ns), (name, size, mtime_ns) = folders[0], files[0]
            return not relative and _usual_stamp_holds(path, ctime_ns, name, size, mtime_ns)
        for relative, ctime_ns in folders:
            if (stat(path) if not relative else os.lstat(folder + relative)).st_ctime_ns != ctime_ns:
                return False
        for relative, size, mtime_ns in files:
            info = stat(folder + relative)
            if info.st_size != size or info.st_mtime_ns != mtime_ns:
                return False
    except (OSError, ValueError, TypeError):  # gone; or a stamp not shaped as scan_folder makes one
        return False
    return True


def _usual_stamp_holds(path: str, ctime_ns: int, name: str, size: int, mtime_ns: int) -> bool:
    """The usual run's stamp (its folder and one file in it) holds: two stats. Raises OSError
    when either is gone (the callers say False)."""
    if _stat(path).st_ctime_ns != ctime_ns:
        return False
    info = _stat(path + name if path[-1] == _SEP else path + _SEP + name)
    return info.st_size == size and info.st_mtime_ns == mtime_ns


def flat_stamp(stamp: FolderStamp) -> FlatStamp:
    """``stamp`` as one flat list (FlatStamp)."""
    folders, files = stamp
    flat: FlatStamp = [len(folders)]
    for item in folders:
        flat += item
    for item in files:
        flat += item
    return flat


def flat_stamp_holds(path: str, stamp: FlatStamp) -> bool:
    """stamp_holds of a FlatStamp; the usual run's two stats without a loop or a list made."""
    try:
        if len(stamp) == _USUAL_FLAT_STAMP:
            count, relative, ctime_ns, name, size, mtime_ns = stamp
            return count == 1 and not relative and _usual_stamp_holds(path, ctime_ns, name, size, mtime_ns)
        count = stamp[0]
        folders = [stamp[start:start + 2] for start in range(1, 1 + 2 * count, 2)]
        files = [stamp[start:start + 3] for start in range(1 + 2 * count, len(stamp), 3)]
        if type(count) is not int or count < 1 or len(stamp) != 1 + 2 * count + 3 * len(files):
            return False
        return stamp_holds(path, [folders, files])
    except (OSError, ValueError, TypeError, IndexError):  # gone; or a stamp not shaped as flat_stamp makes one
        return False


def _scan_files(folder: str, prefix: str, stats: list[str], nested: list[str] | None = None,
                events: list[str] | None = None, stamp: tuple[list, list, list] | None = None) -> bool:
    """Add "relative path NUL size NUL mtime in ns" of every file below ``folder`` to ``stats``
    (scandir: one call per folder, a stat per file); True when ``folder`` holds an events file.
    Sub-folders of ``folder`` that hold an events file themselves are added to ``nested``, and the
    names in ``folder`` that events_files() takes to ``events`` (whatever they are: a reader of
    the run opens them and finds out); each folder's and file's times to ``stamp``. The top folder
    failing to open raises; a sub-folder failing to open is left out of the key. Called for every
    run folder on a listing that finds no stamp: kept lean."""
    has_events = False
    if stamp is not None:  # the folder's time before its entries: one added meanwhile changes it
        info = os.stat(folder) if not prefix else os.lstat(folder)
        stamp[0].append([prefix[:-1], info.st_ctime_ns])
        stamp[2].append(info.st_ctime_ns)
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            is_events = name.startswith("events") and name.endswith(".jsonl")  # is_events_file, inlined
            if is_events and events is not None:
                events.append(name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    try:
                        inner_events = _scan_files(entry.path, f"{prefix}{name}/", stats, stamp=stamp)
                    except OSError:
                        if stamp is not None:  # left out of the key: a stamp could not see it come back
                            stamp[2].append(_UNSTAMPABLE)
                        continue
                    if inner_events and nested is not None and name not in RUN_LAYOUT_FOLDERS:
                        nested.append(entry.path)
                    continue
                info = entry.stat()
            except OSError:  # vanished while listing, or a link to nothing: the next reader sees it as it is
                if stamp is not None:
                    stamp[2].append(_UNSTAMPABLE)
                continue
            stats.append(f"{prefix}{name}\0{info.st_size}\0{info.st_mtime_ns}")
            if stamp is not None:
                stamp[1].append([f"{prefix}{name}", info.st_size, info.st_mtime_ns])
                stamp[2].append(info.st_ctime_ns)
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
