"""MLflow: the runs of an mlruns folder (file store) or a SQLite tracking database, read with MLflow's own client.

``import_runs(path, runs_dir)`` opens the source with ``MlflowClient(tracking_uri=...)`` and
writes each run of each experiment as a tracker run (imported_run.py):

- the experiment's name is the project; params are the config, each text MLflow made of a number,
  a bool or None (``str(0.01)``, ``str(True)``) read back as that value (``param_value``), so the
  filter ``lr>=0.01`` works on imported runs as on logged ones; any other text stays text;
- every metric's full history (``get_metric_history``): each point's step, time and value;
- tags: ``mlflow.runName`` is the name, ``mlflow.note.content`` the notes, and ``mlflow.parentRunId``
  the group: a nested run is in its parent's group, the parent's name when the parent has none;
  a user tag ``key`` with value ``v`` is the tag ``key=v`` (``key`` alone when ``v`` is empty);
  other ``mlflow.*`` system tags (source, user, git commit, logged-model history) are not imported.
  Groups, tags and statuses are those tracker.compat.mlflow gives a script's runs;
- status: FINISHED finished, FAILED failed, KILLED interrupted, RUNNING and SCHEDULED running;
  start and end times;
- artifacts, downloaded with MLflow's client into a temporary folder and copied into the run, up to
  ARTIFACT_CAP_BYTES a run (largest first skipped; each one skipped is named in the report).

Deleted experiments and runs are not imported (the report counts them); dataset inputs and
MLflow 3's logged models are named as skipped. Reading only: the source is never written, except
that MLflow's file store creates an empty ``.trash`` folder in an mlruns folder without one.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import sqlite3
import tempfile
import warnings
from pathlib import Path

from . import NotASourceError, require_library
from .imported_run import ImportedRun, ImportReport

SOURCE = "mlflow"
ARTIFACT_CAP_BYTES = 1 << 30  # per run: 1 GiB of artifacts; more is named in the report, not copied
MS_PER_S = 1000.0
STATUSES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted", "RUNNING": "running",
            "SCHEDULED": "running"}
RUN_NAME_TAG, NOTE_TAG, PARENT_TAG = "mlflow.runName", "mlflow.note.content", "mlflow.parentRunId"
SYSTEM_TAG_PREFIX = "mlflow."
PAGE_SIZE = 1000
_EXPECTED = "an mlruns folder (experiment folders with meta.yaml), a SQLite tracking database " \
            "(sqlite:///PATH or a .db file)"


def import_runs(path: str, runs_dir: Path, *, project: str | None = None,
                artifact_cap_bytes: int = ARTIFACT_CAP_BYTES) -> ImportReport:
    """Import every run of the MLflow source at ``path`` into ``runs_dir``."""
    tracking_uri = tracking_uri_of(path)  # checked first: it needs no MLflow, which takes seconds to import
    require_library(SOURCE, "mlflow", "mlflow")
    report = ImportReport(SOURCE, str(path), Path(runs_dir), project=project)
    with _quiet_mlflow():
        client = _open(tracking_uri, path)
        for experiment in _experiments(client):
            _import_experiment(client, tracking_uri, experiment, report, artifact_cap_bytes)
    return report


def tracking_uri_of(path: str) -> str:
    """The tracking URI of ``path``, checked to be an MLflow source before MLflow opens it (MLflow
    would create a store where there is none)."""
    text = os.fspath(path)
    if text.startswith("sqlite:///"):
        file = text.removeprefix("sqlite:///")
        _check_database(file, text)
        return f"sqlite:///{Path(file).resolve()}"  # the same database, the same URI in imported_from
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    location = Path(text)
    if location.is_file():
        _check_database(str(location), text)
        return f"sqlite:///{location.resolve()}"
    if location.is_dir() and any(location.glob("*/meta.yaml")):
        return location.resolve().as_uri()
    raise NotASourceError(SOURCE, text, _EXPECTED)


def _check_database(file: str, given: str) -> None:
    """``file`` is a SQLite database with MLflow's tables (MLflow would create them in any other)."""
    try:
        with open(file, "rb") as handle:
            is_sqlite = handle.read(16) == b"SQLite format 3\0"
        if is_sqlite:
            connection = sqlite3.connect(f"{Path(file).resolve().as_uri()}?mode=ro", uri=True)
            try:
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            finally:
                connection.close()
            if {"experiments", "runs", "metrics"} <= tables:
                return
    except (OSError, sqlite3.Error):
        pass
    raise NotASourceError(SOURCE, given, _EXPECTED)


# Set while MLflow reads: the file store, read-only here, is allowed (MLflow 3 refuses it unless
# told), and downloads draw no progress bars into the report.
MLFLOW_SETTINGS = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}


