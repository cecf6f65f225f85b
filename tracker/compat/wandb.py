"""``import tracker.compat.wandb as wandb``: W&B's module-level calls, writing tracker runs.

An existing W&B script changes one import line::

    run = wandb.init(project="mnist", name="baseline", config={"lr": 1e-3}, tags=["cnn"], group="sweep")
    wandb.config.batch_size = 64
    wandb.log({"loss": 0.5, "sample": wandb.Image(array)})
    wandb.summary["best_acc"] = 0.93
    wandb.finish()

``init`` maps to ``tracker.init`` (``dir`` is the runs folder, ``resume`` with ``id`` reopens a run);
``log`` follows W&B's step and commit rules (tracker/compat/wandb_run.py); ``Image``, ``Table``,
``Histogram``, ``Audio`` and ``Video`` are tracker media; ``alert`` is tracker's ``run.alert`` (with
``AlertLevel``). ``watch``, ``login`` and the arguments that have no meaning without a server warn
once; anything else W&B has (``Artifact``, ``sweep``, ``Api``, ``plot``) raises ``NotMappedError``
naming it.
"""
from __future__ import annotations

import enum
import os

from ..active_run import current
from ..errors import UsageError
from ..inputs import config_mapping
from ..layout import runs_root
from ..session import init as tracker_init
from .unmapped import unknown_name, warn_once
from .wandb_media import Audio, Histogram, Image, Table, Video
from .wandb_run import DisabledRun, Run

__all__ = ["AlertLevel", "Audio", "Histogram", "Image", "Run", "Settings", "Table", "Video", "active_run", "alert", "define_metric",
           "finish", "init", "log", "login", "save", "watch"]

RESUME_MODES = (True, False, None, "allow", "must", "never", "auto")
# init() arguments that are accepted and ignored, each with what happens instead (one warning each).
IGNORED_ARGUMENTS = dict.fromkeys(("entity", "settings", "anonymous", "force", "magic", "fork_from", "resume_from",
                                   "sync_tensorboard", "monitor_gym"),
                                  "has no meaning without a W&B server; ignored")
IGNORED_ARGUMENTS.update(
    reinit="a run still open is always finished before the new one starts",
    save_code="the entry script and the git diff are captured in every run",
    config_exclude_keys="the whole config is recorded (secret-looking values are redacted)",
    config_include_keys="the whole config is recorded (secret-looking values are redacted)",
    allow_val_change="config values may always change")

_run: Run | None = None  # the run of the latest init() that has not finished: wandb.run


def init(project: str | None = None, entity: str | None = None, config=None, name: str | None = None,
         notes: str | None = None, tags=None, group: str | None = None, job_type: str | None = None,
         dir=None, id: str | None = None, resume=None, mode: str | None = None, **unmapped) -> Run:
    """Start a run and make it ``wandb.run``; a run still open is finished first (W&B's reinit)."""
    global _run
    mode = mode or os.environ.get("WANDB_MODE")
    if mode not in (None, "online", "offline", "shared", "disabled"):
        raise UsageError(f"wandb.init(mode={mode!r}): expected 'online', 'offline' or 'disabled'")
    if resume not in RESUME_MODES:
        raise UsageError(f"wandb.init(resume={resume!r}): expected one of {', '.join(map(repr, RESUME_MODES))}")
    given = {"entity": entity, **unmapped}
    for argument in sorted(key for key, value in given.items() if value is not None):
        if argument not in IGNORED_ARGUMENTS:
            raise UsageError(f"wandb.init() got an unexpected argument {argument!r}")
        warn_once(f"wandb.init({argument}=...)", IGNORED_ARGUMENTS[argument])
    if _run is not None:
        _run.finish()
    if mode == "disabled":
        warn_once("wandb.init(mode='disabled')", "nothing is recorded, as asked")
        _run = DisabledRun(project, name, config_mapping("config", config) if config is not None else {},
                           on_finish=_forget)
        return _run
    run_id = id or os.environ.get("WANDB_RUN_ID")
    if resume and run_id is None:
        warn_once("wandb.init(resume=...) without id", "tracker does not guess which run to resume; "
                  "a new run is started (pass id=... to resume one)")
    exists = run_id is not None and os.path.isdir(os.path.join(runs_root(dir), run_id))
    if resume == "must" and not exists:
        raise UsageError(f"wandb.init(id={run_id!r}, resume='must'): no such run in {runs_root(dir)}")
    tags = [tags] if isinstance(tags, str) else list(tags or [])
    if job_type:
        tags.append(f"job_type={job_type}")
    run = tracker_init(project=project or os.environ.get("WANDB_PROJECT"), name=name, config=config,
                       tags=tags, notes=notes, group=group or os.environ.get("WANDB_RUN_GROUP"), dir=dir,
                       id=run_id, resume=bool(resume) and resume != "never" and run_id is not None)
    _run = Run(run, on_finish=_forget)
    return _run


