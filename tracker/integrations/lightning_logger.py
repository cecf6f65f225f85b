"""The Lightning logger's recording, shared by the two packages Lightning ships as (lightning.pytorch, pytorch_lightning).

``Trainer(logger=TrackerLogger())`` records:

- the hyper-parameters Lightning hands over (``save_hyperparameters()``, the datamodule's, a
  Namespace, a dict or an AttributeDict) as config, nested dicts nested, objects as their repr;
- every metric at the step Lightning passes (its count of optimizer steps, from 0; validation and
  epoch-end metrics at the step of the epoch's last training batch): Lightning calls
  ``log_metrics`` several times per step (training, validation, epoch end, each with ``epoch``),
  and a value repeated within a step is written once: one point per metric and step
  (tracker/integrations/trainer_run.py);
- the end of the fit: ``finalize("success")`` finishes the run; ``finalize("failed")``, which
  Lightning calls while it handles the exception, marks it ``failed`` with that exception's
  traceback, or ``interrupted`` for a KeyboardInterrupt. A test or validate after the fit reopens
  the same run;
- with ``log_model``, checkpoints as artifacts ``checkpoints/<file name>``: ``"all"`` each one as
  ModelCheckpoint saves it, ``True`` those it kept (top k, last, best) when the fit ends (as
  saved, with ``save_top_k=-1``), and the best one's name and score in the summary.

Only the process of global rank 0 records (Lightning's ``rank_zero_only.rank``), unless
``all_ranks=True``: then each process records, tagged ``rank=<N>``, into the job's one run under a
launcher (docs/distributed.md), else into a run of its own. Into the
script's active run when there is one (left open), else a run of its own. A failure inside the
recording is one warning per cause; training goes on.
"""
from __future__ import annotations

import os
import sys
from argparse import Namespace
from collections.abc import Mapping

from ..errors import ArgumentTypeError
from ..lifecycle import format_error, status_for_exception
from .callback_run import plain_config
from .trainer_run import TrainerRun

LOG_MODEL_CHOICES = (False, True, "all")


