"""``import tracker.compat.mlflow as mlflow``: MLflow's fluent logging calls, writing tracker runs.

The five-step workflow of MLflow's docs works unchanged::

    mlflow.start_run(); mlflow.log_param("lr", 0.001)
    mlflow.log_metric("val_accuracy", 0.92, step=epoch); mlflow.log_artifact("model.pkl"); mlflow.end_run()

How the calls map (docs/integrations.md has the table):

- an experiment (``set_experiment``) is a project; the tracking URI is a runs folder;
- params are the run's config (their Python values kept, not MLflow's strings);
- a tag ``key, value`` is the tracker tag ``"key=value"`` (tracker tags are labels, MLflow's are
  pairs); ``mlflow.note.content`` and ``description`` are the run's notes;
- ``log_metric`` without ``step`` logs at step 0, as MLflow does;
- a nested run (``start_run(nested=True)``) is a run in its parent's group (the parent's group, or
  else its name) tagged ``mlflow.parentRunId=<parent id>``; ending it makes the parent the active
  run again;
- ``log_dict``/``log_text`` store artifact files; ``log_figure``/``log_image`` are media.

Anything else MLflow has (models, datasets, the client, search) raises ``NotMappedError`` naming it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import traceback
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from ..active_run import current, set_current
from ..errors import ArgumentTypeError, UsageError
from ..layout import runs_root
from ..session import init
from .unmapped import unknown_name, warn_once

# MLflow's run statuses as end_run() takes them, and the tracker status each becomes.
STATUSES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted"}
PARENT_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"

_tracking_dir: str | None = None  # set_tracking_uri(); None: $TRACKER_DIR or ./tracker-runs
_experiment: str | None = None  # set_experiment(); None: $TRACKER_PROJECT or "default"
_stack: list["ActiveRun"] = []  # started runs, innermost last


@dataclass
class RunInfo:
    """What MLflow's ``run.info`` holds that a script reads."""

    run_id: str
    run_name: str
    experiment_id: str
    artifact_uri: str
    status: str = "RUNNING"


@dataclass
class Experiment:
    """What ``set_experiment`` returns: an experiment is a tracker project, its id is its name."""

    experiment_id: str
    name: str


class ActiveRun:
    """A started run, as ``start_run()`` returns it: ``.info.run_id``, a context manager, and
    ``.run``, the tracker.Run behind it (for anything MLflow's calls do not cover)."""

    def __init__(self, run, parent: "ActiveRun | None"):
        self.run = run
        self.parent = parent
        self.info = RunInfo(run_id=run.id, run_name=run.name, experiment_id=run.project,
                            artifact_uri=_file_uri(os.path.join(run.path, "artifacts")))
        self._scratch: str | None = None  # files log_dict/log_text write before they are copied

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            _end(self, "FINISHED")
        else:
            status = "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED"
            _end(self, status, "".join(traceback.format_exception(exc_type, exc, tb)))

    def scratch_file(self, artifact_file: str) -> str:
        """A path to write ``artifact_file`` at before log_artifact copies it (removed at end_run)."""
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="tracker-mlflow-")
        path = os.path.join(self._scratch, str(len(os.listdir(self._scratch))))
        os.mkdir(path)
        return os.path.join(path, os.path.basename(artifact_file))


# -- where runs go -------------------------------------------------------------------------


def set_tracking_uri(uri) -> None:
    """Use a folder (a path or a ``file:`` URI) as the runs folder; a server URI is an error."""
    global _tracking_dir
    _tracking_dir = _folder_of(uri)


def get_tracking_uri() -> str:
    """The runs folder as a ``file://`` URI."""
    return _file_uri(runs_root(_tracking_dir))


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Log the runs started from now on into the project ``experiment_name`` (or ``experiment_id``)."""
    global _experiment
    name = experiment_name if experiment_name is not None else experiment_id
    if not isinstance(name, str) or not name:
        raise ArgumentTypeError("set_experiment() experiment_name", name, "a non-empty str")
    _experiment = name
    return Experiment(experiment_id=name, name=name)


# -- starting and ending runs ----------------------------------------------------------------


def start_run(run_id: str | None = None, experiment_id: str | None = None, run_name: str | None = None,
              nested: bool = False, parent_run_id: str | None = None, tags: dict | None = None,
              description: str | None = None, log_system_metrics: bool | None = None) -> ActiveRun:
    """Start a run (or with ``run_id`` reopen one) and make it the active run; see the module docstring."""
    parent = _stack[-1] if _stack else None
    if parent is not None and not nested:
        raise UsageError(f"run {parent.info.run_id} is already active; end it with end_run() first, "
                         "or call start_run(nested=True) to start a child run")
    if parent_run_id is not None and (parent is None or parent.info.run_id != parent_run_id):
        raise UsageError(f"start_run(parent_run_id={parent_run_id!r}): the parent must be the active run; "
                         "start the child with nested=True inside it")
    if log_system_metrics is not None:
        warn_once("start_run(log_system_metrics=...)", "tracker samples system metrics in every run; "
                  "the argument is ignored")
    tag_pairs = _tag_pairs("start_run() tags", tags or {})
    notes = tag_pairs.pop(NOTE_TAG, None) if description is None else description
    name = tag_pairs.pop("mlflow.runName", None) if run_name is None else run_name
    group = None
    if parent is not None:
        group = parent.run.group or parent.run.name
        tag_pairs[PARENT_TAG] = parent.info.run_id
    run = init(project=experiment_id or _experiment, name=name, group=group, notes=notes,
               tags=[_tag_text(key, value) for key, value in tag_pairs.items()], dir=_tracking_dir,
               id=run_id, resume=run_id is not None)
    started = ActiveRun(run, parent)
    _stack.append(started)
    return started


def end_run(status: str = "FINISHED") -> None:
    """End the active run with MLflow's ``status`` (FINISHED, FAILED or KILLED); no-op when none is active."""
    if _stack:
        _end(_stack[-1], status)


