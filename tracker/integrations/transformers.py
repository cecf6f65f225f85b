"""Hugging Face Transformers: a TrainerCallback recording the TrainingArguments, the model's config, metrics at the global step and the end of training.

``Trainer(..., callbacks=[TrackerCallback()])`` (``report_to`` names only the trackers Transformers
knows) records:

- the TrainingArguments (``to_dict()``, hub tokens and every other ``*_token`` left out) as config,
  the model's config (``config.to_dict()``) under ``model``, and ``model_class`` and
  ``model_parameters``;
- each ``on_log`` at ``state.global_step``: training values as ``train/<name>`` (``train/loss``,
  ``train/learning_rate``, ``train/grad_norm``), evaluation's ``eval_<name>`` as ``eval/<name>``
  (``test_`` as ``test/``), and ``epoch`` (fractional, as the Trainer counts it). The Trainer logs
  training and evaluation at one step in two calls: they become one point per metric;
- the end-of-training values (``train_runtime``, ``train_loss`` as the mean over the training,
  ``total_flos``...) and ``best_metric``, ``best_model_checkpoint`` and ``global_step`` in the summary;
- checkpoints as artifacts when asked: ``log_checkpoints="all"`` copies each checkpoint folder the
  Trainer saves (``checkpoint-<step>``) as it is saved; ``log_checkpoints=True`` copies one at the
  end of training, the best (``state.best_model_checkpoint``) or else the last saved; the default
  ``False`` copies none (checkpoints are large);
- the end: ``on_train_end`` finishes the run. A training that raises leaves it open: ``failed`` with
  the traceback when the exception ends the script, or ``failed`` ("training stopped before its
  end") when the same callback starts another training. An ``evaluate()`` after training reopens
  the run and finishes it again.

Only the main process records (``state.is_world_process_zero``), unless ``all_ranks=True``: then
each process records a run of its own, tagged ``rank=<process index>``. Into the script's active run
when there is one (left open), else a run of its own. A failure inside the recording is one warning
per cause; training goes on.
"""
from __future__ import annotations

import os

import transformers
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .callback_run import plain_config
from .trainer_run import TrainerRun

INTEGRATION = "tracker.integrations.transformers"
# What the Trainer logs once, at the end of training: summary values, not points of a series.
END_OF_TRAINING_KEYS = frozenset({"train_runtime", "train_samples_per_second", "train_steps_per_second",
                                  "total_flos", "train_loss"})
PREFIXES = (("eval_", "eval/"), ("test_", "test/"))


class TrackerCallback(transformers.TrainerCallback):
    """Record a Trainer's training; ``project``, ``name``, ``group``, ``tags``, ``dir`` and ``capture`` are
    passed to ``tracker.init`` for the run it starts when the script has none active."""

    def __init__(self, *, project: str | None = None, name: str | None = None, group: str | None = None,
                 tags=None, dir=None, capture: bool | dict = True, all_ranks: bool = False,
                 log_checkpoints: bool | str = False):
        if log_checkpoints not in (False, True, "all"):
            raise ValueError(f"log_checkpoints={log_checkpoints!r}: use False, True (the best or last) or 'all'")
        self._all_ranks = all_ranks
        self._log_checkpoints = log_checkpoints
        self._last_checkpoint = None  # the folder of the last save, for log_checkpoints=True
        self._recording = TrainerRun(INTEGRATION, {"project": project, "name": name, "group": group,
                                                   "tags": ["transformers", *(tags or [])], "dir": dir,
                                                   "capture": capture})
        self._training = False  # from on_train_begin to on_train_end: still true at the next begin if train() raised
        self._start_failed = False  # not retried at every log: the next training or evaluate tries again

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not self._records(args, state):
            return
        if self._training and self._recording.open:
            self._recording.finish(status="failed", error="Transformers training stopped before its end")
        self._training = True
        self._start_failed = False
        if not self._recording.open:  # else an evaluate() before training opened it: training goes on in it
            self._start(args, model)

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if not self._records(args, state) or not logs:
            return
        if not self._recording.open and not self._start_failed:  # an evaluate() outside training
            self._start(args, model)
        values = self._recording.guard("reading the logs", lambda: split_logs(logs))
        if values is not None:
            series, summary = values
            self._recording.log_step(series, state.global_step)
            self._recording.update_summary(summary)

    def on_evaluate(self, args, state, control, **kwargs):
        if not self._training and self._records(args, state):
            self._recording.finish()  # the end of an evaluate() outside training; the next one reopens the run

    def on_save(self, args, state, control, **kwargs):
        if not self._log_checkpoints or not self._records(args, state) or not self._recording.open:
            return
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if not os.path.isdir(folder):
            return
        self._last_checkpoint = folder
        if self._log_checkpoints == "all":
            self._store_checkpoint(folder)

    def on_train_end(self, args, state, control, **kwargs):
        if not self._records(args, state):
            return
        if self._log_checkpoints is True and self._recording.open:
            best = state.best_model_checkpoint
            chosen = best if best and os.path.isdir(best) else self._last_checkpoint
            if chosen:
                self._store_checkpoint(chosen)
        self._last_checkpoint = None
        self._training = self._start_failed = False
        summary = {"global_step": state.global_step, "best_metric": state.best_metric,
                   "best_model_checkpoint": state.best_model_checkpoint}
        self._recording.update_summary({key: value for key, value in summary.items() if value is not None})
        self._recording.finish()

    def _store_checkpoint(self, folder: str) -> None:
        run = self._recording.run
        self._recording.guard("copying a checkpoint", lambda: run.log_artifact(folder, name=os.path.basename(folder)))

    def _records(self, args, state) -> bool:
        return self._all_ranks or state.is_world_process_zero

    def _start(self, args, model) -> None:
        if self._all_ranks:
            base = [tag for tag in self._recording.init_kwargs["tags"] if not tag.startswith("rank=")]
            self._recording.init_kwargs["tags"] = [*base, f"rank={args.process_index}"]
            # under a launcher the ranks join one run, whose log() is rank zero's unless told
            self._recording.init_kwargs["all_ranks"] = True
        config = self._recording.guard("reading the training arguments and the model's config",
                                       lambda: training_config(args, model))
        self._recording.start(config)
        self._start_failed = not self._recording.open


def training_config(args, model) -> dict:
    """TrainingArguments without secrets, and the model's config, class and size."""
    config = {key: value for key, value in args.to_dict().items() if not key.endswith("_token")}
    if model is not None:
        if getattr(model, "config", None) is not None:
            config["model"] = model.config.to_dict()
        config["model_class"] = type(model).__name__
        config["model_parameters"] = sum(parameter.numel() for parameter in model.parameters())
    return plain_config(config)


def split_logs(logs: dict) -> tuple[dict, dict]:
    """One ``on_log``'s values as (series, summary): ``{"train/loss": ..., "epoch": ...}``, the end-of-training ones."""
    series, summary = {}, {}
    for key, value in logs.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue  # the Trainer logs a few texts and lists; metrics are numbers
        if key in END_OF_TRAINING_KEYS:
            summary[key] = value
        elif key == "epoch":
            series[key] = value
        else:
            series[metric_name(key)] = value
    return series, summary


def metric_name(key: str) -> str:
    for prefix, group in PREFIXES:
        if key.startswith(prefix):
            return group + key[len(prefix):]
    return f"train/{key}"
