"""Reading runs back: ``tracker.runs(dir)`` and ``load_run(path)``.

The reader survives anything on disk: a torn or corrupt line is skipped with a warning naming
the file and line, unknown fields and record types are ignored, and a run folder that cannot
be read at all is reported while the others still load.
"""
from __future__ import annotations

import glob
import json
import os
import time
import warnings
from dataclasses import dataclass, field

from .errors import RunFormatError, RunNotFoundError
from .run_keys import keyed_run_folders
from .status import WriterState, run_status
from .values import decode_number

EVENTS_GLOB = "events*.jsonl"


@dataclass
class History:
    """One metric's series: parallel lists of steps, values and wall times (unix seconds)."""

    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)
    times: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)


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

    def as_filterable(self) -> dict:
        """The plain dict the filter language evaluates (same shape the site's index uses)."""
        return {"id": self.id, "name": self.name, "project": self.project, "group": self.group,
                "status": self.status, "tags": list(self.tags), "user": self.user, "host": self.host,
                "notes": self.notes, "created": self.created, "duration_s": self.duration_s,
                "config": self.config, "summary": self.summary}


@dataclass
class ScanResult:
    runs: list
    errors: list  # (path, message) for run folders that could not be read at all


def runs(dir=None, *, project: str | None = None) -> list[RunRecord]:
    """All readable runs under ``dir`` (default: $TRACKER_DIR or ./tracker-runs), oldest first.

    Unreadable run folders are reported with a warning and skipped.
    """
    result = scan(dir)
    for path, message in result.errors:
        warnings.warn(f"tracker: skipped unreadable run {path}: {message}", stacklevel=2)
    if project is not None:
        return [run for run in result.runs if run.project == project]
    return result.runs


def scan(*roots, now: float | None = None) -> ScanResult:
    """Load every run folder under each root; a run id found in several roots is loaded once."""
    from .session import runs_root

    roots = roots or (None,)
    loaded, errors, seen = [], [], set()
    for root in roots:
        root = runs_root(root)
        for path, _ in keyed_run_folders(root):
            run_id = os.path.basename(path)
            if run_id in seen:
                continue
            seen.add(run_id)
            try:
                loaded.append(load_run(path, now=now))
            except (RunFormatError, OSError) as exc:
                errors.append((path, str(exc)))
    loaded.sort(key=lambda run: (run.created or 0.0, run.id))
    return ScanResult(loaded, errors)


def find_run(query: str, *roots) -> RunRecord:
    """The run whose id, unique id prefix, or name is ``query`` (looked up in tracker ls's listing,
    so only the run found and the runs that changed are read)."""
    from .listing import list_runs

    rows = list_runs(*roots).rows
    matches = [row for row in rows if row["id"] == query] or \
              [row for row in rows if row["id"].startswith(query)] or \
              [row for row in rows if row["name"] == query]
    if len(matches) == 1:
        return load_run(matches[0]["path"])
    where = ", ".join(os.path.abspath(root) if root else "the runs folder" for root in (roots or (None,)))
    raise RunNotFoundError(query, where, [row["id"] for row in matches])


def load_run(path: str, now: float | None = None) -> RunRecord:
    """Read one run folder. Raises RunFormatError when nothing in it identifies a run."""
    files = sorted(glob.glob(os.path.join(path, EVENTS_GLOB)))
    if not files:
        raise RunFormatError(path, "no events*.jsonl file")
    run = RunRecord(id=os.path.basename(os.path.normpath(path)), path=path)
    writers: dict[str, WriterState] = {}
    identified = False
    for file in files:
        default_writer = os.path.basename(file)[len("events-"):-len(".jsonl")] or "main"
        for record in _records(file, run.warnings):
            identified |= _apply(run, record, writers, default_writer)
    if not identified:
        raise RunFormatError(path, "no readable 'run' or 'start' record")
    _read_heartbeats(path, writers)
    _finish_histories(run.histories)
    _finish_histories(run.system, by_time=True)  # each process counts its samples from 0
    run.writers = list(writers.values())
    status, decider = run_status(run.writers, time.time() if now is None else now)
    run.status = status
    run.last_seen = max((writer.last_seen or 0.0 for writer in run.writers), default=None) or None
    if status != "running":
        run.ended = max((writer.end_time() for writer in run.writers), default=None)
    if decider is not None and status == "failed":
        run.error = decider.error
    return run


def _records(file: str, problems: list):
    """Parsed records of one JSON-lines file; bad lines become warnings naming file and line."""
    with open(file, "rb") as handle:
        data = handle.read()
    lines = data.split(b"\n")
    torn_tail = lines[-1] != b""
    try:
        # One parse of the whole file as a JSON array is several times faster than a parse per
        # line; any bad line makes it fail, and then the lines are parsed one by one to name it.
        records = json.loads(b"[" + b",".join(line for line in lines if line.strip()) + b"]")
    except ValueError:
        records = None
    if records is not None and all(type(record) is dict for record in records):
        yield from records
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            torn = torn_tail and number == len(lines)
            reason = "torn last line (the writer stopped mid-write)" if torn else f"corrupt line ({exc.msg})"
            _problem(problems, f"{file}:{number}: {reason}; skipped")
            continue
        if type(record) is dict:
            yield record
        else:
            _problem(problems, f"{file}:{number}: not a JSON object; skipped")


