"""Folding one run's records into a RunRecord as they stream by: what load_run does with each
chunk of parsed records (reader.py opens the files and owns the result).

Metrics are the bulk of a run and are checked and gathered column-wise: a chunk's stretch of
metrics lines is decoded and checked by msgspec's types in one pass (typed_records.py) where it
takes them, else a stretch of consecutive metrics records is checked field by field in C
(good_points); a stretch of records with one key set is transposed and type-checked in C, so the
usual record costs no Python step of its own.
Every other record passes record_schema's check, then updates the writers (status), the settable
state (run_state.py) or the run's lists.
"""
from __future__ import annotations

import json
import os
from itertools import groupby, repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from .cyclic_gc import cyclic_gc_paused
from .event_lines import CHUNK_BYTES, NotRegularFile, line_chunks, open_regular, parse_lines
from .media_reading import add_media_record
from .problems import Problems
from .record_schema import MAX_UNIX_TIME_S, SCHEMAS, check_record, clean_key, type_name
from .run_state import RunState
from .series import new_series
from .status import WriterState, run_status
from .typed_records import MetricsStretch, metrics_stretch
from .values import TEXT_TO_NON_FINITE

if TYPE_CHECKING:  # for annotations only: reader.py imports this module
    from .reader import RunRecord

MIN_COLUMN_STRETCH = 4  # shorter stretches of one key set (or of metrics records) are cheaper one by one
_PLAIN_NUMBERS = frozenset({int, float})
_INTS, _DICTS = frozenset({int}), frozenset({dict})
_VALUES, _STEP, _TIME = itemgetter("values"), itemgetter("step"), itemgetter("time")


def good_point(record: dict, require_step: bool) -> bool:
    """record_schema's test for metrics/system records, inlined: it runs once per logged step."""
    step, wall_time = record.get("step"), record.get("time")
    return ((type(step) is int or (not require_step and step is None))
            and type(wall_time) in (int, float) and 0 <= wall_time <= MAX_UNIX_TIME_S
            and type(record.get("values")) is dict)


def good_points(records: list) -> bool:
    """Whether good_point(record, require_step=True) holds for every one of ``records``: the same
    test a field at a time, in C."""
    try:
        if set(map(type, map(_STEP, records))) != _INTS or set(map(type, map(_VALUES, records))) != _DICTS:
            return False
        times = list(map(_TIME, records))
    except KeyError:
        return False
    # min and max can miss a NaN (every comparison with it is false); the sum of the times cannot
    return (set(map(type, times)) <= _PLAIN_NUMBERS and 0 <= min(times) and max(times) <= MAX_UNIX_TIME_S
            and sum(times) - sum(times) == 0)


def _metric_number(value):
    """A metric value as a number: ints and floats as they are, booleans as 0/1, the non-finite
    markers as floats; None for anything else."""
    if type(value) is bool:
        return int(value)
    if type(value) is str:
        return TEXT_TO_NON_FINITE.get(value)
    return None


def clean_metric_values(values: dict, where: str, problems: Problems, kind: str = "metrics") -> dict:
    """A metrics (or system) record's values as numbers under storable names; a value that is not a
    number is dropped with a problem naming ``where`` and the key."""
    if set(map(type, values.values())) <= _PLAIN_NUMBERS and all(map(str.isascii, values)):
        return values  # the usual record, checked in C: nothing to convert or escape
    clean = {}
    for key, value in values.items():
        if type(value) is not float and type(value) is not int:
            number = _metric_number(value)
            if number is None:
                problems.add(f"{where}: {kind}.values.{clean_key(key)} is {type_name(value)}, expected a number; "
                             "value dropped")
                continue
            value = number
        clean[clean_key(key)] = value
    return clean


def _column(columns: dict, key: str) -> tuple[list, list, list]:
    """The (steps, values, times) lists of ``key`` in ``columns``, made on first use."""
    column = columns.get(key)
    if column is None:
        column = columns[key] = ([], [], [])
    return column


IMPORTED_FROM_KEYS = ("source", "id", "path")  # docs/format.md, "Imported runs"

