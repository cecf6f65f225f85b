"""What ``tracker ls`` lists: each run's filter fields (RunRecord.as_filterable()), read again only
when the run changed.

Reading a run means parsing every record; 10,000 runs of 1,000 steps take minutes. So each runs
folder keeps a cache, LISTING_FILE, of every run's fields under its content key (run_keys.py):
a listing reads only the runs whose files changed since the last one. A run that was running is
always read again, because its status also depends on the clock (a stale heartbeat means
"crashed" with no file changing). Problems found reading a run (corrupt lines) are kept with it
and warned about again on every listing. Many runs to read (a first listing) are read on every
core.

The cache is only a cache: a missing, unreadable or unwritable one means reading every run, and
deleting it is always safe.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

from .errors import RunFormatError
from .parallel import map_on_cores
from .reader import load_run
from .run_keys import keyed_run_folders

LISTING_FILE = ".tracker-listing.json"
LISTING_FORMAT = 1
PARALLEL_MIN_RUNS = 16  # fewer runs to read than this are read in the calling process: workers cost ~0.3 s
RUNS_PER_TASK = 8


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)     # as_filterable() and "path", oldest first
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run folder, why it could not be read)


def list_runs(*roots, now: float | None = None) -> Listing:
    """Every run under each runs folder (default: $TRACKER_DIR or ./tracker-runs); a run id found
    in several folders is listed once, from the first."""
    from .session import runs_root

    listing, seen = Listing(), set()
    for root in roots or (None,):
        root = runs_root(root)
        cached = _read_cache(root)
        found, to_read = [], []
        for path, key in keyed_run_folders(root):
            name = os.path.basename(path)
            if name not in seen:
                seen.add(name)
                found.append((path, key))
                entry = cached.get(name)
                if entry is None or entry[0] != key or entry[1]["status"] == "running":
                    to_read.append(path)
        read = dict(zip(to_read, _read_runs(to_read, now)))
        entries = {}
        for path, key in found:
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
                warnings.warn(f"tracker: {problem}", stacklevel=2)
            if entry[1]["status"] != "running":  # read again next time anyway: not worth a rewrite
                entries[name] = entry
            listing.rows.append(entry[1] | {"path": path})
        if entries != cached:
            _write_cache(root, entries)
    listing.rows.sort(key=lambda row: (row["created"] or 0.0, row["id"]))
    return listing


def _read_runs(paths: list[str], now: float | None) -> list[tuple[dict | None, list[str], str | None]]:
    """(fields, problems, error) of each run folder, read on every core when there are enough."""
    return map_on_cores(_read_run, paths, (now,), min_items=PARALLEL_MIN_RUNS, per_task=RUNS_PER_TASK)[0]


def _read_run(path: str, now: float | None) -> tuple[dict | None, list[str], str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its problems come back with it; list_runs warns about them
        try:
            run = load_run(path, now=now)
        except (RunFormatError, OSError) as exc:
            return None, [], str(exc)
    return run.as_filterable(), list(run.warnings), None


def _read_cache(root: str) -> dict:
    """{run folder name: [key, fields, problems]}; empty when there is no usable cache."""
    try:
        with open(os.path.join(root, LISTING_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
        runs = data["runs"] if data.get("format") == LISTING_FORMAT else {}
        return {name: entry for name, entry in runs.items()
                if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[1], dict)
                and "status" in entry[1] and isinstance(entry[2], list)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_cache(root: str, entries: dict) -> None:
    """Replace the cache atomically; a folder that cannot be written (read-only, full) keeps none."""
    if not os.path.isdir(root):
        return
    path = os.path.join(root, LISTING_FILE)
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"format": LISTING_FORMAT, "runs": entries}, handle, separators=(",", ":"))
        os.replace(temporary, path)
    except (OSError, ValueError, TypeError):
        try:
            os.remove(temporary)
        except OSError:
            pass
