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
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import itemgetter, lt

from .cyclic_gc import cyclic_gc_paused
from .errors import RunFormatError, RunNotFoundError
from .forked_stamps import forked_stamp_checks
from .layout import runs_root
from .listing_cache import (LISTING_FILE, CachedRuns, CacheEntry, ReadAhead, cache_bytes,  # LISTING_FILE: named
                            cached_since, decoded_cache, read_cache, write_cache)  # from here too
from .parallel import PARALLEL_MIN_RUNS, RUNS_PER_TASK, map_on_cores
from .reader import RunRecord, failure_reason, load_run
from .run_keys import (FolderScan, candidate_entries, candidate_names, copy_rank, flat_stamp, flat_stamp_holds,
                       folder_problem, names_since, scan_folder)
from .tail_reading import row_from_files

# Runs read from their ends go to worker processes only when the cores' share of the work saves
# more than the workers cost: starting them, and pickling each run's row there and unpickling it
# here. Measured at a load of 2 to 12 on 2 cores (bench/bench_listing.py; docs/benchmarks.md):
ENDS_READ_S = 60e-6    # CPU to scan a run folder and read the run from its ends
ENDS_RESULT_S = 12e-6  # CPU to send a run's (scan, row) back from a worker
WORKERS_START_S = 0.3  # wall time to start the workers (0.2 s idle, up to 1 s at a load of 12)
ENDS_PARALLEL_MIN_RUNS = 3_000  # and never for fewer runs than this
ENDS_RUNS_PER_TASK = 250  # runs per round trip to a worker: about 15 ms of reading from their ends
UNKNOWN_SAMPLE_EVERY = 16  # a sample of the folders' names tells a first listing from one after a few changes
_ID, _CREATED, _CREATED_AND_ID = itemgetter("id"), itemgetter("created"), itemgetter("created", "id")


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)     # as_filterable() and "path", oldest first
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run folder, why it could not be read)
    copies: list[tuple[str, str, str]] = field(default_factory=list)  # (run id, folder listed, copy skipped)
    # each listed row's content key (run_keys.py) by its "path"; none for a running run, whose row
    # also depends on the clock: a row with the same key is the same row (ls_table_cache.py)
    keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # each runs folder's cache as read, freed with the rows rather than before them: its 100,000
    # entries' stamps and lines took 0.2 s to free, which a process that ends once it has printed
    # the rows (tracker ls, cli.end_process) never spends
    caches: list[CachedRuns] = field(default_factory=list, repr=False, compare=False)
    # the runs folders (as runs_root gives them) whose listing cache now holds every folder listed
    cached_roots: set[str] = field(default_factory=set, repr=False, compare=False)


def list_runs(*roots, now: float | None = None, forks: bool = False,
              unchanged_except: dict[str, set[str]] | None = None,
              read_ahead: dict[str, ReadAhead | None] | None = None,
              names_listed: dict[str, list] | None = None) -> Listing:
    """Every run under each runs folder (default: $TRACKER_DIR or ./tracker-runs). A run id found
    in several folders (a copy under another name, or the same run in several roots) is listed
    once, from the folder tracker.run_keys.copy_rank ranks first; the others are in ``copies``.
    ``forks``: a forked child checks most folders' stamps while the cache's rows are decoded, when
    a core is idle (forked_stamps.py): for the command line only, never for a library call.
    ``unchanged_except``: {runs folder (as runs_root gives it): the names of its folders that may
    have changed since its listing cache was written}, for a folder whose only writer says so (a
    store's cache: store_generations.py); the stamps of the others are not checked.
    ``read_ahead``: {runs folder: its cache decoded ahead (listing_cache.read_ahead)}, taken while
    the file is unchanged. ``names_listed``: {runs folder: its run_keys.candidate_names, taken
    while its store synced}, for a folder of ``unchanged_except`` (run_keys.names_since)."""
    with cyclic_gc_paused():  # the rows: 10,000 runs' worth of dicts that hold no cycles
        return _list_runs(roots, now, forks, unchanged_except or {}, read_ahead or {}, names_listed or {})


