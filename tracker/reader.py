"""Reading runs back: ``load_run(path)``, ``scan(*roots)`` and ``iter_metrics(path)`` (``tracker.runs()``
is run_list.py, which reads through the listing).

The reader survives anything on disk. Files are streamed a chunk at a time (event_lines.py);
every record passes one check (record_schema.py) before it is used; a bad line, record or field
is skipped with a problem naming the file, line and key; a run folder that cannot be read at
all is reported while the others still load. Metric series are kept in full, reduced to a bounded
number of points, or as their last point only (series.py), so reading a run of any length can
take bounded memory. State that later writes replace (config, summary, notes, tags, name) is
merged across the files of all processes by time (run_state.py). How each chunk of records is folded
into the run is run_reading.py.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import RunFormatError
from .event_lines import open_regular, record_chunks
from .frames import run_history_frame
from .layout import MAIN_EVENTS_FILE, runs_root
from .problems import Problems
from .record_schema import MAX_UNIX_TIME_S, check_record
from .run_keys import copy_rank, events_files, find_run_folders
from .run_reading import RunReading, clean_metric_values, good_point
from .series import History

EVENTS_GLOB = "events*.jsonl"

__all__ = ["EVENTS_GLOB", "History", "RunRecord", "ScanResult", "created_time", "iter_metrics",
           "load_run", "scan"]


@dataclass
class RunRecord:
    """Everything recorded about one run, as read from its folder."""

    id: str
    path: str
    project: str = "default"
    name: str = ""
    group: str | None = None
    created: float | None = None
    schema: int | None = None
    status: str = "running"
    ended: float | None = None
    last_seen: float | None = None
    error: str | None = None
    config: dict = field(default_factory=dict)
    explicit_summary: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    notes: str = ""
    datasets: list = field(default_factory=list)
    artifacts: list = field(default_factory=list)
    git: dict | None = None
    code: dict | None = None
    environment: dict | None = None
    hardware: dict | None = None
    node_hardware: dict = field(default_factory=dict)  # node -> its hardware record, in a job (docs/distributed.md)
    writers: list = field(default_factory=list)
    histories: dict = field(default_factory=dict)
    system: dict = field(default_factory=dict)
    media: dict = field(default_factory=dict)  # key -> media_reading.MediaSeries
    imported_from: dict | None = None  # an imported run's source: {source, id, path} (docs/format.md)
    alerts: list = field(default_factory=list)  # the run's alert records (run.alert()), in file order
    warnings: list = field(default_factory=list)

    @property
    def summary(self) -> dict:
        """Last value of each metric, overridden by values set on ``run.summary``."""
        merged = {name: series.values[-1] for name, series in self.histories.items() if series.values}
        merged.update(self.explicit_summary)
        return merged

    @property
    def duration_s(self) -> float | None:
        if self.created is None:
            return None
        end = self.ended if self.status != "running" else time.time()
        return max(0.0, (end or self.last_seen or self.created) - self.created)

    @property
    def metric_names(self) -> list[str]:
        return list(self.histories)

    @property
    def last_step(self) -> int:
        return max((series.steps[-1] for series in self.histories.values() if series.steps), default=-1)

    @property
    def user(self) -> str | None:
        return next((writer.user for writer in self.writers if writer.user), None)

    @property
    def host(self) -> str | None:
        return next((writer.host for writer in self.writers if writer.host), None)

    def history(self, metric: str) -> History:
        """The full series of ``metric`` (empty if it was never logged)."""
        return self.histories.get(metric, History())

    def history_frame(self):
        """A pandas DataFrame of the run's metrics: ``step``, ``time`` (UTC) and one column per
        metric, one row per step (NaN where a metric was not logged). Needs pandas."""
        return run_history_frame(self)

    def as_filterable(self) -> dict:
        """The plain dict the filter language evaluates (same shape the site's index uses)."""
        return {"id": self.id, "name": self.name, "project": self.project, "group": self.group,
                "status": self.status, "tags": list(self.tags), "user": self.user, "host": self.host,
                "notes": self.notes, "created": self.created, "duration_s": self.duration_s,
                "config": self.config, "summary": self.summary}


@dataclass
class ScanResult:
    runs: list
    errors: list  # (path, why) for run folders that could not be read at all
    copies: list = field(default_factory=list)  # (run id, folder read, folder skipped): one id is one run


def copy_message(run_id: str, kept: str, skipped: str) -> str:
    return f"run {run_id} is also in {skipped}; skipped that copy, read {kept}"


def scan(*roots, now: float | None = None, max_points: int | None = None) -> ScanResult:
    """Load every run folder under each root. A run id found in several folders (a copy, or the
    same run in several roots) is one run: the folder that tracker.run_keys.copy_rank ranks first."""
    result = ScanResult([], [])
    ranked = []
    for root_index, root in enumerate(roots or (None,)):
        folders = find_run_folders(runs_root(root))
        result.errors += folders.problems
        for path, _ in folders.found:
            try:
                run = load_run(path, now=now, max_points=max_points)
            except (RunFormatError, OSError) as exc:
                result.errors.append((path, failure_reason(path, exc)))
                continue
            ranked.append((copy_rank(run.id, path, root_index), run))
    chosen = {}
    for _, run in sorted(ranked, key=lambda item: item[0]):
        if run.id in chosen:
            result.copies.append((run.id, chosen[run.id].path, run.path))
        else:
            chosen[run.id] = run
    result.runs = sorted(chosen.values(), key=lambda run: (run.created or 0.0, run.id))
    return result


def failure_reason(path: str, exc: Exception) -> str:
    """Why a run folder could not be read, without repeating its path."""
    if isinstance(exc, RunFormatError):
        return getattr(exc, "reason", None) or str(exc).removeprefix(f"{exc.path}: ")
    if isinstance(exc, OSError) and exc.strerror:
        where = os.path.relpath(exc.filename, path) if isinstance(exc.filename, str) else ""
        return exc.strerror + (f": {where}" if where and where != "." else "")
    return str(exc)


def load_run(path: str, now: float | None = None, *, max_points: int | None = None,
             last_only: bool = False, on_metrics=None) -> RunRecord:
    """Read one run folder. Raises RunFormatError when nothing in it identifies a run.

    ``max_points``: reduce each series of ``histories`` and ``system`` to about that many points
    while reading, keeping spikes and non-finite values (series.ReducedSeries); memory stays
    bounded by that per series plus one chunk of the file. ``last_only``: keep only each metric's
    last point (what ``tracker ls`` lists) and no system metrics. ``History.count`` is the number
    of points logged either way. ``on_metrics(steps, times, values)`` is called with parallel lists
    of the metrics records as they are read, a stretch at a time and in file order, each record's
    ``(step, time, values)`` as iter_metrics() yields it: a run is read once for its page and its
    full-data CSV. When ``on_metrics`` has an ``add_columns(steps, times, keys, columns)`` method,
    a stretch of records that all hold the same keys comes to it as a column of values per key
    (in the first record's key order) instead of a dict per record.
    """
    files = events_files(path)
    if not files:
        raise RunFormatError(path, "no events*.jsonl file")
    run = RunRecord(id=os.path.basename(os.path.normpath(path)), path=path)
    reading = RunReading(run, Problems(), max_points, last_only)
    reading.on_metrics = on_metrics
    reading.bytes_total = sum(_size(file) for file in files)
    for rank, file in enumerate(files):
        reading.read_file(file, rank)
    reading.problems.close(path)
    run.warnings = list(reading.problems)
    if not reading.identified:
        raise RunFormatError(path, "no readable 'run' or 'start' record")
    reading.finish(time.time() if now is None else now)
    return run


def iter_metrics(path: str) -> Iterator[tuple[int, float, dict]]:
    """``(step, time, values)`` of every metrics record of a run, in the order of its files (the
    creating process's first) and lines, validated like load_run's (non-finite values as floats,
    bad values left out), streamed a chunk at a time: memory does not grow with the run."""
    problems = Problems()
    for file in events_files(path):
        try:
            for records, numbers in record_chunks(file, problems):
                for record, number in zip(records, numbers):
                    if record.get("type") != "metrics":
                        continue
                    if not good_point(record, require_step=True):
                        check_record(record, f"{file}:{number}", problems)
                        continue
                    values = clean_metric_values(record["values"], f"{file}:{number}", problems)
                    yield record["step"], record["time"], values
        except OSError as exc:
            problems.add(f"{file}: {failure_reason(path, exc)}; skipped")
    problems.close(path)


def created_time(path: str) -> float | None:
    """When the run was created, from its first line alone: the time of the ``run`` record the
    creating process writes first (what load_run's ``created`` is), or None when that line is
    something else. For writers that need the time before reading the run (the site's CSV)."""
    try:
        with open_regular(os.path.join(path, MAIN_EVENTS_FILE)) as handle:
            first = json.loads(handle.readline(64 * 1024))
    except (OSError, ValueError, RecursionError):
        return None
    if type(first) is not dict or first.get("type") != "run":
        return None
    created = first.get("time")
    return created if type(created) in (int, float) and 0 <= created <= MAX_UNIX_TIME_S else None


def _size(file: str) -> int:
    try:
        return os.stat(file).st_size
    except OSError:
        return 0
