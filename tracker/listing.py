"""What ``tracker ls`` lists: each run's filter fields (RunRecord.as_filterable()), read again only
when the run changed.

A run whose writers all ended is read from the head and tail of its files (tail_reading.py: the
end records carry each file's final state), a few kilobytes whatever its length. Any other run
(running, crashed, written by an older version) is read whole, which for 10,000 runs of 1,000
steps takes minutes. So each runs folder also keeps a cache, LISTING_FILE (listing_cache.py), of
every run's fields under its content key (run_keys.py): a listing reads only the runs whose files
changed since the last one, and appends their lines to the cache. A run that was running is
always read again, because its status also depends on the clock (a stale heartbeat means
"crashed" with no file changing). Problems found reading a run
(corrupt lines) are kept with it and warned about again on every listing. Runs read from their
ends are read in this process, unless there are so many that the cores' share saves more than
the workers cost (_ends_workers_pay: a first listing of 12,500 runs on 2 cores; then the workers
also find their folders' keys); many runs to read whole are read on every core.

The cache is only a cache: a missing, unreadable or unwritable one means reading every run, and
deleting it is always safe.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from operator import itemgetter

from .cyclic_gc import cyclic_gc_paused
from .errors import RunFormatError, RunNotFoundError
from .layout import runs_root
from .listing_cache import LISTING_FILE, CachedRuns, entry_line, read_cache, write_cache  # LISTING_FILE: named from here too
from .parallel import PARALLEL_MIN_RUNS, RUNS_PER_TASK, map_on_cores
from .reader import RunRecord, failure_reason, load_run
from .run_keys import FolderScan, RunFolders, candidate_folders, copy_rank, scan_folder, stamp_holds
from .tail_reading import row_from_files

# Runs read from their ends go to worker processes only when the cores' share of the work saves
# more than the workers cost: starting them, and pickling each run's row there and unpickling it
# here. Measured at a load of 2 to 12 on 2 cores (bench/bench_listing.py; docs/benchmarks.md):
ENDS_READ_S = 60e-6    # CPU to scan a run folder and read the run from its ends
ENDS_RESULT_S = 12e-6  # CPU to send a run's (scan, row) back from a worker
WORKERS_START_S = 0.3  # wall time to start the workers (0.2 s idle, up to 1 s at a load of 12)
ENDS_PARALLEL_MIN_RUNS = 3_000  # and never for fewer runs than this
ENDS_RUNS_PER_TASK = 250  # runs per round trip to a worker: about 15 ms of reading from their ends
_CREATED, _CREATED_AND_ID = itemgetter("created"), itemgetter("created", "id")


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)     # as_filterable() and "path", oldest first
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run folder, why it could not be read)
    copies: list[tuple[str, str, str]] = field(default_factory=list)  # (run id, folder listed, copy skipped)
    # each runs folder's cache as read, freed with the rows rather than before them: its 100,000
    # entries' stamps and lines took 0.2 s to free, which a process that ends once it has printed
    # the rows (tracker ls, cli.end_process) never spends
    caches: list[CachedRuns] = field(default_factory=list, repr=False, compare=False)


def list_runs(*roots, now: float | None = None) -> Listing:
    """Every run under each runs folder (default: $TRACKER_DIR or ./tracker-runs). A run id found
    in several folders (a copy under another name, or the same run in several roots) is listed
    once, from the folder tracker.run_keys.copy_rank ranks first; the others are in ``copies``."""
    with cyclic_gc_paused():  # the rows: 10,000 runs' worth of dicts that hold no cycles
        return _list_runs(roots, now)


def _list_runs(roots: tuple, now: float | None) -> Listing:
    listing, rows = Listing(), []
    for root_index, root in enumerate(roots or (None,)):
        root = runs_root(root)
        cached = read_cache(root)
        folders, stamps, read = _scan_and_read(root, cached.entries, now)
        listing.errors += folders.problems
        kept, new = [], []  # the cache's lines of the runs to keep: as the file holds them, and new ones
        for path, key in folders.found:
            name = _folder_name(path)
            if path in read:
                row, problems, error = read[path]
                if error is not None:
                    listing.errors.append((path, error))
                    continue
                if row["status"] != "running":  # read again next time anyway: not worth a line
                    new.append(entry_line(name, key, row, problems, stamps.get(path)))
            else:
                _, row, problems, stamp, line = cached.entries[name]
                if path in stamps and stamps[path] != stamp:  # scanned again: the stamp it took next time
                    new.append(entry_line(name, key, row, problems, stamps[path]))
                else:
                    kept.append(line)
            for problem in problems:
                warnings.warn(f"tracker: {problem}", stacklevel=3)  # list_runs's caller
            row["path"] = path  # the row is this listing's own, decoded or read just now: no copy
            rows.append((root_index, row))
        write_cache(root, cached, kept + new, len(new))
        listing.caches.append(cached)
    listing.rows, listing.copies = _one_per_id(rows)
    return listing


def _folder_name(path: str) -> str:
    """os.path.basename of a path that candidate_folders made (its root joined to a name), in a
    tenth of its time."""
    return path.rpartition(os.sep)[2]


def _one_per_id(rows: list[tuple[int, dict]]) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """(rows, copies) of Listing: of (root index, row) pairs, one row per run id, the one that
    copy_rank ranks first, oldest first; the others as (run id, folder listed, copy skipped)."""
    ids = {row["id"] for _, row in rows}
    if len(ids) == len(rows):  # every id once, as usual: nothing to rank
        chosen = [row for _, row in rows]
        copies = []
    else:
        by_id, copies = {}, []
        for _, row in sorted(rows, key=lambda item: copy_rank(item[1]["id"], item[1]["path"], item[0])):
            if row["id"] in by_id:
                copies.append((row["id"], by_id[row["id"]]["path"], row["path"]))
            else:
                by_id[row["id"]] = row
        chosen = list(by_id.values())
    if None in map(_CREATED, chosen):
        return sorted(chosen, key=lambda row: (row["created"] or 0.0, row["id"])), copies
    return sorted(chosen, key=_CREATED_AND_ID), copies  # the same order, the keys got in C


def _scan_and_read(root: str, cached: dict, now: float | None) -> tuple[RunFolders, dict[str, tuple], dict[str, tuple]]:
    """The run folders of ``root`` (as run_keys.find_run_folders finds them), the stamps of those
    scanned (by path), and (fields, problems, error) of each one that the cache does not hold as it
    is now. A folder whose cached stamp holds keeps its cached key unscanned (run_keys.stamp_holds:
    two stats for the usual run). When workers pay for so many folders the cache does not name
    (_ends_workers_pay: a first listing), they scan those folders as well as read them: finding
    10,000 folders' keys takes 0.2 s of one core."""
    candidates = candidate_folders(root)
    scanned = {}
    if _ends_workers_pay(len(candidates)):
        unknown = [path for path, problem in candidates if problem is None and _folder_name(path) not in cached]
        if _ends_workers_pay(len(unknown)):
            batches = [unknown[start:start + ENDS_RUNS_PER_TASK] for start in range(0, len(unknown), ENDS_RUNS_PER_TASK)]
            for batch in map_on_cores(_scan_and_read_batch, batches, (now,), min_items=2, per_task=1)[0]:
                scanned.update((scan.path, (scan, result)) for scan, result in batch)
    folders, stamps, read, to_read = RunFolders(), {}, {}, []
    for path, problem in candidates:
        if problem is not None:
            folders.problems.append((path, problem))
            continue
        if path in scanned:
            scan, result = scanned[path]
            if scan.key is not None:
                read[path] = result
        else:
            entry = cached.get(_folder_name(path))
            if entry is not None and entry[3] is not None and entry[1]["status"] != "running" \
                    and stamp_holds(path, entry[3]):
                folders.found.append((path, entry[0]))  # as it was: not read, so its events are not needed
                continue
            scan = scan_folder(path, stamped=True)
        folders.add(scan)
        if scan.key is not None:
            stamps[path] = scan.stamp
            if path not in read and _stale(cached.get(_folder_name(path)), scan.key):
                to_read.append((path, scan.events))
    read.update(zip((path for path, _ in to_read), _read_runs(to_read, now)))
    return folders, stamps, read