class RunReading:
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
        self.file_time = 0.0  # time of the latest record so far in the file being read

    def fraction_read(self) -> float:
        """About how much of the run has been read: reduced series size their buckets by it."""
        return min(1.0, self.bytes_read / self.bytes_total) if self.bytes_total else 0.0

    def read_file(self, file: str, rank: int) -> None:
        default_writer = writer_of_file(file)
        self.file_time = 0.0  # time of the latest record so far, for records that carry none
        try:
            with cyclic_gc_paused():  # a fifth of load_run's CPU went to collecting the records
                for lines, first_line, count, torn_tail in line_chunks(file, self.problems):
                    self.bytes_read += CHUNK_BYTES  # every chunk but a file's last is about this long
                    self._read_pieces(self._chunk_pieces(lines, first_line, count, torn_tail, file),
                                      file, rank, default_writer)
        except NotRegularFile:
            self.problems.add(f"{file}: not a regular file (a FIFO or device?); skipped")
        except OSError as exc:
            self.problems.add(f"{file}: cannot read ({exc.strerror or exc}); skipped")

    def read_records(self, records: list, numbers, file: str, rank: int) -> None:
        """Fold records of ``file`` read some other way than read_file, in file order (tail_reading.py:
        the records at a file's head, then its end record)."""
        self._read_pieces(((records, numbers),), file, rank, writer_of_file(file))

    def _chunk_pieces(self, lines: bytes, first_line: int, count: int, torn_tail: bool, file: str) -> list:
        """A chunk's lines parsed, in file order: its stretch of metrics records decoded typed
        (typed_records.py) and the lines around it as records, or all of it as records. Every
        piece is parsed before any is folded, so problems come in the order they always did."""
        stretch = None if torn_tail else metrics_stretch(lines, first_line, count)
        if stretch is None:
            return [parse_lines(lines, first_line, file, self.problems, torn_tail, count)]
        pieces = []
        if stretch.start:
            pieces.append(parse_lines(lines[:stretch.start], first_line, file, self.problems))
        pieces.append(stretch)
        if stretch.end < len(lines):
            pieces.append(parse_lines(lines[stretch.end:], stretch.numbers.stop, file, self.problems))
        return pieces

    def _read_pieces(self, pieces, file: str, rank: int, default_writer: str) -> None:
        """Fold one chunk's pieces: (records, line numbers) pairs and MetricsStretches, in file order."""
        metric_columns: dict = {}
        system_columns: dict = {}
        latest_metric_time = None
        # consecutive good metrics records as parallel columns and line numbers, gathered column-wise
        pending = ([], [], [], [])  # steps, times, values, line numbers
        for piece in pieces:
            if type(piece) is MetricsStretch:
                if piece.keys:  # a column per key already: the records before it are gathered first
                    if pending[0]:
                        self._gather_metrics(metric_columns, *pending, file)
                        for column in pending:
                            column.clear()
                    self._add_columns(metric_columns, piece)
                else:
                    for column, new in zip(pending, (piece.steps, piece.times, piece.values, piece.numbers)):
                        column += new
                latest = max(piece.times)
                if latest_metric_time is None or latest > latest_metric_time:
                    latest_metric_time = latest
                self.file_time = piece.times[-1]
            else:
                latest_metric_time = self._read_records(*piece, file, rank, default_writer, metric_columns,
                                                        system_columns, pending, latest_metric_time)
        if pending[0]:
            self._gather_metrics(metric_columns, *pending, file)
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

    def _read_records(self, records: list, numbers, file: str, rank: int, default_writer: str,
                      metric_columns: dict, system_columns: dict, pending: tuple, latest_metric_time):
        """Fold parsed records of a chunk; good metrics records join ``pending``. Returns the latest
        metrics time so far."""
        start = 0
        for kind, same in groupby(list(map(dict.get, records, repeat("type")))):
            end = start + len(list(same))
            group = records[start:end]
            if kind == "metrics" and len(group) >= MIN_COLUMN_STRETCH and good_points(group):
                for column, getter in zip(pending, (_STEP, _TIME, _VALUES)):
                    column += map(getter, group)
                pending[3].extend(numbers[start:end])
                latest = max(map(_TIME, group))
                if latest_metric_time is None or latest > latest_metric_time:
                    latest_metric_time = latest
                self.file_time = group[-1]["time"]
                start = end
                continue
            for record, number in zip(group, numbers[start:end]):
                if kind == "metrics" or kind == "system":
                    if not good_point(record, require_step=kind == "metrics"):
                        check_record(record, f"{file}:{number}", self.problems)
                        continue
                    wall_time = record["time"]
                    self.file_time = wall_time
                    if kind == "system":
                        if not self.last_only:
                            self._gather(system_columns, record.get("step"), record["values"], wall_time, number,
                                         "system", file)
                        continue
                    pending[0].append(record["step"])
                    pending[1].append(wall_time)
                    pending[2].append(record["values"])
                    pending[3].append(number)
                    if latest_metric_time is None or wall_time > latest_metric_time:
                        latest_metric_time = wall_time
                    continue
                if pending[0]:
                    self._gather_metrics(metric_columns, *pending, file)
                    for column in pending:
                        column.clear()
                if type(kind) is not str or kind not in SCHEMAS:
                    continue  # unknown record types are for later versions
                record = check_record(record, f"{file}:{number}", self.problems)
                if record is None:
                    continue
                if record.get("time") is not None:  # checked: a time in range
                    self.file_time = record["time"]
                self._apply(kind, record, (self.file_time, rank, number), default_writer, f"{file}:{number}")
            start = end
        return latest_metric_time

    def _gather_metrics(self, columns: dict, all_steps: list, all_times: list, all_values: list,
                        numbers: list, file: str) -> None:
        """Add consecutive good metrics records to ``columns``. Training loops log the same keys at
        every step, so records are taken in stretches of one key set: the stretch is transposed into
        columns and its values type-checked in C, a few times cheaper than a Python step per value.
        A stretch holding anything but plain numbers (a NaN marker, a bad value) goes value by value."""
        start = 0
        for keys, same in groupby(list(map(tuple, all_values))):
            end = start + len(list(same))
            stretch = all_values[start:end]
            steps, times = all_steps[start:end], all_times[start:end]
            rows = list(zip(*map(dict.values, stretch))) if end - start >= MIN_COLUMN_STRETCH else None
            if rows is not None and all(set(map(type, row)) <= _PLAIN_NUMBERS for row in rows):
                for key, row in zip(keys, rows):
                    column = _column(columns, key)
                    column[0].extend(steps)
                    column[1].extend(row)
                    column[2].extend(times)
                if self.on_metrics is not None:
                    values = stretch
                    if not all(map(str.isascii, keys)):
                        values = [{clean_key(key): value for key, value in record.items()} for record in values]
                    self.on_metrics(steps, times, values)
            else:
                values = [self._gather(columns, *point, "metrics", file)
                          for point in zip(steps, stretch, times, numbers[start:end])]
                if self.on_metrics is not None:
                    self.on_metrics(steps, times, values)
            start = end

    def _add_columns(self, columns: dict, stretch: MetricsStretch) -> None:
        """Add a typed stretch whose records all hold the same keys (typed_records.py) to ``columns``."""
        steps, times = stretch.steps, stretch.times
        for key, values in zip(stretch.keys, stretch.columns):
            column = _column(columns, key)
            column[0].extend(steps)
            column[1].extend(values)
            column[2].extend(times)
        if self.on_metrics is None:
            return
        keys = stretch.keys
        plain = all(map(str.isascii, keys))
        add_columns = getattr(self.on_metrics, "add_columns", None)
        if add_columns is not None and plain:
            add_columns(steps, times, keys, stretch.columns)
            return
        # each record's values as a dict, under storable names, as _gather_metrics gives them
        keys = keys if plain else tuple(map(clean_key, keys))
        self.on_metrics(steps, times, [dict(zip(keys, row)) for row in zip(*stretch.columns)])

    def _gather(self, columns: dict, step, values: dict, wall_time: float, number: int, kind: str,
                file: str) -> dict:
        """Add one record's values to ``columns``; returns them cleaned (see clean_metric_values)."""
        values = clean_metric_values(values, f"{file}:{number}", self.problems, kind)
        for key, value in values.items():
            column = _column(columns, key)
            column[0].append(step)
            column[1].append(value)
            column[2].append(wall_time)
        return values

    def _apply(self, kind, record: dict, order: tuple, default_writer: str, where: str) -> None:
        run, writers = self.run, self.writers
        if kind == "run":
            self.identified = True
            self.state.apply(kind, record, order)
            if type(record.get("schema")) is int:
                run.schema = record["schema"]
            imported = record.get("imported_from")
            if type(imported) is dict:  # the texts it holds, as importers write them; anything else is left out
                run.imported_from = {key: imported[key] for key in IMPORTED_FROM_KEYS if type(imported.get(key)) is str}
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
            state.rank, state.node = record.get("rank"), record.get("node")
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
            if kind == "hardware" and record.get("node") is not None:
                run.node_hardware[record["node"]] = record
        elif kind == "media":
            add_media_record(run.media, record, where, self.problems)
        elif kind == "alert":
            run.alerts.append(record)

    def finish(self, now: float, heartbeats: bool = True) -> None:
        """Settle the run from what was folded. ``heartbeats=False`` skips the heartbeat files: a
        writer that ended has its status and end time from its end record, and only its last_seen
        could change."""
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
        # A reduced series holds self.fraction_read, a reference cycle that only the cycle collector
        # would free, with every point read; dropped here, reference counting frees them now.
        self.metrics, self.system = {}, {}
        if heartbeats:
            read_heartbeats(run.path, self.writers)
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


def writer_of_file(file: str) -> str:
    """The writer an events file belongs to when no start record names one: ``events-<writer>.jsonl``,
    and "main" for events.jsonl."""
    return os.path.basename(file)[len("events-"):-len(".jsonl")] or "main"


def read_heartbeats(path: str, writers: dict) -> None:
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
