"""What ``tracker ls`` lists: each run's filter fields (RunRecord.as_filterable()), read again only
when the run changed.

A run whose writers all ended is read from the head and tail of its files (tail_reading.py: the
end records carry each file's final state), a few kilobytes whatever its length. Any other run
(running, crashed, written by an older version) is read whole, which for 10,000 runs of 1,000
steps takes minutes. So each runs folder also keeps a cache, LISTING_FILE, of every run's fields
under its content key (run_keys.py): a listing reads only the runs whose files changed since the
last one. A run that was running is always read again, because its status also depends on the
clock (a stale heartbeat means "crashed" with no file changing). Problems found reading a run
(corrupt lines) are kept with it and warned about again on every listing. Runs read from their
ends are read in this process, unless there are so many that the cores' share saves more than
the workers cost (_ends_workers_pay: a first listing of 12,500 runs on 2 cores; then the workers
also find their folders' keys); many runs to read whole are read on every core.

The cache is only a cache: a missing, unreadable or unwritable one means reading every run, and
deleting it is always safe.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

from .atomic_file import replace_file
from .cyclic_gc import cyclic_gc_paused
from .errors import RunFormatError, RunNotFoundError
from .event_lines import open_regular
from .fast_json import decode_fast
from .layout import runs_root
from .parallel import PARALLEL_MIN_RUNS, RUNS_PER_TASK, map_on_cores
from .reader import RunRecord, failure_reason, load_run
from .run_keys import FolderScan, RunFolders, candidate_folders, copy_rank, scan_folder
from .tail_reading import row_from_files

LISTING_FILE = ".tracker-listing.json"
# Runs read from their ends go to worker processes only when the cores' share of the work saves
# more than the workers cost: starting them, and pickling each run's row there and unpickling it
# here. Measured at a load of 2 to 12 on 2 cores (bench/bench_listing.py; docs/benchmarks.md):
ENDS_READ_S = 60e-6    # CPU to scan a run folder and read the run from its ends
ENDS_RESULT_S = 12e-6  # CPU to send a run's (scan, row) back from a worker
WORKERS_START_S = 0.3  # wall time to start the workers (0.2 s idle, up to 1 s at a load of 12)
ENDS_PARALLEL_MIN_RUNS = 3_000  # and never for fewer runs than this
ENDS_RUNS_PER_TASK = 250  # runs per round trip to a worker: about 15 ms of reading from their ends
LISTING_FORMAT = 2  # 2: rows read with the record checks of record_schema.py
# The fields of a cached row and their types: an entry that does not match is read again.
_TEXT, _OPTIONAL_TEXT, _OPTIONAL_NUMBER = (str,), (str, type(None)), (int, float, type(None))
ROW_FIELDS = {"id": _TEXT, "name": _TEXT, "project": _TEXT, "group": _OPTIONAL_TEXT, "status": _TEXT,
              "tags": (list,), "user": _OPTIONAL_TEXT, "host": _OPTIONAL_TEXT, "notes": _TEXT,
              "created": _OPTIONAL_NUMBER, "duration_s": _OPTIONAL_NUMBER, "config": (dict,), "summary": (dict,)}


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)     # as_filterable() and "path", oldest first
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run folder, why it could not be read)
    copies: list[tuple[str, str, str]] = field(default_factory=list)  # (run id, folder listed, copy skipped)


def list_runs(*roots, now: float | None = None) -> Listing:
    """Every run under each runs folder (default: $TRACKER_DIR or ./tracker-runs). A run id found
    in several folders (a copy under another name, or the same run in several roots) is listed
    once, from the folder tracker.run_keys.copy_rank ranks first; the others are in ``copies``."""
    with cyclic_gc_paused():  # the rows: 10,000 runs' worth of dicts that hold no cycles
        return _list_runs(roots, now)


def _list_runs(roots: tuple, now: float | None) -> Listing:
    listing, ranked = Listing(), []
    for root_index, root in enumerate(roots or (None,)):
        root = runs_root(root)
        cached = _read_cache(root)
        folders, read = _scan_and_read(root, cached, now)
        listing.errors += folders.problems
        entries = {}
        for path, key in folders.found:
            name = os.path.basename(path)
            if path in read:
                fields, problems, error = read[path]
                if error is not None:
                    listing.errors.append((path, error))
                    continue
                entry = [key, fields, problems]
            else:
                entry = cached[name]
            for problem in entry[2]:
                warnings.warn(f"tracker: {problem}", stacklevel=3)  # list_runs's caller
            if entry[1]["status"] != "running":  # read again next time anyway: not worth a rewrite
                entries[name] = entry
            ranked.append((copy_rank(entry[1]["id"], path, root_index), entry[1] | {"path": path}))
        if entries != cached:
            _write_cache(root, entries)
    chosen = {}
    for _, row in sorted(ranked, key=lambda item: item[0]):
        if row["id"] in chosen:
            listing.copies.append((row["id"], chosen[row["id"]]["path"], row["path"]))
        else:
            chosen[row["id"]] = row
    listing.rows = sorted(chosen.values(), key=lambda row: (row["created"] or 0.0, row["id"]))
    return listing


def _scan_and_read(root: str, cached: dict, now: float | None) -> tuple[RunFolders, dict[str, tuple]]:
    """The run folders of ``root`` (as run_keys.find_run_folders finds them) and (fields, problems,
    error) of each one that the cache does not hold as it is now. When workers pay for so many
    folders the cache does not name (_ends_workers_pay: a first listing), they scan those folders
    as well as read them: finding 10,000 folders' keys takes 0.2 s of one core."""
    candidates = candidate_folders(root)
    unknown = [path for path, problem in candidates if problem is None and os.path.basename(path) not in cached]
    scanned = {}
    if _ends_workers_pay(len(unknown)):
        batches = [unknown[start:start + ENDS_RUNS_PER_TASK] for start in range(0, len(unknown), ENDS_RUNS_PER_TASK)]
        for batch in map_on_cores(_scan_and_read_batch, batches, (now,), min_items=2, per_task=1)[0]:
            scanned.update((scan.path, (scan, result)) for scan, result in batch)
    folders, read = RunFolders(), {}
    for path, problem in candidates:
        if problem is not None:
            folders.problems.append((path, problem))
        elif path in scanned:
            scan, result = scanned[path]
            folders.add(scan)
            if scan.key is not None:
                read[path] = result
        else:
            folders.add(scan_folder(path))
    to_read = [(path, folders.events[path]) for path, key in folders.found
               if path not in read and _stale(cached.get(os.path.basename(path)), key)]
    read.update(zip((path for path, _ in to_read), _read_runs(to_read, now)))
    return folders, read