def active_run() -> ActiveRun | None:
    """The run the logging calls act on, or None."""
    return _stack[-1] if _stack else None


def last_active_run() -> ActiveRun | None:
    """The active run, else None (tracker keeps no record of ended runs here)."""
    return active_run()


# -- logging into the active run -------------------------------------------------------------


def log_param(key: str, value, synchronous: bool | None = None):
    """Record a parameter in the run's config; returns ``value`` as MLflow does."""
    _run("log_param").config.update({key: value})
    return value


def log_params(params: dict, synchronous: bool | None = None, run_id: str | None = None) -> None:
    """Record several parameters in the run's config."""
    _run("log_params", run_id).config.update(params)


def log_metric(key: str, value, step: int | None = None, synchronous: bool | None = None,
               timestamp: int | None = None, run_id: str | None = None, **unmapped) -> None:
    """Record a metric value at ``step`` (0 when not given, as in MLflow)."""
    log_metrics({key: value}, step=step, timestamp=timestamp, run_id=run_id, _call="log_metric", **unmapped)


def log_metrics(metrics: dict, step: int | None = None, synchronous: bool | None = None,
                run_id: str | None = None, timestamp: int | None = None, _call: str = "log_metrics",
                **unmapped) -> None:
    """Record metric values at ``step`` (0 when not given, as in MLflow)."""
    run = _run(_call, run_id)
    if timestamp is not None:
        warn_once(f"{_call}(timestamp=...)", "each point is stamped with the time of the call; "
                  "the given timestamp is not kept")
    for name in sorted(unmapped):  # model_id, dataset: MLflow 3's links to logged models
        warn_once(f"{_call}({name}=...)", "tracker has no logged models or datasets to link a metric to; "
                  "the argument is ignored")
    run.log(metrics, step=0 if step is None else step)


def set_tag(key: str, value) -> None:
    """Tag the run ``"key=value"``; ``mlflow.note.content`` sets its notes."""
    set_tags({key: value})


def set_tags(tags: dict) -> None:
    """Tag the run with each ``"key=value"``."""
    run = _run("set_tags")
    pairs = _tag_pairs("set_tags() tags", tags)
    notes = pairs.pop(NOTE_TAG, None)
    if notes is not None:
        run.set_notes(notes)
    if pairs.pop("mlflow.runName", None) is not None:
        warn_once("set_tag('mlflow.runName', ...)", "a run's name is set when it starts: "
                  "pass start_run(run_name=...); the name is not changed")
    if pairs:
        run.add_tags([_tag_text(key, value) for key, value in pairs.items()])