class LightningLoggerMethods:
    """What TrackerLogger does; lightning.py and pytorch_lightning.py put it on their package's Logger."""

    _integration: str  # named in warnings
    _rank_zero_only = None  # the package's rank_zero_only: its ``rank`` is this process's global rank
    _dummy_experiment = None  # the package's DummyExperiment: what ``experiment`` is where nothing records

    def __init__(self, *, project: str | None = None, name: str | None = None, group: str | None = None,
                 tags=None, dir=None, capture: bool | dict = True, log_model: bool | str = False,
                 all_ranks: bool = False):
        super().__init__()
        if log_model not in LOG_MODEL_CHOICES or not isinstance(log_model, (bool, str)):
            raise ArgumentTypeError("log_model", log_model, 'True, False or "all"')
        self._project = project
        self._log_model = log_model
        self._all_ranks = all_ranks
        self._recording = TrainerRun(self._integration, {"project": project, "name": name, "group": group,
                                                        "tags": ["lightning", *(tags or [])], "dir": dir,
                                                        "capture": capture})
        self._start_failed = False  # not retried at every step: the next fit tries again
        self._checkpoint_callback = None  # log_model=True: the ModelCheckpoint whose files finalize() logs
        self._logged_checkpoints: dict[str, int] = {}  # path -> mtime_ns of the copy logged

    # -- Lightning's Logger interface --------------------------------------------------

    @property
    def name(self) -> str:
        """The project: ModelCheckpoint saves under ``<default_root_dir>/<name>/<version>/checkpoints``."""
        run = self._recording.run
        return run.project if run is not None else (self._project or "default")

    @property
    def version(self) -> str | None:
        """The run's id; after the fit, the id of the run it recorded into (reading it reopens nothing)."""
        if not self._recording.open and self._recording.last_id is not None:
            return self._recording.last_id
        run = self._started()
        return run.id if run is not None else None

    @property
    def save_dir(self) -> None:
        return None  # checkpoints go under the trainer's default_root_dir; log_model copies them into the run

    @property
    def experiment(self):
        """The tracker Run being recorded into (Lightning's DummyExperiment where this process records nothing)."""
        run = self._started()
        return run if run is not None else self._dummy_experiment()

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        if self._started() is not None:
            self._recording.guard("logging hyper-parameters",
                                  lambda: self._recording.run.config.update(hyperparams(params)))

    def log_metrics(self, metrics: Mapping, step: int | None = None) -> None:
        if self._started() is not None:
            self._recording.log_step(dict(metrics), step)

    def after_save_checkpoint(self, checkpoint_callback) -> None:
        if not self._log_model or self._started() is None:
            return
        if self._log_model == "all" or getattr(checkpoint_callback, "save_top_k", None) == -1:
            self._log_checkpoints(checkpoint_callback)
        else:
            self._checkpoint_callback = checkpoint_callback

    def finalize(self, status: str) -> None:
        """Lightning's end of a fit, validate, test or predict: ``success``, ``failed`` or ``finished``."""
        self._start_failed = False
        if not self._recording.open:
            return
        if self._checkpoint_callback is not None:
            self._log_checkpoints(self._checkpoint_callback)
            self._checkpoint_callback = None
        if status == "failed":
            # Lightning calls finalize("failed") inside its `except BaseException`: the exception is at hand.
            exc_type, exc, tb = sys.exc_info()
            error = format_error(exc_type, exc, tb) if exc is not None else "Lightning ended the run as failed"
            self._recording.finish(status=status_for_exception(exc_type), error=error)
        else:
            self._recording.finish()

    def __getstate__(self) -> dict:
        # ddp_spawn pickles the logger into its processes: a copy holds no run and no callback.
        state = self.__dict__.copy()
        state["_recording"] = TrainerRun(self._integration, self._recording.init_kwargs)
        state["_checkpoint_callback"] = None
        return state

    # -- recording ----------------------------------------------------------------------

    def _started(self):
        """The run this process records into, started on first use; None where this process records nothing."""
        rank = getattr(self._rank_zero_only, "rank", 0) or 0
        if rank != 0 and not self._all_ranks:
            return None
        if not self._recording.open and not self._start_failed:
            if self._all_ranks:
                base = [tag for tag in self._recording.init_kwargs["tags"] if not tag.startswith("rank=")]
                self._recording.init_kwargs["tags"] = [*base, f"rank={rank}"]
                # under a launcher the ranks join one run, whose log() is rank zero's unless told
                self._recording.init_kwargs["all_ranks"] = True
            self._recording.start()
            self._start_failed = not self._recording.open
        return self._recording.run

    def _log_checkpoints(self, checkpoint_callback) -> None:
        """Copy the checkpoints the callback holds that are new or changed since they were last logged."""
        run = self._recording.run
        if run is None:
            return

        def log() -> None:
            kept = {*checkpoint_callback.best_k_models, checkpoint_callback.last_model_path,
                    checkpoint_callback.best_model_path}
            for path in sorted(path for path in kept if path and os.path.isfile(path)):
                stamp = os.stat(path).st_mtime_ns
                if self._logged_checkpoints.get(path) != stamp:
                    run.log_artifact(path, checkpoint_name(path))
                    self._logged_checkpoints[path] = stamp
            best = checkpoint_callback.best_model_path
            if best and os.path.isfile(best):
                summary = {"best_checkpoint": checkpoint_name(best)}
                score = checkpoint_callback.best_model_score
                if score is not None:
                    summary["best_checkpoint_score"] = float(score)
                run.summary.update(summary)

        self._recording.guard("logging checkpoints", log)


def hyperparams(params) -> dict:
    """Lightning's hyper-parameters (a Namespace, a dict, an AttributeDict or None) as config values."""
    if params is None:
        return {}
    if isinstance(params, Namespace):
        params = vars(params)
    return plain_config(params)


def checkpoint_name(path: str) -> str:
    return f"checkpoints/{os.path.basename(path)}"
