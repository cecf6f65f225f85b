"""``tracker.runs()``: the runs of a runs folder as Python objects, filtered and sorted with the
same language as ``tracker ls`` and the site (query.py).

The runs are chosen from ``tracker ls``'s listing (listing.py), whose cache in the runs folder
holds each run's filter fields; only the runs that match are then read in full. So a filter over
10,000 runs reads the few it keeps, not all of them.
"""
from __future__ import annotations

import os
import warnings

from . import query
from .errors import RunFormatError
from .frames import runs_frame
from .listing import list_runs
from .reader import RunRecord, copy_message, failure_reason, load_run

__all__ = ["RunList", "runs"]


class RunList(list):
    """A list of RunRecord, as ``tracker.runs()`` returns it, that also turns into a DataFrame."""

    def to_pandas(self):
        """One row per run: id, name, project, group, status, tags, user, host, created, ended
        (UTC timestamps), duration_s, error, then ``config.<key>`` and ``summary.<key>`` columns
        (nested keys joined with dots). Needs pandas (``pip install pandas``)."""
        return runs_frame(self)


def runs(dir=None, *, project: str | None = None, filter: str = "", sort: str | None = None) -> RunList:
    """The runs under ``dir`` (default: $TRACKER_DIR or ./tracker-runs; a list of folders merges
    them) that match ``filter``, oldest first or ordered by ``sort``.

    ``filter`` and ``sort`` are those of ``tracker ls --filter/--sort`` (docs/query.md), e.g.
    ``tracker.runs(filter="lr>=0.01 status:finished", sort="-valid/acc")``; a bad filter raises
    tracker.query.QueryError before anything is read. Unreadable run folders, and copies of a run
    under another folder name, are reported with a warning and skipped.
    """
    selected = query.parse(filter)
    order = query.sort_key(sort) if sort else None
    roots = [os.fspath(root) for root in dir] if isinstance(dir, (list, tuple)) else [dir]
    listing = list_runs(*roots)
    for path, message in listing.errors:
        warnings.warn(f"tracker: skipped unreadable run {path}: {message}", stacklevel=2)
    for run_id, kept, skipped in listing.copies:
        warnings.warn(f"tracker: {copy_message(run_id, kept, skipped)}", stacklevel=2)
    rows = [row for row in listing.rows if (project is None or row["project"] == project) and selected.matches(row)]
    if order is not None:
        rows.sort(key=order)
    found = RunList()
    for row in rows:
        run = _load(row["path"])
        if run is not None:
            found.append(run)
    return found


def _load(path: str) -> RunRecord | None:
    """The run in full; None, with a warning, when it vanished or broke since the listing read it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the listing has warned about this run's problems already
            return load_run(path)
    except (RunFormatError, OSError) as exc:
        warnings.warn(f"tracker: skipped unreadable run {path}: {failure_reason(path, exc)}", stacklevel=3)
        return None
