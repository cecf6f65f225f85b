"""Reading runs back: ``load_run(path)``, ``scan(*roots)`` and ``iter_metrics(path)`` (``tracker.runs()``
is run_list.py, which reads through the listing).

The reader survives anything on disk. Files are streamed a chunk at a time (event_lines.py);
every record passes one check (record_schema.py) before it is used; a bad line, record or field
is skipped with a problem naming the file, line and key; a run folder that cannot be read at
all is reported while the others still load. Metric series are kept in full, reduced to a bounded
number of points, or as their last point only (series.py), so reading a run of any length can
take bounded memory. State that later writes replace (config, summary, notes, tags, name) is
merged across the files of all processes by time (run_state.py).
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from .errors import RunFormatError, RunNotFoundError
from .event_lines import CHUNK_BYTES, NotRegularFile, open_regular, record_chunks
from .frames import run_history_frame
from .problems import Problems
from .record_schema import MAX_UNIX_TIME_S, SCHEMAS, check_record, clean_key, type_name
from .run_keys import copy_rank, find_run_folders, is_events_file
from .run_state import RunState
from .series import History, new_series
from .status import WriterState, run_status
from .values import TEXT_TO_NON_FINITE

EVENTS_GLOB = "events*.jsonl"
MIN_COLUMN_STRETCH = 4  # shorter stretches of one key set are cheaper value by value
_PLAIN_NUMBERS = frozenset({int, float})
_VALUES, _STEP, _TIME = itemgetter("values"), itemgetter("step"), itemgetter("time")
MAIN_EVENTS_FILE = "events.jsonl"

__all__ = ["EVENTS_GLOB", "History", "RunRecord", "ScanResult", "created_time", "find_run", "iter_metrics",
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
    writers: list = field(default_factory=list)
    histories: dict = field(default_factory=dict)
    system: dict = field(default_factory=dict)
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
    from .session import runs_root

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


def find_run(query: str, *roots, max_points: int | None = None) -> RunRecord:
    """The run whose id, folder name, unique id prefix, or name is ``query`` (looked up in
    tracker ls's listing, so only the run found and the runs that changed are read), loaded
    with ``max_points`` as load_run takes it."""
    from .listing import list_runs

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


def events_files(path: str) -> list[str]:
    """The events files of a run folder: the creating process's first, then the others by name.
    Raises OSError when the folder cannot be listed."""
    with os.scandir(path) as entries:
        names = [entry.name for entry in entries if is_events_file(entry.name)]
    names.sort(key=lambda name: (name != MAIN_EVENTS_FILE, name))
    return [os.path.join(path, name) for name in names]


def load_run(path: str, now: float | None = None, *, max_points: int | None = None,
             last_only: bool = False, on_metrics=None) -> RunRecord:
    """Read one run folder. Raises RunFormatError when nothing in it identifies a run.

    ``max_points``: reduce each series of ``histories`` and ``system`` to about that many points
    while reading, keeping spikes and non-finite values (series.ReducedSeries); memory stays
    bounded by that per series plus one chunk of the file. ``last_only``: keep only each metric's
    last point (what ``tracker ls`` lists) and no system metrics. ``History.count`` is the number
    of points logged either way. ``on_metrics(step, time, values)`` is called for every metrics
    record as it is read, as iter_metrics() yields them: a run is read once for its page and its
    full-data CSV.
    """
    files = events_files(path)
    if not files:
        raise RunFormatError(path, "no events*.jsonl file")
    run = RunRecord(id=os.path.basename(os.path.normpath(path)), path=path)
    reading = _Reading(run, Problems(), max_points, last_only)
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
                    if not _good_point(record, require_step=True):
                        check_record(record, f"{file}:{number}", problems)
                        continue
                    values = _clean_values(record["values"], f"{file}:{number}", problems)
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


def _good_point(record: dict, require_step: bool) -> bool:
    """record_schema's test for metrics/system records, inlined: it runs once per logged step."""
    step, wall_time = record.get("step"), record.get("time")
    return ((type(step) is int or (not require_step and step is None))
            and type(wall_time) in (int, float) and 0 <= wall_time <= MAX_UNIX_TIME_S
            and type(record.get("values")) is dict)


def _metric_number(value):
    """A metric value as a number: ints and floats as they are, booleans as 0/1, the non-finite
    markers as floats; None for anything else."""
    if type(value) is bool:
        return int(value)
    if type(value) is str:
        return TEXT_TO_NON_FINITE.get(value)
    return None


def _clean_values(values: dict, where: str, problems: Problems) -> dict:
    if set(map(type, values.values())) <= _PLAIN_NUMBERS and all(map(str.isascii, values)):
        return values  # the usual record, checked in C: nothing to convert or escape
    clean = {}
    for key, value in values.items():
        if type(value) is not float and type(value) is not int:
            number = _metric_number(value)
            if number is None:
                problems.add(f"{where}: metrics.values.{clean_key(key)} is {type_name(value)}, expected a number; "
                             "value dropped")
                continue
            value = number
        clean[clean_key(key)] = value
    return clean


class _Reading:
    """One run being read: records folded into the RunRecord as they stream by."""

    def __init__(self, run: RunRecord, problems: Problems, max_points: int | None, last_only: bool):
        self.run = run
        self.problems = problems
        self.max_points = max_points
        self.last_only = last_only
        self.metrics: dict = {}
        self.system: dict = {}
        self.writers: dict[str, WriterState] = {}
        self.state = RunState()
        self.identified = False
        self.on_metrics = None  # see load_run
        self.bytes_total = 0  # of the run's events files, for fraction_read
        self.bytes_read = 0

    def fraction_read(self) -> float:
        """About how much of the run has been read: reduced series size their buckets by it."""
        return min(1.0, self.bytes_read / self.bytes_total) if self.bytes_total else 0.0

    def read_file(self, file: str, rank: int) -> None:
        default_writer = os.path.basename(file)[len("events-"):-len(".jsonl")] or "main"
        self.file_time = 0.0  # time of the latest record so far, for records that carry none
        try:
            for records, numbers in record_chunks(file, self.problems):
                self.bytes_read += CHUNK_BYTES  # every chunk but a file's last is about this long
                self._read_chunk(records, numbers, file, rank, default_writer)
        except NotRegularFile:
            self.problems.add(f"{file}: not a regular file (a FIFO or device?); skipped")
        except OSError as exc:
            self.problems.add(f"{file}: cannot read ({exc.strerror or exc}); skipped")

    def _read_chunk(self, records: list, numbers, file: str, rank: int, default_writer: str) -> None:
        metric_columns: dict = {}
        system_columns: dict = {}
        latest_metric_time = None
        run_of_metrics: list = []  # consecutive good metrics records, gathered column-wise
        for record, number in zip(records, numbers):
            kind = record.get("type")
            if kind == "metrics" or kind == "system":
                if not _good_point(record, require_step=kind == "metrics"):
                    check_record(record, f"{file}:{number}", self.problems)
                    continue
                wall_time = record["time"]
                self.file_time = wall_time
                if kind == "system":
                    if not self.last_only:
                        self._gather(system_columns, record, wall_time, file, number)
                    continue
                run_of_metrics.append((record, number))
                if latest_metric_time is None or wall_time > latest_metric_time:
                    latest_metric_time = wall_time
                continue
            if run_of_metrics:
                self._gather_run(metric_columns, run_of_metrics, file)
                run_of_metrics = []
            if type(kind) is not str or kind not in SCHEMAS:
                continue  # unknown record types are for later versions
            record = check_record(record, f"{file}:{number}", self.problems)
            if record is None:
                continue
            if record.get("time") is not None:  # checked: a time in range
                self.file_time = record["time"]
            self._apply(kind, record, (self.file_time, rank, number), default_writer, f"{file}:{number}")
        if run_of_metrics:
            self._gather_run(metric_columns, run_of_metrics, file)
        if latest_metric_time is not None and default_writer in self.writers:
            state = self.writers[default_writer]
            state.last_seen = max(state.last_seen or 0.0, latest_metric_time)
        for target, columns in ((self.metrics, metric_columns), (self.system, system_columns)):
            for name, (steps, values, times) in columns.items():
                name = clean_key(name)
                series = target.get(name)
                if series is None:
                    series = target[name] = new_series(self.max_points, self.last_only, self.fraction_read)
                series.add(steps, values, times)

    def _gather_run(self, columns: dict, run_of_metrics: list, file: str) -> None:
        """Add consecutive metrics records to ``columns``. Training loops log the same keys at every
        step, so records are taken in stretches of one key set: the stretch is transposed into columns
        and its values type-checked in C, a few times cheaper than a Python step per value. A
        stretch holding anything but plain numbers (a NaN marker, a bad value) goes value by value."""
        records = [record for record, _ in run_of_metrics]
        key_sets = list(map(tuple, map(_VALUES, records)))
        start = 0
        while start < len(records):
            keys = key_sets[start]
            end = start + 1
            while end < len(records) and key_sets[end] == keys:
                end += 1
            stretch = records[start:end]
            rows = list(zip(*map(dict.values, map(_VALUES, stretch)))) if keys else []
            if end - start >= MIN_COLUMN_STRETCH and all(set(map(type, row)) <= _PLAIN_NUMBERS for row in rows):
                steps = list(map(_STEP, stretch))
                times = list(map(_TIME, stretch))
                for key, row in zip(keys, rows):
                    column = columns.get(key)
                    if column is None:
                        column = columns[key] = ([], [], [])
                    column[0].extend(steps)
                    column[1].extend(row)
                    column[2].extend(times)
                if self.on_metrics is not None:
                    for step, wall_time, values in zip(steps, times, map(_VALUES, stretch)):
                        self.on_metrics(step, wall_time, values if all(map(str.isascii, keys))
                                        else {clean_key(key): value for key, value in values.items()})
            else:
                for record, number in run_of_metrics[start:end]:
                    self._gather(columns, record, record["time"], file, number)
                    if self.on_metrics is not None:  # its problems were just reported by _gather
                        self.on_metrics(record["step"], record["time"],
                                        _clean_values(record["values"], "", Problems(warn=False)))
            start = end

    def _gather(self, columns: dict, record: dict, wall_time: float, file: str, number: int) -> None:
        step = record.get("step")
        for key, value in record["values"].items():
            if type(value) is not float and type(value) is not int:
                value = _metric_number(value)
                if value is None:
                    self.problems.add(f"{file}:{number}: {record['type']}.values.{clean_key(key)} is "
                                      f"{type_name(record['values'][key])}, expected a number; value dropped")
                    continue
            column = columns.get(key)
            if column is None:
                column = columns[key] = ([], [], [])
            column[0].append(step)
            column[1].append(value)
            column[2].append(wall_time)

    def _apply(self, kind, record: dict, order: tuple, default_writer: str, where: str) -> None:
        run, writers = self.run, self.writers
        if kind == "run":
            self.identified = True
            self.state.apply(kind, record, order)
            if type(record.get("schema")) is int:
                run.schema = record["schema"]
            created = record.get("time")
            writers.setdefault(default_writer, WriterState(default_writer, started=created, last_seen=created))
        elif kind == "start":
            self.identified = True
            name = record.get("writer") or default_writer
            state = writers.get(name) or writers.pop(default_writer, None) or WriterState(name)
            state.writer = name
            state.started = record.get("time")
            state.last_seen = max(state.last_seen or 0.0, state.started or 0.0)
            state.pid, state.host, state.user = record.get("pid"), record.get("host"), record.get("user")
            state.heartbeat_interval_s = record.get("heartbeat_interval_s") or state.heartbeat_interval_s
            writers[name] = state
        elif kind == "end":
            name = record.get("writer") or default_writer
            state = writers.setdefault(name, writers.get(default_writer) or WriterState(name))
            state.status = record.get("status") or "finished"
            state.ended = record.get("time")
            if state.ended is not None and state.started is not None and state.ended < state.started:
                self.problems.add(f"{where}: end.time is before its writer's start; the start time is used")
                state.ended = state.started
            state.error = record.get("error")
        elif kind in ("config", "summary", "notes", "tags"):
            self.state.apply(kind, record, order)
        elif kind == "dataset":
            run.datasets.append(record)
        elif kind == "artifact":
            run.artifacts.append(record)
        elif kind in ("git", "code", "environment", "hardware"):
            setattr(run, kind, record)

    def finish(self, now: float) -> None:
        run, state = self.run, self.state
        identity = state.values(state.identity)
        run.id = state.id or run.id
        run.project = identity.get("project") or run.project
        run.name = identity.get("name") or run.id
        run.group = identity.get("group")
        run.created = state.created
        run.config = state.values(state.config)
        run.explicit_summary = state.values(state.summary)
        run.notes = state.notes[1] if state.notes else ""
        run.tags = state.tag_list()
        run.histories = {name: series.finish() for name, series in self.metrics.items()}
        # each process counts its system samples from 0, so they are ordered by time
        run.system = {name: series.finish(by_time=True) for name, series in self.system.items()}
        _read_heartbeats(run.path, self.writers)
        run.writers = list(self.writers.values())
        if run.created is None:
            run.created = min((writer.started for writer in run.writers if writer.started is not None), default=None)
        status, decider = run_status(run.writers, now)
        run.status = status
        run.last_seen = max((writer.last_seen or 0.0 for writer in run.writers), default=None) or None
        if status != "running":
            run.ended = max((writer.end_time() for writer in run.writers), default=None)
        if decider is not None and status == "failed":
            run.error = decider.error


def _read_heartbeats(path: str, writers: dict) -> None:
    try:
        with os.scandir(path) as entries:
            names = [entry.name for entry in entries
                     if entry.name.startswith("heartbeat-") and entry.name.endswith(".json")]
    except OSError:
        return
    for file_name in names:
        state = writers.get(file_name[len("heartbeat-"):-len(".json")])
        if state is None:
            continue
        file = os.path.join(path, file_name)
        try:
            with open_regular(file) as handle:
                beat = json.loads(handle.read(64 * 1024)).get("time")
        except (OSError, ValueError, RecursionError, AttributeError):
            try:
                beat = os.path.getmtime(file)
            except OSError:
                continue
        if type(beat) in (int, float) and 0 < beat <= MAX_UNIX_TIME_S:
            state.last_seen = max(state.last_seen or 0.0, beat)
