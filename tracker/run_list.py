"""``tracker.runs()``: the runs of a runs folder as Python objects, filtered and sorted with the
same language as ``tracker ls`` and the site (query.py).

The runs are chosen from ``tracker ls``'s listing (listing.py), whose cache in the runs folder
holds each run's filter fields; only the runs that match are then read in full. So a filter over
10,000 runs reads the few it keeps, not all of them. ``runs(...).group_by("optimizer")`` groups
them by the rules of grouping.py (the site's and ``tracker ls --group-by``'s).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

from . import query
from .errors import RunFormatError
from .formatting import run_fields
from .frames import PandasMissingError, runs_frame
from .grouping import AGGREGATES, band, group_rows, group_value, metric_aggregates
from .listing import list_runs
from .reader import RunRecord, copy_message, failure_reason, load_run

__all__ = ["RunGroup", "RunGroups", "RunList", "runs"]


class RunList(list):
    """A list of RunRecord, as ``tracker.runs()`` returns it, that also turns into a DataFrame."""

    def to_pandas(self):
        """One row per run: id, name, project, group, status, tags, user, host, created, ended
        (UTC timestamps), duration_s, error, then ``config.<key>`` and ``summary.<key>`` columns
        (nested keys joined with dots). Needs pandas (``pip install pandas``)."""
        return runs_frame(self)

    def group_by(self, *fields: str, metrics: list[str] | None = None) -> RunGroups:
        """The runs grouped by one field or more (``"optimizer"``, ``"config.opt.name"``, ``"tag"``,
        ``"group"``, ``"status"``, ``"dataset.train"``; ``"a,b"`` names two), ordered as the site
        orders them, each with the aggregates of ``metrics`` (default: every numeric summary value):
        ``runs.group_by("optimizer")[0].aggregates["loss"]["mean"]``. A run without the field is in
        the group "(none)"; NaN and Infinity are skipped and counted (docs/site.md, "Groups")."""
        names = [name.strip() for text in fields for name in text.split(",") if name.strip()]
        if not names:
            raise ValueError("group_by() needs a field to group by, e.g. group_by('optimizer')")
        rows = {id(run): _group_row(run) for run in self}
        if metrics is None:
            metrics = [name for name in run_fields(list(rows.values())).metrics
                       if any(isinstance(row["summary"].get(name), (int, float)) for row in rows.values())]
        groups = RunGroups(fields=names, metrics=list(metrics))
        for found in group_rows(list(self), names, lambda run, name: group_value(rows[id(run)], name)):
            members = RunList(found.rows)
            groups.append(RunGroup(dict(zip(names, found.key)), members,
                                   metric_aggregates([rows[id(run)] for run in members], groups.metrics)))
        return groups


def _group_row(run: RunRecord) -> dict:
    """The fields a group key is read from: the filter's, and each dataset's hash by its name."""
    row = run.as_filterable()
    row["datasets"] = {str(item.get("name")): item.get("sha256") for item in run.datasets if isinstance(item, dict)}
    return row


@dataclass
class RunGroup:
    """One group: its key (field -> the key's text, "(none)" where its runs lack the field), its runs,
    and per metric {count, skipped, mean, std, min, max, stderr} (std: population, NumPy's default)."""

    key: dict
    runs: RunList
    aggregates: dict = field(default_factory=dict)

    def band(self, metric: str) -> dict:
        """The mean and spread of ``metric`` over the group's runs at each step (grouping.band): the
        union of their steps, each run interpolated linearly within its own steps."""
        return band([(history.steps, history.values) for history in (run.history(metric) for run in self.runs)])


class RunGroups(list):
    """The groups of ``RunList.group_by()``, in order; ``to_pandas()`` makes one row of each."""

    def __init__(self, fields: list[str], metrics: list[str]):
        super().__init__()
        self.fields, self.metrics = fields, metrics

    def to_pandas(self):
        """One row per group: its key's fields, ``runs`` (how many), then ``<metric>.<aggregate>`` for
        count, skipped, mean, std, min, max and stderr. Needs pandas (``pip install pandas``)."""
        try:
            import pandas  # optional, and slow to import: only when a frame is asked for
        except ImportError as exc:
            raise PandasMissingError("groups.to_pandas()") from exc
        columns = [*self.fields, "runs", *(f"{metric}.{name}" for metric in self.metrics for name in AGGREGATES)]
        rows = [[*group.key.values(), len(group.runs),
                 *(group.aggregates[metric][name] for metric in self.metrics for name in AGGREGATES)] for group in self]
        return pandas.DataFrame(rows, columns=columns)


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