@contextlib.contextmanager
def _quiet_mlflow():
    """MLflow's own warnings (deprecations, the file store's maintenance notice) and progress bars
    stay out of the report; MLFLOW_SETTINGS hold while it reads."""
    before = {name: os.environ.get(name) for name in MLFLOW_SETTINGS}
    os.environ.update(MLFLOW_SETTINGS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _open(tracking_uri: str, path: str):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        client.search_experiments(max_results=1)  # opens the store: a database of another schema fails here
    except MlflowException as exc:
        raise NotASourceError(SOURCE, str(path), f"{_EXPECTED}; MLflow says: {exc.message}") from None
    return client


def _experiments(client) -> list:
    from mlflow.entities import ViewType

    return _all_pages(lambda token: client.search_experiments(view_type=ViewType.ALL, max_results=PAGE_SIZE,
                                                               page_token=token))


def _all_pages(search) -> list:
    found, token = [], None
    while True:
        page = search(token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def _import_experiment(client, tracking_uri: str, experiment, report: ImportReport, cap: int) -> None:
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    if experiment.lifecycle_stage == "deleted":
        report.skip(f"experiment {experiment.name!r} ({experiment.experiment_id}) is deleted: not imported")
        return
    runs = _all_pages(lambda token: client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL,
                                                       max_results=PAGE_SIZE, page_token=token))
    deleted = [run for run in runs if run.info.lifecycle_stage == "deleted"]
    if deleted:
        report.skip(f"experiment {experiment.name!r}: {len(deleted)} deleted run{'s' if len(deleted) != 1 else ''} "
                    "not imported")
    runs = [run for run in runs if run.info.lifecycle_stage != "deleted"]
    names = {run.info.run_id: run.info.run_name or run.data.tags.get(RUN_NAME_TAG) or run.info.run_id for run in runs}
    parents = {run.info.run_id: run.data.tags[PARENT_TAG] for run in runs if PARENT_TAG in run.data.tags}
    for run in runs:
        with tempfile.TemporaryDirectory(prefix="tracker-import-mlflow-") as downloads:
            try:
                imported = _imported_run(client, tracking_uri, experiment, run, names, parents, Path(downloads), cap)
            except (MlflowException, OSError) as exc:
                report.skip(f"mlflow run {run.info.run_id}: not imported ({type(exc).__name__}: {exc})")
                continue
            report.write(imported)


def _imported_run(client, tracking_uri: str, experiment, run, names: dict, parents: dict, downloads: Path,
                  cap: int) -> ImportedRun:
    info, data = run.info, run.data
    skipped: list[str] = []
    metrics = {key: [(point.step, point.timestamp / MS_PER_S, point.value)
                     for point in client.get_metric_history(info.run_id, key)]
               for key in data.metrics}
    start = _start_time(info, experiment, metrics)
    group = _group(info.run_id, parents, names)
    inputs = getattr(run, "inputs", None)
    datasets = len(getattr(inputs, "dataset_inputs", None) or [])
    if datasets:
        skipped.append(f"{datasets} dataset input{'s' if datasets != 1 else ''} (MLflow datasets) not imported")
    models = len(getattr(getattr(run, "outputs", None), "model_outputs", None) or [])
    if models:
        skipped.append(f"{models} logged model{'s' if models != 1 else ''} (MLflow 3 models) not imported")
    return ImportedRun(
        source=SOURCE, source_id=info.run_id, source_path=tracking_uri, start_time=start,
        name=names[info.run_id], project=experiment.name, group=group,
        end_time=info.end_time / MS_PER_S if info.end_time else None,
        status=STATUSES.get(info.status, "crashed"), config={key: param_value(text) for key, text in data.params.items()}, tags=user_tags(data.tags),
        notes=data.tags.get(NOTE_TAG), metrics=metrics,
        artifacts=_artifacts(client, tracking_uri, info.run_id, downloads, cap, skipped), skipped=skipped,
        user=info.user_id or None)


INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")
WORDS = {"True": True, "False": False, "None": None}


def param_value(text: str):
    """The value MLflow stored as ``text``: an int, float, bool or None when ``str()`` of it gives
    exactly this text back, else the text. "007", "1.50", "nan" and "[1, 2]" stay text: no
    value of theirs prints as they do, so reading them as one would change what was logged."""
    if text in WORDS:
        return WORDS[text]
    if INTEGER_TEXT.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) and repr(number) == text else text


def _group(run_id: str, parents: dict, names: dict) -> str | None:
    """A nested run's group: its parent's group, else its parent's name (its id when the parent is
    not among the runs read); None for a run that is not nested."""
    seen = set()
    group = None
    while run_id in parents and run_id not in seen:  # up to the outermost parent; a cycle stops
        seen.add(run_id)
        run_id = parents[run_id]
        group = names.get(run_id, run_id)
    return group


def user_tags(tags: dict) -> list[str]:
    """MLflow's user tags as tracker tags (labels): ``key=value``, or ``key`` for an empty value."""
    return [f"{key}={value}" if value else key for key, value in sorted(tags.items())
            if not key.startswith(SYSTEM_TAG_PREFIX)]


def _start_time(info, experiment, metrics: dict) -> float:
    """The run's start; a run that never started (SCHEDULED) takes its first metric's time or its
    experiment's creation."""
    if info.start_time:
        return info.start_time / MS_PER_S
    times = [wall_time for history in metrics.values() for _, wall_time, _ in history]
    if times:
        return min(times)
    return (getattr(experiment, "creation_time", None) or 0) / MS_PER_S


def _artifacts(client, tracking_uri: str, run_id: str, downloads: Path, cap: int,
               skipped: list[str]) -> list[tuple[str, Path]]:
    """The run's artifact files downloaded into ``downloads``, smallest first up to ``cap`` bytes."""
    import mlflow.artifacts

    files = sorted(_artifact_files(client, run_id, ""), key=lambda item: (item[1], item[0]))
    kept, total = [], 0
    for name, size in files:
        if total + size > cap:
            skipped.append(f"artifact {name!r} ({size:,} bytes) not copied: the run's artifacts would pass "
                           f"the cap of {cap:,} bytes")
            continue
        total += size
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name, dst_path=str(downloads),
                                                    tracking_uri=tracking_uri)
        kept.append((name, Path(local)))
    return sorted(kept)


def _artifact_files(client, run_id: str, folder: str) -> list[tuple[str, int]]:
    found = []
    for entry in client.list_artifacts(run_id, folder or None):
        if entry.is_dir:
            found.extend(_artifact_files(client, run_id, entry.path))
        else:
            found.append((entry.path, entry.file_size or 0))
    return found