def _ends_workers_pay(runs: int) -> bool:
    """Whether ``runs`` runs to scan and read from their ends are read sooner on every core than
    in this process: on 2 cores from about 12,500 runs, on 8 from about 6,000."""
    cores = os.cpu_count() or 1
    saved_s = runs * (ENDS_READ_S - (ENDS_READ_S + ENDS_RESULT_S) / cores)
    return runs >= ENDS_PARALLEL_MIN_RUNS and saved_s > WORKERS_START_S


def _scan_and_read_batch(paths: list[str], now: float | None) -> list[tuple[FolderScan, tuple | None]]:
    """Each folder's scan and, when it is a run folder, _read_run of it, on a worker."""
    with cyclic_gc_paused():
        scans = [scan_folder(path) for path in paths]
        return [(scan, None if scan.key is None else _read_run((scan.path, scan.events), now)) for scan in scans]


def _stale(entry: list | None, key: str) -> bool:
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


def _read_cache(root: str) -> dict:
    """{run folder name: [key, fields, problems]}; empty when there is no usable cache. An entry
    not shaped as _write_cache writes it (edited by hand, or by another version) is left out,
    so its run is read again."""
    try:
        with open_regular(os.path.join(root, LISTING_FILE)) as handle:
            text = handle.read()
        data = decode_fast(text)
        if data is None:  # msgspec refused it (a NaN in a row, or no msgspec): json decides
            data = json.loads(text)
        runs = data["runs"] if data.get("format") == LISTING_FORMAT else {}
        return {name: entry for name, entry in runs.items() if _valid_entry(entry)}
    except (OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return {}


def _valid_entry(entry) -> bool:
    if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
            and isinstance(entry[1], dict) and isinstance(entry[2], list)):
        return False
    fields = entry[1]
    return (all(isinstance(fields.get(name, ...), types) for name, types in ROW_FIELDS.items())
            and all(isinstance(problem, str) for problem in entry[2]))


def _write_cache(root: str, entries: dict) -> None:
    """Replace the cache atomically; a folder that cannot be written (read-only, full) keeps none."""
    if not os.path.isdir(root):
        return
    try:
        replace_file(os.path.join(root, LISTING_FILE), _cache_text({"format": LISTING_FORMAT, "runs": entries}))
    except (OSError, ValueError, TypeError):
        pass  # the next listing reads the runs again: the cache only saves time


def _cache_text(data: dict) -> bytes | str:
    """The cache's JSON: msgspec's encoding (a tenth of json.dumps's time: 10 ms for 10,000 runs)
    where it writes what json.dumps writes, else json's. msgspec writes NaN and the infinities as
    null and refuses text with a lone surrogate; json keeps both."""
    try:
        # imported here as fast_json imports its decoder: only on use (a listing has decoded by now)
        from msgspec.json import encode
    except ImportError:  # a light install: json writes it
        encode = None
    if encode is not None and _all_finite(data):
        try:
            return encode(data)
        except (TypeError, ValueError, OverflowError):
            pass
    return json.dumps(data, separators=(",", ":"))


def _all_finite(value) -> bool:
    """Whether no float in ``value`` (dicts and lists of JSON values) is NaN or infinite."""
    kind = type(value)
    if kind is float:
        return value - value == 0.0  # NaN - NaN and inf - inf are NaN
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return True
    for item in value:
        kind = type(item)
        if kind is float:
            if item - item != 0.0:
                return False
        elif (kind is dict or kind is list) and not _all_finite(item):
            return False
    return True


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