def _list_runs(roots: tuple, now: float | None, forks: bool, unchanged_except: dict[str, set[str]],
               read_ahead: dict[str, ReadAhead | None], names_listed: dict[str, list]) -> Listing:
    listing, rows_by_root = Listing(), []
    for root in roots or (None,):
        root = runs_root(root)
        changed = unchanged_except.get(root)
        if changed is not None:  # every folder's stamp holds but those of the changed ones
            cached = cached_since(root, read_ahead.get(root))[1]
            listed = names_listed.get(root)
            names = [] if not cached.entries else candidate_names(root) if listed is None else \
                names_since(listed, changed, root)
            checked = (names, _held_unless_changed(cached.entries, names, changed)) if names else None
        elif read_ahead.get(root) is not None:  # decoded already, if the file is the same: stamps checked here
            cached, checked = cached_since(root, read_ahead[root])[1], None
        elif forks:  # the folders named first, for a child to check their stamps while the rows decode
            data = cache_bytes(root)
            names = candidate_names(root) if data else []
            child = forked_stamp_checks(data, names)
            cached = decoded_cache(data)
            held = child.result() if child is not None else None
            checked = (names, held) if cached.entries and names else None
        else:
            cached, checked = read_cache(root), None
        rows_by_root.append(_list_root(root, cached, now, listing, listing.keys, checked))
        listing.caches.append(cached)
    listing.rows, listing.copies = _one_per_id(rows_by_root)
    return listing


def _list_root(root: str, cache: CachedRuns, now: float | None, listing: Listing, keys: dict[str, str],
               checked: tuple[list, list[str] | None] | None = None) -> list[dict]:
    """The rows of the runs of the runs folder ``root``; what could not be read goes to the
    listing's errors, and the cache is brought up to date. One pass over the folders, in the
    order of their names: a folder whose cached stamp holds is listed from its entry unscanned
    (run_keys.flat_stamp_holds: two stats for the usual run); any other is scanned here, or on the
    workers when they pay for so many folders the cache does not name (_ends_workers_pay: a first
    listing; finding 10,000 folders' keys takes 0.2 s of one core), and read when its key is not
    the cached one. Each row's key goes to ``keys`` by its folder, but a running run's.
    ``checked``: (candidate_names of ``root``, the key whose stamp held of each of the first of
    them, "" where none did, as a forked child found them: forked_stamps.py; None when it
    failed), which tell the entries that hold without a stat here."""
    cached, rows, kept, new = cache.entries, [], [], []  # kept: the cache's entries that hold; new: for the others
    # With a cache, the folders are told from files only where no stamp holds (its stats tell)
    told = not cached  # whether the candidates are known to be folders
    candidates = candidate_entries(root) if told else checked[0] if checked else candidate_names(root)
    # the key whose stamp held, of each of the folders the child checked; the others' stamps are checked here
    held_keys = chain(checked[1] if checked and checked[1] is not None else (), repeat(None))
    scanned = _scanned_on_workers(candidates, told, cached, now)
    problems, warned = [], []  # folders not read; (folder name, problems) of runs listed with problems
    pending, to_read, read = [], [], {}  # (name, path, key, stamp, entry) of the folders scanned
    get, keep, add, key_paths, row_keys = cached.get, kept.append, rows.append, [], []
    add_path, add_key = key_paths.append, row_keys.append  # bound once: the loop runs 100,000 times
    for (name, path, problem), held in zip(candidates, held_keys):
        entry = get(name)
        if entry is not None and problem is None:
            stamp, row = entry[4], entry[2]
            if stamp is not None and row["status"] != "running" and (
                    held and entry[1] == held if held is not None else flat_stamp_holds(path, stamp)):
                keep(entry)  # as it was: not read, so its events are not needed
                if entry[3]:
                    warned.append((name, entry[3]))
                row["path"] = path  # the row is this listing's own, decoded just now: no copy
                add(row)
                add_path(path)
                add_key(entry[1])
                continue
        if problem is None and not told:
            problem = folder_problem(path)
            if problem == "":  # not a folder
                continue
        if problem is not None:
            problems.append((path, problem))
            continue
        scan, result = scanned.get(path) or (scan_folder(path, stamped=True), None)
        problems += scan.problems
        if scan.key is None:
            continue
        stamp = None if scan.stamp is None else flat_stamp(scan.stamp)
        if result is not None:
            pending.append((name, path, scan.key, stamp, None))
            read[path] = result
        elif _stale(entry, scan.key):
            pending.append((name, path, scan.key, stamp, None))
            to_read.append((path, scan.events))
        else:
            pending.append((name, path, scan.key, stamp, entry))
    listing.errors += problems
    read.update(zip((path for path, _ in to_read), _read_runs(to_read, now)))
    located = []  # (row, its folder) of the runs read or scanned again
    for name, path, key, stamp, entry in pending:
        if entry is None:
            row, found, error = read[path]
            if error is not None:
                listing.errors.append((path, error))
                continue
            if row["status"] != "running":  # read again next time anyway: not worth an entry
                new.append((name, key, row, found, stamp))
        else:
            row, found = entry[2], entry[3]
            if stamp != entry[4]:  # scanned again: the stamp it took, for next time
                new.append((name, key, row, found, stamp))
            else:
                kept.append(entry)
        if found:
            warned.append((name, found))
        located.append((row, path))
        rows.append(row)
        if row["status"] != "running":
            add_path(path)
            add_key(key)
    if write_cache(root, cache, kept, new):
        listing.cached_roots.add(root)
    keys.update(zip(key_paths, row_keys))
    for row, path in located:  # after writing: the file's rows are as_filterable()'s, without it
        row["path"] = path
    for _, found in sorted(warned, key=itemgetter(0)):  # in the order of the folders' names
        for problem in found:
            warnings.warn(f"tracker: {problem}", stacklevel=4)  # list_runs's caller
    return rows