def log_artifact(local_path, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Copy a file or folder into the run's artifacts, under ``artifact_path`` when given."""
    run = _run("log_artifact", run_id)
    name = os.path.basename(os.path.normpath(os.fspath(local_path)))
    run.log_artifact(local_path, name=_joined(artifact_path, name))


def log_artifacts(local_dir, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Copy the contents of a folder into the run's artifacts (under ``artifact_path`` when given)."""
    run = _run("log_artifacts", run_id)
    local_dir = os.fspath(local_dir)
    if artifact_path:
        run.log_artifact(local_dir, name=artifact_path.strip("/"))
        return
    for entry in sorted(os.listdir(local_dir)):
        run.log_artifact(os.path.join(local_dir, entry), name=entry)


def log_dict(dictionary, artifact_file: str, run_id: str | None = None) -> None:
    """Store ``dictionary`` as the artifact ``artifact_file``: JSON, or YAML for a .yaml/.yml name."""
    started = _started("log_dict", run_id)
    if artifact_file.endswith((".yaml", ".yml")):
        try:
            import yaml  # only for a YAML artifact name, as MLflow does
        except ImportError:
            raise UsageError(f"log_dict(artifact_file={artifact_file!r}) needs PyYAML (pip install pyyaml); "
                             "or name the file .json") from None
        text = yaml.safe_dump(dictionary, sort_keys=False)
    else:
        text = json.dumps(dictionary, indent=2)
    _store_text(started, text, artifact_file)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Store ``text`` as the artifact ``artifact_file``."""
    if not isinstance(text, str):
        raise ArgumentTypeError("log_text() text", text, "a str")
    _store_text(_started("log_text", run_id), text, artifact_file)


def log_figure(figure, artifact_file: str, *, save_kwargs: dict | None = None) -> None:
    """Log a matplotlib or plotly figure as a media figure named ``artifact_file``, at the run's current step."""
    if save_kwargs:
        warn_once("log_figure(save_kwargs=...)", "figures are stored as plotly JSON or SVG; save_kwargs is ignored")
    _run("log_figure").log_figure(artifact_file, figure)


def log_image(image, artifact_file: str | None = None, *, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = None) -> None:
    """Log an image (NumPy array or PIL image) as media under ``key`` (at ``step``) or ``artifact_file``."""
    if (key is None) == (artifact_file is None):
        raise UsageError("log_image() takes either artifact_file or key (with step), not both and not neither")
    if timestamp is not None:
        warn_once("log_image(timestamp=...)", "each image is stamped with the time of the call; "
                  "the given timestamp is not kept")
    _run("log_image").log_image(key or artifact_file, image, step=step)


# -- internals -------------------------------------------------------------------------------


def _started(call: str, run_id: str | None = None) -> ActiveRun:
    """The active run for ``call``; MLflow starts one when none is active, and so does this."""
    if not _stack:
        start_run()
    started = _stack[-1]
    if run_id is not None and run_id != started.info.run_id:
        raise UsageError(f"{call}(run_id={run_id!r}): tracker logs into the active run only "
                         f"({started.info.run_id}); start or resume that run with start_run(run_id=...)")
    return started


def _run(call: str, run_id: str | None = None):
    return _started(call, run_id).run


def _end(started: ActiveRun, status: str, error: str | None = None) -> None:
    if not isinstance(status, str) or status.upper() not in STATUSES:
        raise UsageError(f"end_run(status={status!r}): expected one of {', '.join(STATUSES)}")
    # Ending a run ends its children first, as leaving nested `with` blocks would.
    while _stack and started in _stack:
        innermost = _stack.pop()
        if innermost is started:
            innermost.run.finish(status=STATUSES[status.upper()], error=error)
        else:
            innermost.run.finish()
        innermost.info.status = status.upper() if innermost is started else "FINISHED"
        if innermost._scratch is not None:
            shutil.rmtree(innermost._scratch, ignore_errors=True)
    # tracker.log() acts on the parent again, as MLflow's calls now do.
    if _stack and current() is None:
        set_current(_stack[-1].run)


def _store_text(started: ActiveRun, text: str, artifact_file: str) -> None:
    if not isinstance(artifact_file, str) or not artifact_file.strip("/"):
        raise ArgumentTypeError("artifact_file", artifact_file, "a file name such as 'results.json'")
    path = started.scratch_file(artifact_file)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    started.run.log_artifact(path, name=artifact_file.strip("/"))


def _tag_pairs(argument: str, tags) -> dict:
    if not isinstance(tags, dict):
        raise ArgumentTypeError(argument, tags, "a dict of tag name -> value")
    return {str(key): "" if value is None else str(value) for key, value in tags.items()}


def _tag_text(key: str, value: str) -> str:
    return f"{key}={value}" if value != "" else key


def _joined(folder: str | None, name: str) -> str:
    return f"{folder.strip('/')}/{name}" if folder and folder.strip("/") else name


def _folder_of(uri) -> str | None:
    """The runs folder a tracking URI names; a server or database URI is an error saying what to pass."""
    if uri is None:
        return None
    try:
        text = os.fspath(uri)
    except TypeError:
        raise ArgumentTypeError("set_tracking_uri() uri", uri, "a folder path or a file: URI") from None
    parsed = urlparse(text)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(f"set_tracking_uri({text!r}): a file: URI on another host; pass a local folder")
        return unquote(parsed.path) or "."
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive: C:\runs
        raise UsageError(f"set_tracking_uri({text!r}): tracker writes runs to a folder and has no tracking "
                         "server or database; pass a folder path (e.g. 'tracker-runs') or a file: URI")
    return text


def _file_uri(path: str) -> str:
    return "file://" + os.path.abspath(path)


_NOT_MAPPED = {
    "autolog": "for scikit-learn use tracker.autolog() (see docs/integrations.md)",
    "log_model": "save the model to a file and call log_artifact(path)",
    "log_input": "call active_run().run.log_dataset(path) for a dataset file",
    "log_table": "call active_run().run.log_table(key, rows=..., columns=...)",
    "search_runs": "use tracker.runs(folder, filter=...).to_pandas()",
    "get_run": "use tracker.runs(folder) or tracker.reader.load_run(path)",
    "MlflowClient": "use tracker.runs(folder) to read runs",
    "delete_run": "delete the run's folder",
    "register_model": "tracker has no model registry; store the model with log_artifact",
}


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise unknown_name("mlflow", name, _NOT_MAPPED.get(name, "see docs/integrations.md for the calls that map"))