def _ends_workers_pay(runs: int) -> bool:
    """Whether ``runs`` runs to scan and read from their ends are read sooner on every core than
    in this process: on 2 cores from about 12,500 runs, on 8 from about 6,000."""
    cores = os.cpu_count() or 1
    saved_s = runs * (ENDS_READ_S - (ENDS_READ_S + ENDS_RESULT_S) / cores)
    return runs >= ENDS_PARALLEL_MIN_RUNS and saved_s > WORKERS_START_S


def _scan_and_read_batch(paths: list[str], now: float | None) -> list[tuple[FolderScan, tuple | None]]:
    """Each folder's scan and, when it is a run folder, _read_run of it, on a worker."""
    with cyclic_gc_paused():
        scans = [scan_folder(path, stamped=True) for path in paths]
        return [(scan, None if scan.key is None else _read_run((scan.path, scan.events), now)) for scan in scans]


def _stale(entry: tuple | None, key: str) -> bool:
    return entry is None or entry[0] != key or entry[1]["status"] == "running"


def _read_runs(runs: list[tuple[str, list[str]]], now: float | None) -> list[tuple[dict | None, list[str], str | None]]:
    """(fields, problems, error) of each (run folder, its events files): from the ends of its files
    when they carry its state, else read whole. Reads from the ends take a few kilobytes and about
    60 us a run, so they are done here and only whole reads go to every core, unless the workers
    pay (_ends_workers_pay): then every run goes to them, ENDS_RUNS_PER_TASK at a time."""
    if _ends_workers_pay(len(runs)):
        batches = [runs[start:start + ENDS_RUNS_PER_TASK] for start in range(0, len(runs), ENDS_RUNS_PER_TASK)]
        read = map_on_cores(_read_batch, batches, (now,), min_items=2, per_task=1)[0]
        return [result for batch in read for result in batch]
    results: dict[str, tuple] = {}
    whole = []
    with cyclic_gc_paused():
        for path, files in runs:
            row = row_from_files(path, files, now)
            if row is None:
                whole.append(path)
            else:
                results[path] = (row, [], None)
    read = map_on_cores(_read_whole, whole, (now,), min_items=PARALLEL_MIN_RUNS, per_task=RUNS_PER_TASK)[0]
    results.update(zip(whole, read))
    return [results[path] for path, _ in runs]


