"""An imported run: what an importer read from another tracker, written as a run folder in the documented format.

An importer fills an ``ImportedRun`` from its source and hands it to ``ImportReport.write`` (or
``write_imported_run``). The run folder holds what ``tracker.init()`` and a finished run would
have written (docs/format.md), with the source's own times and steps: a ``run`` record whose
``imported_from`` field keeps the source, its run id and the path read; one ``start`` record of
the writer ``import-<source>``; ``config``, ``tags`` and ``notes`` at the run's start; one
``metrics`` record per (step, time) the source logged at; ``media`` records and their files
through the writer's own content-addressed store (media_files.py); ``artifact`` records and
copies; ``summary``; and an ``end`` record with the status, the end time and the state a listing
reads. Text and values are redacted as the logger redacts them.

Idempotent: the run id comes from the source, its run id and its start time
(``imported_run_id``), so importing again finds the same folder. The folder is built under a
hidden name in the runs folder and renamed into place, so a reader never sees half an import;
when one exists already it is left ``unchanged`` if the import would write the same bytes, else
``replaced`` by two renames (a reader sees the old run or the new one, or for the instant
between the renames none). Files the import did not write (a later ``tracker.init(id=...,
resume=True)``'s events, console and media files) are carried into the new folder as hard links.
"""
from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import math
import operator
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..artifacts import ARTIFACTS_DIR, ArtifactCopy, stored_name
from ..config_keys import rename_colliding_keys
from ..end_state import FileState
from ..errors import UsageError
from ..ids import RANDOM_CHARS
from ..layout import MAIN_EVENTS_FILE
from ..line_encoding import queued_metrics, queued_values
from ..media_files import BYTES_PER_MB, DEFAULT_MEDIA_BUDGET_MB, MEDIA_FOLDER, MediaStore
from ..media_logging import QueuedMedia
from ..redact import redact_mapping, redact_text
from ..session import SCHEMA_VERSION
from ..values import encode_line, metric_number, safe_text, to_jsonable

END_STATUSES = ("finished", "failed", "interrupted", "terminated")  # written as the end record's status
OPEN_STATUSES = ("running", "crashed")  # no end record: the reader tells them apart by the last record's age
STATUSES = END_STATUSES + OPEN_STATUSES
OUTCOMES = ("created", "replaced", "unchanged")
IMPORT_OWNED = (MAIN_EVENTS_FILE, ARTIFACTS_DIR, MEDIA_FOLDER)  # what an import writes; the rest is carried over
MEDIA_BUDGET_BYTES = int(DEFAULT_MEDIA_BUDGET_MB * BYTES_PER_MB)  # the logger's default, per imported run
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # ids.py's: an imported id looks like any other


@dataclass
class ImportedRun:
    """One run of another tracker, as its importer read it. Times are unix seconds."""

    source: str                   # "mlflow" | "tensorboard" | "wandb"
    source_id: str                # the source's own run id, kept in the run record's imported_from
    source_path: str              # where it was read from
    start_time: float
    name: str | None = None
    project: str | None = None
    group: str | None = None
    end_time: float | None = None
    status: str = "finished"      # one of STATUSES
    error: str | None = None      # a failed run's error, where the source keeps one
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    metrics: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # key -> [(step, time, value)]
    media: list[tuple[str, int, float, object]] = field(default_factory=list)  # (key, step, time, tracker.media object)
    artifacts: list[tuple[str, Path]] = field(default_factory=list)  # (name in the run, source file or folder)
    skipped: list[str] = field(default_factory=list)  # what could not be read, in words
    user: str | None = None       # who and where the source says the run ran: the start record's user, host
    host: str | None = None


@dataclass
class ImportReport:
    """What one ``tracker import`` did: the run folders by outcome, and everything skipped."""

    source: str
    source_path: str
    runs_dir: Path
    project: str | None = None    # --project: every run goes into this project, whatever the source says
    created: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def write(self, run: ImportedRun) -> Path:
        """Write ``run`` into the runs folder, counting its outcome and keeping its skipped parts."""
        if self.project:
            run = dataclasses.replace(run, project=self.project)
        folder, outcome, messages = store_imported_run(run, self.runs_dir)
        getattr(self, outcome).append(folder)
        self.skipped.extend(f"{run.source} run {run.source_id}: {message}" for message in messages)
        return folder

    def skip(self, message: str) -> None:
        """A run, or a part of the source, that was not imported at all."""
        self.skipped.append(message)

    @property
    def imported(self) -> int:
        return len(self.created) + len(self.replaced) + len(self.unchanged)

    def lines(self) -> list[str]:
        """The report as the CLI prints it."""
        lines = [f"imported {self.imported} {self.source} run{'s' if self.imported != 1 else ''} "
                 f"from {self.source_path} into {self.runs_dir}: {len(self.created)} created, "
                 f"{len(self.replaced)} replaced, {len(self.unchanged)} unchanged"]
        if self.skipped:
            lines.append(f"skipped ({len(self.skipped)}):")
            lines.extend(f"  {message}" for message in self.skipped)
        return lines