def _problem(problems: list, message: str) -> None:
    problems.append(message)
    warnings.warn(f"tracker: {message}", stacklevel=3)


def _apply(run: RunRecord, record: dict, writers: dict, default_writer: str) -> bool:
    """Fold one record into the run; True if it identifies the run."""
    kind = record.get("type")
    if kind == "metrics":
        _append_point(run.histories, record)
        if default_writer in writers:
            writers[default_writer].last_seen = max(writers[default_writer].last_seen or 0.0, record.get("time") or 0.0)
        return False
    if kind == "system":
        _append_point(run.system, record)
        return False
    if kind == "run":
        run.project = str(record.get("project") or run.project)
        run.name = str(record.get("name") or run.id)
        run.group = record.get("group")
        run.created = _number(record.get("time"))
        run.schema = record.get("schema")
        run.id = str(record.get("id") or run.id)
        writers.setdefault(default_writer, WriterState(default_writer, started=run.created, last_seen=run.created))
        return True
    if kind == "start":
        name = str(record.get("writer") or default_writer)
        state = writers.get(name) or writers.pop(default_writer, None) or WriterState(name)
        state.writer = name
        state.started = _number(record.get("time"))
        state.last_seen = max(state.last_seen or 0.0, state.started or 0.0)
        state.pid, state.host, state.user = record.get("pid"), record.get("host"), record.get("user")
        state.heartbeat_interval_s = _number(record.get("heartbeat_interval_s")) or state.heartbeat_interval_s
        writers[name] = state
        if run.created is None:
            run.created = state.started
        return True
    if kind == "end":
        name = str(record.get("writer") or default_writer)
        state = writers.setdefault(name, writers.get(default_writer) or WriterState(name))
        state.status = str(record.get("status") or "finished")
        state.ended = _number(record.get("time"))
        state.error = record.get("error")
    elif kind == "config" and isinstance(record.get("values"), dict):
        run.config.update(record["values"])
    elif kind == "summary" and isinstance(record.get("values"), dict):
        run.explicit_summary.update({key: decode_number(value) for key, value in record["values"].items()})
    elif kind == "tags":
        run.tags.extend(str(tag) for tag in record.get("add") or [] if str(tag) not in run.tags)
        removed = set(map(str, record.get("remove") or []))
        run.tags[:] = [tag for tag in run.tags if tag not in removed]
    elif kind == "notes":
        run.notes = str(record.get("text") or "")
    elif kind == "dataset":
        run.datasets.append(record)
    elif kind == "artifact":
        run.artifacts.append(record)
    elif kind in ("git", "code", "environment", "hardware"):
        setattr(run, kind, record)
    return False


def _append_point(histories: dict, record: dict) -> None:
    values = record.get("values")
    if type(values) is not dict:
        return
    step = record.get("step")
    wall_time = record.get("time")
    for key, value in values.items():
        series = histories.get(key)
        if series is None:
            series = histories[key] = History()
        series.steps.append(step)
        series.values.append(value if type(value) is not str else decode_number(value))
        series.times.append(wall_time)


def _finish_histories(histories: dict, by_time: bool = False) -> None:
    """Order points by step, or by time: several writers may interleave their files."""
    for series in histories.values():
        try:
            ordered = series.times if by_time else series.steps
            if ordered == sorted(ordered):  # the usual case, checked in C
                continue
        except TypeError:
            pass  # a missing step or time (None) among numbers: the slower path below handles it
        keys = [(value if type(value) in (int, float) else index)
                for index, value in enumerate(series.times if by_time else series.steps)]
        if all(keys[index] <= keys[index + 1] for index in range(len(keys) - 1)):
            continue
        order = sorted(range(len(keys)), key=lambda index: (keys[index], series.times[index] or 0.0))
        series.steps = [series.steps[index] for index in order]
        series.values = [series.values[index] for index in order]
        series.times = [series.times[index] for index in order]


def _read_heartbeats(path: str, writers: dict) -> None:
    for file in glob.glob(os.path.join(path, "heartbeat-*.json")):
        name = os.path.basename(file)[len("heartbeat-"):-len(".json")]
        try:
            with open(file, encoding="utf-8") as handle:
                beat = _number(json.load(handle).get("time"))
        except (OSError, ValueError, AttributeError):
            try:
                beat = os.path.getmtime(file)
            except OSError:
                continue
        state = writers.get(name)
        if state is not None and beat:
            state.last_seen = max(state.last_seen or 0.0, beat)


def _number(value) -> float | None:
    return float(value) if type(value) in (int, float) else None