def log(data: dict, step: int | None = None, commit: bool | None = None, sync: bool | None = None) -> None:
    """Log into ``wandb.run`` (see Run.log for the step and commit rules)."""
    _active("log()").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish ``wandb.run`` (no-op when none is open): exit code 0 or None is finished, else failed."""
    if _run is not None:
        _run.finish(exit_code=exit_code)


def define_metric(name: str, step_metric: str | None = None, summary: str | None = None, **unmapped) -> None:
    """See Run.define_metric."""
    _active("define_metric()").define_metric(name, step_metric=step_metric, summary=summary, **unmapped)


class AlertLevel(str, enum.Enum):
    """W&B's alert levels; ``run.alert`` records them as tracker's info, warn and error."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


def alert(title: str, text: str, level=None, wait_duration=None) -> None:
    """Record an alert and send it to the script's notifiers (Run.alert, tracker's run.alert)."""
    _active("alert()").alert(title, text, level, wait_duration)


def watch(*args, **kwargs) -> None:
    """Warns once: gradients and parameters are not recorded."""
    warn_once("wandb.watch()", "gradients and parameters are not recorded; log them with "
              "wandb.log({'grad_norm': ...}) or wandb.Histogram")


def save(glob_str, base_path: str | None = None, policy: str = "live") -> list[str]:
    """Copy matching files into ``wandb.run``'s artifacts (Run.save)."""
    return _active("save()").save(glob_str, base_path=base_path, policy=policy)


def login(*args, **kwargs) -> bool:
    """Warns once: there is no server to log in to; returns True so scripts go on."""
    warn_once("wandb.login()", "tracker writes runs to a folder; there is no server to log in to")
    return True


def Settings(**settings) -> dict:
    """``wandb.Settings(...)``: kept as a dict, for ``init(settings=...)``, which ignores it with one warning."""
    return dict(settings)


def active_run():
    """The tracker.Run behind ``wandb.run`` (else tracker's active run; None in disabled mode), for the
    calls W&B does not have (``log_dataset``, ``log_confusion_matrix``...)."""
    if isinstance(_run, DisabledRun):
        return None
    return _run.run if _run is not None else current()


class NoRunError(UsageError, AttributeError):
    """A call that needs ``wandb.init()`` first (an AttributeError too, as for ``wandb.config`` before init)."""

    def __init__(self, call: str):
        self.call = call
        super().__init__(f"Call wandb.init() before wandb.{call}")


def _active(call: str) -> Run:
    if _run is None:
        raise NoRunError(call)
    return _run


def _forget(run: Run) -> None:
    global _run
    if _run is run:
        _run = None


_NOT_MAPPED = {
    "Artifact": "pass file or folder paths to run.log_artifact(path) or wandb.save(glob)",
    "use_artifact": "read the file from the run folder that logged it",
    "sweep": "run your grid or random search and give each run the same group=...",
    "agent": "run your grid or random search and give each run the same group=...",
    "Api": "use tracker.runs(folder) to read runs",
    "plot": "log tables with wandb.Table, or use run.log_confusion_matrix/log_roc_curve on active_run()",
    "Html": "store the page as an artifact with wandb.save(path)",
    "Object3D": "store the file as an artifact with wandb.save(path)",
    "Molecule": "store the file as an artifact with wandb.save(path)",
}


def __getattr__(name: str):
    # wandb.run, wandb.config and wandb.summary follow the open run, as W&B's module attributes do.
    if name == "run":
        return _run
    if name in ("config", "summary"):
        return getattr(_active(name), name)
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise unknown_name("wandb", name, _NOT_MAPPED.get(name, "see docs/integrations.md for the calls that map"))