def write_imported_run(run: ImportedRun, runs_dir: Path) -> tuple[Path, bool]:
    """Write ``run`` as a run folder under ``runs_dir``: (its folder, whether it was created)."""
    folder, outcome, _ = store_imported_run(run, runs_dir)
    return folder, outcome == "created"


def store_imported_run(run: ImportedRun, runs_dir: Path) -> tuple[Path, str, list[str]]:
    """Write ``run`` under ``runs_dir``: (its folder, its outcome from OUTCOMES, messages for the report)."""
    if run.status not in STATUSES:
        raise ValueError(f"{run.source} run {run.source_id}: status {run.status!r} is not one of {', '.join(STATUSES)}")
    if not _is_time(run.start_time):
        raise ValueError(f"{run.source} run {run.source_id}: start_time {run.start_time!r} is not a unix time")
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    run_id = imported_run_id(run.source, run.source_id, run.start_time)
    folder = runs_dir / run_id
    building = runs_dir / f".import-{run_id}.tmp-{os.getpid()}"  # hidden from readers: a leading dot
    shutil.rmtree(building, ignore_errors=True)  # a killed import of this run by a process of our pid
    building.mkdir()
    try:
        messages = list(run.skipped) + _write_folder(run, run_id, building)
        outcome = _put_in_place(building, folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder, outcome, messages


def imported_run_id(source: str, source_id: str, start_time: float) -> str:
    """The run id of an imported run: its start time as ids.py stamps it, then characters of a hash
    of (source, source id) where a new run has random ones: the same source run, the same id."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(start_time))
    number = int.from_bytes(hashlib.sha256(f"{source}\0{source_id}".encode("utf-8", "surrogatepass")).digest()[:8])
    characters = []
    for _ in range(RANDOM_CHARS):
        number, digit = divmod(number, len(_ID_ALPHABET))
        characters.append(_ID_ALPHABET[digit])
    return f"{stamp}-{''.join(characters)}"


# -- the run folder ---------------------------------------------------------------------


def _write_folder(run: ImportedRun, run_id: str, path: Path) -> list[str]:
    """Write the run's events, media and artifacts into ``path``; returns messages for the report."""
    messages: list[str] = []
    start = float(run.start_time)
    points = _metric_points(run, messages)
    last_time = max([start] + [point[1] for point in points])
    end = float(run.end_time) if _is_time(run.end_time) else last_time
    end = max(end, start)
    writer = f"import-{run.source}"
    head = [{"type": "run", "schema": SCHEMA_VERSION, "id": run_id, "project": _text(run.project) or "default",
             "name": _text(run.name) or run_id, "group": _text(run.group), "time": start,
             "imported_from": {"source": run.source, "id": safe_text(str(run.source_id)),
                               "path": safe_text(str(run.source_path))}},
            {"type": "start", "writer": writer, "time": start, "user": _text(run.user), "host": _text(run.host),
             "resumed": False}]
    body: list = []
    config = redact_mapping(to_jsonable(run.config, _path="config"))
    config, renames = rename_colliding_keys({}, config)
    if renames:
        messages.append("config keys that flatten to one name stored renamed: "
                        + ", ".join(f"{old!r} as {new!r}" for old, new in renames))
    if config:
        body.append({"type": "config", "time": start, "values": config})
    tags = list(dict.fromkeys(filter(None, map(_text, run.tags))))
    if tags:
        body.append({"type": "tags", "time": start, "add": tags})
    if run.notes:
        body.append({"type": "notes", "time": start, "text": _text(run.notes)})
    body.extend(points)
    body.extend(_media_records(run, path, messages))
    body.extend(_artifact_records(run, path, end, messages))
    if run.summary:
        body.append({"type": "summary", "time": end, "values": redact_mapping(to_jsonable(run.summary, _path="summary"))})
    _write_events(path / MAIN_EVENTS_FILE, head, body, run, writer, end)
    return messages


def _metric_points(run: ImportedRun, messages: list[str]) -> list[tuple]:
    """The metric histories as the writer's metrics items (line_encoding.queued_metrics), one per
    (step, time) the source logged at, in step then time order."""
    grouped: dict[tuple[int, float], dict] = {}
    dropped: dict[str, int] = {}
    for key, history in run.metrics.items():
        name = safe_text(str(key))
        for step, wall_time, value in history:
            try:  # NumPy scalars pass, as they do through log()
                step, value = operator.index(step), metric_number(name, value)
            except (TypeError, UsageError):
                dropped[name] = dropped.get(name, 0) + 1
                continue
            wall_time = float(wall_time) if _is_time(wall_time) else float(run.start_time)
            grouped.setdefault((step, wall_time), {})[name] = value
    for name, count in dropped.items():
        messages.append(f"metric {name!r}: {count} point{'s' if count != 1 else ''} with a step or value "
                        "that is not a number")
    return [queued_metrics(step, wall_time, values) for (step, wall_time), values in sorted(grouped.items())]


def _media_records(run: ImportedRun, path: Path, messages: list[str]) -> list[dict]:
    """Each media object's files stored as the writer stores them, and its ``media`` record."""
    store = MediaStore(str(path), MEDIA_BUDGET_BYTES, lambda cause, message: messages.append(message))
    records, places = [], {}
    for key, step, wall_time, media in run.media:
        key = safe_text(str(key))
        index = places[key, step] = places.get((key, step), -1) + 1  # several objects under one key and step
        wall_time = float(wall_time) if _is_time(wall_time) else float(run.start_time)
        record = store.record(QueuedMedia(key, step, wall_time, index, media))
        if record is not None:
            records.append(record)
    return records


def _artifact_records(run: ImportedRun, path: Path, logged_at: float, messages: list[str]) -> list[dict]:
    records = []
    for name, source in run.artifacts:
        try:
            copy = ArtifactCopy(os.fspath(source), str(path), stored_name(str(name)), logged_at)
            records.append(copy.run())
        except (OSError, ValueError) as exc:  # ArtifactNameError is a ValueError too
            messages.append(f"artifact {name!r} not copied ({type(exc).__name__}: {exc})")
    return records


def _write_events(events_path: Path, head: list[dict], body: list, run: ImportedRun, writer: str,
                  end: float) -> None:
    """The events file in one write, its end record carrying the state a listing reads (end_state.py)."""
    state = FileState()
    state.add_head(head)
    state.fold(body)
    lines = [encode_line(record) for record in head]
    body_text = "".join(encode_line(_as_record(item)) + "\n" for item in body)
    state.wrote(len(body_text.encode("utf-8")))
    tail = ""
    if run.status in END_STATUSES:
        error = redact_text(_text(run.error)) if run.error else None
        record = {"type": "end", "writer": writer, "time": end, "status": run.status, "error": error}
        tail = encode_line(state.end_record(record)) + "\n"
    events_path.write_text("".join(line + "\n" for line in lines) + body_text + tail, encoding="utf-8")


def _as_record(item) -> dict:
    if type(item) is tuple:  # a metrics item, as the writer queues it
        return {"type": "metrics", "step": item[0], "time": item[1], "values": queued_values(item)}
    return item


def _text(value) -> str | None:
    return redact_text(safe_text(str(value))) if value not in (None, "") else None


def _is_time(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


# -- putting it in place ----------------------------------------------------------------


def _put_in_place(building: Path, folder: Path) -> str:
    """Move the built folder to ``folder``: its outcome from OUTCOMES."""
    try:
        os.rename(building, folder)  # fails when the folder exists (and is not empty)
        return "created"
    except OSError:
        if not folder.is_dir():
            raise
    if _same_import(building, folder):
        return "unchanged"
    _carry_over(folder, building)
    old = folder.with_name(f".import-{folder.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(folder, old)
    os.rename(building, folder)
    shutil.rmtree(old, ignore_errors=True)
    return "replaced"


def _same_import(new: Path, old: Path) -> bool:
    """Whether ``old`` holds every file of ``new`` with the same bytes, and the same artifacts."""
    new_files = _files(new)
    if any(not (old / name).is_file() or not filecmp.cmp(new / name, old / name, shallow=False) for name in new_files):
        return False
    artifacts = ARTIFACTS_DIR + "/"
    return {name for name in _files(old) if name.startswith(artifacts)} == \
        {name for name in new_files if name.startswith(artifacts)}


def _carry_over(old: Path, new: Path) -> None:
    """Hard-link into ``new`` what ``old`` holds that an import does not write: another writer's
    files, and media files the new import does not have (a resumed run's)."""
    for name in _files(old):
        top = name.split("/", 1)[0]
        if (top in IMPORT_OWNED and top != MEDIA_FOLDER) or (new / name).exists():
            continue
        target = new / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old / name, target)  # the same file: a writer still appending to it goes on
        except OSError:
            shutil.copy2(old / name, target)


def _files(root: Path) -> list[str]:
    """Every file under ``root``, as POSIX paths relative to it."""
    found = []
    for folder, _, names in os.walk(root):
        relative = Path(folder).relative_to(root)
        found.extend((relative / name).as_posix() for name in names)
    return found