def _read_batch(runs: list[tuple[str, list[str]]], now: float | None) -> list[tuple[dict | None, list[str], str | None]]:
    """_read_run of each run, on a worker."""
    with cyclic_gc_paused():
        return [_read_run(run, now) for run in runs]


def _read_run(run: tuple[str, list[str]], now: float | None) -> tuple[dict | None, list[str], str | None]:
    path, files = run
    row = row_from_files(path, files, now)
    if row is not None:
        return row, [], None
    return _read_whole(path, now)


def _read_whole(path: str, now: float | None) -> tuple[dict | None, list[str], str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its problems come back with it; list_runs warns about them
        try:
            # only the last point of each metric: a listing shows no more, and a run of a million
            # steps then costs no memory per step
            run = load_run(path, now=now, last_only=True)
        except (RunFormatError, OSError) as exc:
            return None, [], failure_reason(path, exc)
    return run.as_filterable(), list(run.warnings), None


def find_run(query: str, *roots, max_points: int | None = None) -> RunRecord:
    """The run whose id, folder name, unique id prefix, or name is ``query`` (looked up in
    tracker ls's listing, so only the run found and the runs that changed are read), loaded
    with ``max_points`` as load_run takes it."""
    listing = list_runs(*roots)
    rows = listing.rows
    # a skipped copy's folder name finds the run it copies
    folders = {os.path.basename(skipped): run_id for run_id, _, skipped in listing.copies}
    matches = [row for row in rows if query in (row["id"], os.path.basename(row["path"]))] or \
              [row for row in rows if folders.get(query) == row["id"]] or \
              [row for row in rows if row["id"].startswith(query)] or \
              [row for row in rows if row["name"] == query]
    if len(matches) == 1:
        return load_run(matches[0]["path"], max_points=max_points)
    where = ", ".join(os.path.abspath(root) if root else "the runs folder" for root in (roots or (None,)))
    raise RunNotFoundError(query, where, [row["id"] for row in matches])