def _held_unless_changed(entries: dict[str, CacheEntry], names: list[tuple[str, str, str | None]],
                         changed: set[str]) -> list[str]:
    """As forked_stamps.held_keys answers, for folders known unchanged but ``changed``: the key of
    each one's cache entry, "" for a changed one or one the cache does not name."""
    get = entries.get
    return ["" if name in changed or (entry := get(name)) is None else entry[1] for name, _, _ in names]


def _scanned_on_workers(candidates: list[tuple[str, str, str | None]], checked: bool, cached: dict,
                        now: float | None) -> dict[str, tuple]:
    """{path: (scan, result of _read_run or None)} of the folders the cache does not name, scanned
    and read on every core when the workers pay for that many (a first listing); else {}.
    ``checked``: whether the candidates are known to be folders (candidate_entries)."""
    if not _ends_workers_pay(len(candidates)):
        return {}
    # A listing after a few changes (the cache names nearly every folder) is told from every
    # UNKNOWN_SAMPLE_EVERY-th name; then the folders are counted, in C
    sample = candidates[::UNKNOWN_SAMPLE_EVERY]
    if (len(sample) - sum(map(cached.__contains__, map(itemgetter(0), sample)))) * UNKNOWN_SAMPLE_EVERY * 2 < \
            ENDS_PARALLEL_MIN_RUNS or not _ends_workers_pay(
                len(candidates) - sum(map(cached.__contains__, map(itemgetter(0), candidates)))):
        return {}
    unknown = [path for name, path, problem in candidates
               if problem is None and name not in cached and (checked or folder_problem(path) is None)]
    batches = [unknown[start:start + ENDS_RUNS_PER_TASK] for start in range(0, len(unknown), ENDS_RUNS_PER_TASK)]
    scanned = {}
    for batch in map_on_cores(_scan_and_read_batch, batches, (now,), min_items=2, per_task=1)[0]:
        scanned.update((scan.path, (scan, result)) for scan, result in batch)
    return scanned


def _one_per_id(rows_by_root: list[list[dict]]) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """(rows, copies) of Listing: of each runs folder's rows, one row per run id, the one that
    copy_rank ranks first, oldest first; the others as (run id, folder listed, copy skipped)."""
    chosen = rows_by_root[0] if len(rows_by_root) == 1 else [row for rows in rows_by_root for row in rows]
    counts = Counter(map(_ID, chosen))
    if len(counts) == len(chosen):  # every id once, as usual: nothing to rank
        copies = []
    else:  # only the rows of ids met twice or more are ranked: the others are chosen as they are
        repeated = {run_id for run_id, count in counts.items() if count > 1}
        by_id, copies = {}, []
        ranked = sorted(((root_index, row) for root_index, rows in enumerate(rows_by_root) for row in rows
                         if row["id"] in repeated),
                        key=lambda item: copy_rank(item[1]["id"], item[1]["path"], item[0]))
        for _, row in ranked:
            if row["id"] in by_id:
                copies.append((row["id"], by_id[row["id"]]["path"], row["path"]))
            else:
                by_id[row["id"]] = row
        chosen = [row for row in chosen if row["id"] not in repeated] + list(by_id.values())
    created = list(map(_CREATED, chosen))
    if None in created:
        return sorted(chosen, key=lambda row: (row["created"] or 0.0, row["id"])), copies
    if all(map(lt, created, islice(created, 1, None))):  # in order already, as time-ordered folder names list
        return chosen, copies
    return sorted(chosen, key=_CREATED_AND_ID), copies  # the same order, the keys got in C


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


def _stale(entry: CacheEntry | None, key: str) -> bool:
    return entry is None or entry[1] != key or entry[2]["status"] == "running"


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
