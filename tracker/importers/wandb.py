"""W&B: offline run folders (``wandb/offline-run-*``) imported from their ``.wandb`` files' records.

``tracker import wandb PATH`` takes a run folder (one holding a ``run-<id>.wandb`` file), a
``wandb/`` folder of them, or a folder above (each run folder found below it, symlinks such as
``latest-run`` not followed). The ``.wandb`` file is read record by record (wandb_log.py undoes
its framing; each record is a ``wandb.proto`` Record) and folded as W&B folds it:

- ``run`` records: the run id (kept as the source id), project, display name, group, notes, tags,
  host, start time and the config at init; W&B's job type becomes the tag ``job_type:<type>``;
- ``config`` and ``summary`` records: updates and removals by (nested) key, the later winning;
  W&B's own keys (``_wandb``, and in the summary ``_step``, ``_runtime``, ``_timestamp``) are left out;
- ``history`` records: one row per step, at the row's ``_step`` and ``_timestamp``; numbers become
  metrics (a nested dict's as ``outer.inner``), ``wandb.Image`` (one or a list), ``Histogram``
  and ``Table`` values become media from the run's ``files/`` folder;
- ``exit``: exit code 0 is ``finished``, any other ``failed`` with the console's last stderr
  lines as the error; a file with no ``exit`` record (a killed run) is ``crashed``;
- the files of the run's ``files/`` folder (``output.log``, ``requirements.txt``, files the
  script saved) become artifacts under their path there; media files are imported as media.

Records of other kinds that hold data (system stats, alerts, W&B artifacts, TensorBoard
records) are counted in the report as skipped, as are history values that are neither numbers
nor media of those kinds, and any part of the file that could not be read.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from . import NotASourceError, require_library
from .imported_run import ImportedRun, ImportReport
from .wandb_log import LogDamage, NotAWandbFile, read_record_bytes
from ..media import Histogram, Image, Table

require_library("wandb", "wandb", "wandb")  # missing: the CLI exits 2 naming the extra

from wandb.proto import wandb_internal_pb2  # noqa: E402 (after the check above)

SOURCE = "wandb"
RUN_FILE_GLOB = "run-*.wandb"
OWN_KEY_PREFIX = "_"  # W&B's bookkeeping keys (_step, _runtime, _timestamp, _wandb)
NON_FINITE = ("NaN", "Infinity", "-Infinity")
ERROR_LINES = 40  # a failed run's error: the last lines of its stderr, as a traceback's length
# Record kinds that are W&B's own bookkeeping, not data of the run: read past without a word.
# ("files" records list what the files/ folder holds: the folder itself is read.)
BOOKKEEPING = {"header", "footer", "final", "telemetry", "metric", "request", "control", "preempting",
               "noop_link_artifact", "files", "environment"}
# Record kinds holding data this import does not carry over, named in the report.
SKIPPED_KINDS = {"stats": "system-metrics samples (stats records)", "alert": "alerts (alert records)",
                 "artifact": "W&B artifacts (artifact records)", "use_artifact": "artifact uses (use_artifact records)",
                 "link_artifact": "artifact links (link_artifact records)",
                 "tbrecord": "TensorBoard event files synced by W&B (tbrecord records; import the event files with "
                             "`tracker import tensorboard`)",
                 None: "records of a kind the installed wandb does not know (a newer wandb wrote them)"}


def import_runs(path, runs_dir, *, project: str | None = None) -> ImportReport:
    """Import every W&B run folder at or under ``path`` into ``runs_dir``."""
    report = ImportReport(SOURCE, str(path), Path(runs_dir), project=project)
    for run_file in find_run_files(Path(path)):
        try:
            run = read_run(run_file)
        except (OSError, NotAWandbFile) as exc:
            report.skip(f"{run_file}: not read ({exc})")
            continue
        report.write(run)
    return report


def find_run_files(path: Path) -> list[Path]:
    """The ``run-*.wandb`` file of each run folder at or under ``path``, in path order."""
    if not path.is_dir():
        raise NotASourceError(SOURCE, str(path), "a W&B run folder (wandb/offline-run-*), or a folder "
                                                 "holding such folders")
    found = []
    for folder, subfolders, names in os.walk(path):  # symlinked folders (latest-run) are not walked
        subfolders.sort()
        found.extend(Path(folder) / name for name in sorted(names) if Path(name).match(RUN_FILE_GLOB))
    if not found:
        raise NotASourceError(SOURCE, str(path), f"a W&B run folder (wandb/offline-run-*, holding a "
                                                 f"{RUN_FILE_GLOB} file) at or below it; found none")
    return found


def read_run(run_file: Path) -> ImportedRun:
    """The run one ``.wandb`` file records, its media and artifacts from the folder beside it."""
    damage = LogDamage()
    records = read_record_bytes(run_file, damage)
    run = ImportedRun(source=SOURCE, source_id=run_file.stem.removeprefix("run-"),
                      source_path=str(run_file.parent.resolve()), start_time=run_file.stat().st_mtime)
    folding = _Folding(run, run_file.parent / "files")
    for number, data in enumerate(records, 1):
        record = wandb_internal_pb2.Record()
        try:
            record.ParseFromString(data)
        except Exception as exc:  # protobuf's DecodeError: a record this wandb cannot parse
            folding.unreadable.append(f"record {number}: {type(exc).__name__}: {exc}")
            continue
        folding.add(record)
    folding.finish()
    run.skipped[:0] = damage.messages
    return run


class _Folding:
    """One run's records folded into its ImportedRun, in file order, as W&B folds them."""

    def __init__(self, run: ImportedRun, files_dir: Path):
        self.run = run
        self.files_dir = files_dir
        self.config: dict = {}
        self.summary: dict = {}
        self.job_type: str | None = None
        self.exit_code: int | None = None
        self.runtime_s: float | None = None
        self.stderr: list[str] = []
        self.times: list[float] = []  # every time a record carries, for the end time
        self.kinds: Counter = Counter()  # skipped record kinds
        self.values: Counter = Counter()  # skipped history values, by why
        self.unreadable: list[str] = []
        self.started = False
        self.handlers = {"run": self._run, "config": self._config, "summary": self._summary,
                         "history": self._history, "exit": self._exit, "output_raw": self._output_raw,
                         "output": self._output, "stats": self._stats}

    def add(self, record) -> None:
        kind = record.WhichOneof("record_type")
        if kind in self.handlers:
            self.handlers[kind](getattr(record, kind))
        elif kind not in BOOKKEEPING:
            self.kinds[kind] += 1

    def _run(self, record) -> None:
        run = self.run
        if record.run_id:
            run.source_id = record.run_id
        if record.HasField("start_time") and not self.started:
            run.start_time = record.start_time.ToNanoseconds() / 1e9
            self.started = True
        run.project = record.project or run.project
        run.name = record.display_name or run.name
        run.group = record.run_group or run.group
        run.notes = record.notes or run.notes
        run.host = record.host or run.host
        self.job_type = record.job_type or self.job_type
        if record.tags:
            run.tags = list(record.tags)
        self._config(record.config)
        self._summary(record.summary)

    def _config(self, record) -> None:
        _update(self.config, record.update, record.remove, self.unreadable, "config")

    def _summary(self, record) -> None:
        _update(self.summary, record.update, record.remove, self.unreadable, "summary")

    def _history(self, record) -> None:
        row: dict = {}
        _update(row, record.item, (), self.unreadable, "history")
        step = row.get("_step", record.step.num)
        wall_time = row.get("_timestamp")
        if not _is_number(step) or not _is_number(wall_time):
            self.values["rows without a numeric _step and _timestamp"] += 1
            return
        step, wall_time = int(step), float(wall_time)
        self.times.append(wall_time)
        for key, value in row.items():
            if not key.startswith(OWN_KEY_PREFIX):
                self._value(key, value, step, wall_time)

    def _value(self, key: str, value, step: int, wall_time: float) -> None:
        if _is_number(value) or value in NON_FINITE:  # how wandb-core's JSON spells them, in case
            number = value if _is_number(value) else float(value)
            self.run.metrics.setdefault(key, []).append((step, wall_time, number))
        elif isinstance(value, dict) and "_type" in value:
            for media in self._media(key, value):
                self.run.media.append((key, step, wall_time, media))
        elif isinstance(value, dict):
            for inner, inner_value in value.items():
                self._value(f"{key}.{inner}", inner_value, step, wall_time)
        else:
            self.values[f"{key!r}: {type(value).__name__} values (not numbers)"] += 1

    def _media(self, key: str, value: dict) -> list:
        kind = value["_type"]
        try:
            if kind == "image-file":
                return [Image(self._file(value["path"]), caption=value.get("caption"))]
            if kind == "images/separated":
                captions = value.get("captions") or [None] * len(value["filenames"])
                return [Image(self._file(name), caption=caption)
                        for name, caption in zip(value["filenames"], captions)]
            if kind == "histogram":
                return [Histogram(counts=value["values"], edges=value["bins"])]
            if kind == "table-file":
                table = json.loads(self._file(value["path"]).read_text(encoding="utf-8"))
                return [Table(rows=table["data"], columns=table["columns"])]
        except Exception as exc:  # a missing file, a value the media class refuses: that value only
            self.values[f"{key!r}: {kind} values not imported ({type(exc).__name__}: {exc})"] += 1
            return []
        self.values[f"{key!r}: {kind} values (a W&B media kind not imported)"] += 1
        return []

    def _file(self, relative: str) -> Path:
        path = (self.files_dir / relative).resolve()
        if not path.is_relative_to(self.files_dir.resolve()):
            raise ValueError(f"{relative!r} is outside the run's files folder")
        return path

    def _exit(self, record) -> None:
        self.exit_code = record.exit_code
        self.runtime_s = record.runtime

    def _output_raw(self, record) -> None:
        if record.timestamp.seconds:
            self.times.append(record.timestamp.ToNanoseconds() / 1e9)
        if record.output_type == wandb_internal_pb2.OutputRawRecord.STDERR:
            self.stderr.append(record.line)

    def _output(self, record) -> None:  # the pre-0.13 console record, still read by wandb sync
        if record.output_type == wandb_internal_pb2.OutputRecord.STDERR:
            self.stderr.append(record.line)

    def _stats(self, record) -> None:
        self.kinds["stats"] += 1
        if record.timestamp.seconds:
            self.times.append(record.timestamp.ToNanoseconds() / 1e9)

    def finish(self) -> None:
        """Status, end time, config, summary, artifacts and the skipped parts, once every record is in."""
        run = self.run
        run.config = {key: value for key, value in self.config.items() if key != "_wandb"}
        run.summary = {key: value for key, value in self.summary.items()
                       if not key.startswith(OWN_KEY_PREFIX) and not (isinstance(value, dict) and "_type" in value)}
        run.name = run.name or run.source_id  # W&B names an unnamed offline run only when it syncs
        if self.job_type:
            run.tags.append(f"job_type:{self.job_type}")
        if self.exit_code is None:
            run.status = "crashed"
        elif self.exit_code == 0:
            run.status = "finished"
        else:
            run.status = "failed"
            lines = "".join(self.stderr).splitlines()[-ERROR_LINES:]
            run.error = "\n".join(lines) or f"exit code {self.exit_code}"
        run.end_time = max([*self.times, run.start_time + (self.runtime_s or 0)])
        run.artifacts = _artifacts(self.files_dir)
        for kind, count in sorted(self.kinds.items(), key=lambda item: str(item[0])):
            what = SKIPPED_KINDS.get(kind, f"{kind} records (a kind this import does not read)")
            run.skipped.append(f"{what}: {count}")
        for why, count in sorted(self.values.items()):
            run.skipped.append(f"history {why}: {count}")
        if self.unreadable:
            run.skipped.append(f"records or values that could not be parsed: {len(self.unreadable)} ("
                               + "; ".join(self.unreadable[:5]) + ("; ..." if len(self.unreadable) > 5 else "") + ")")


def _update(target: dict, updates, removals, unreadable: list[str], what: str) -> None:
    """Apply W&B's (nested) key updates and removals to ``target``, values parsed from their JSON."""
    for item in updates:
        path = list(item.nested_key) or [item.key]
        try:
            value = json.loads(item.value_json)
        except ValueError as exc:
            unreadable.append(f"{what} {'.'.join(path)!r}: {exc}")
            continue
        node = target
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    for item in removals:
        path = list(item.nested_key) or [item.key]
        node = target
        for part in path[:-1]:
            node = node.get(part) if isinstance(node.get(part), dict) else {}
        node.pop(path[-1], None)


def _artifacts(files_dir: Path) -> list[tuple[str, Path]]:
    """Every file of the run's ``files/`` folder but its media (imported as media), by its path there."""
    found = []
    for folder, subfolders, names in os.walk(files_dir):
        subfolders.sort()
        relative = Path(folder).relative_to(files_dir)
        if relative.parts[:1] == ("media",):
            continue
        found.extend(((relative / name).as_posix(), Path(folder) / name) for name in sorted(names))
    return found


def _is_number(value) -> bool:
    return type(value) in (int, float)  # not bool: W&B logs a bool as a bool, not as a metric
