"""Keras 3: a Callback recording each epoch's metrics (val_* too), optionally each batch's, the fit's parameters, the model's size and the end of the fit.

``model.fit(..., callbacks=[TrackerCallback()])``, on any backend, records:

- each epoch's logs as metrics under Keras' names (``loss``, ``accuracy``, ``val_loss``,
  ``val_accuracy``) and the optimizer's ``learning_rate``, at step = Keras' epoch index (from 0,
  continuing from ``initial_epoch``; Keras prints it as ``Epoch 1/...``);
- with ``log_batches=True``, each training batch's logs as ``batch/<name>`` at step = the batch's
  number counted over the fit (from 0);
- as config: ``epochs`` and ``steps_per_epoch`` (Keras' ``params``), the optimizer's config
  (``optimizer``: name, learning_rate...), the loss, and the model's ``class``, ``name``, number
  of ``layers`` and its ``total_params``, ``trainable_params`` and ``non_trainable_params``;
- the model as an artifact when asked: ``log_model=True`` saves it at the end of the fit
  (``model.keras``, Keras' own format), ``log_model="all"`` after every epoch too
  (``model-epoch-<n>.keras``, n from 1 as Keras prints it); the default ``False`` saves none;
- the end: ``on_train_end`` finishes the run, ``epochs`` (the epochs this fit ran, fewer with
  early stopping) in the summary. A fit that raises leaves it open: ``failed`` with the traceback
  when the exception ends the script, or ``failed`` ("fit stopped before its end") when the same
  callback starts another fit.

Into the script's active run when there is one (left open), else a run of its own per fit. A
failure inside the recording is one warning per cause; training goes on.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile

import keras
import numpy  # Keras' own dependency

from .callback_run import CallbackRun, plain_config

INTEGRATION = "tracker.integrations.keras"


class TrackerCallback(keras.callbacks.Callback):
    """Record a Keras fit; ``project``, ``name``, ``group``, ``tags``, ``dir`` and ``capture`` are passed to
    ``tracker.init`` for the run it starts when the script has none active; ``log_batches`` records
    every training batch too."""

    def __init__(self, *, project: str | None = None, name: str | None = None, group: str | None = None,
                 tags=None, dir=None, capture: bool | dict = True, log_batches: bool = False,
                 log_model: bool | str = False):
        super().__init__()
        if log_model not in (False, True, "all"):
            raise ValueError(f"log_model={log_model!r}: use False, True (at the end of the fit) or 'all' (every epoch)")
        self._log_batches = log_batches
        self._log_model = log_model
        self._saved_models = None  # a temporary folder of saved models, removed once the run has copied them
        self._recording = CallbackRun(INTEGRATION, {"project": project, "name": name, "group": group,
                                                    "tags": ["keras", *(tags or [])], "dir": dir,
                                                    "capture": capture})
        self._batches = 0  # training batches of this fit so far: the step of batch metrics
        self._epochs = 0

    def on_train_begin(self, logs=None):
        if self._recording.open:  # the last fit raised before its on_train_end
            self._recording.finish(status="failed", error="Keras fit stopped before its end")
        self._batches = self._epochs = 0
        config = self._recording.guard("reading the model and its parameters",
                                       lambda: fit_config(self.model, self.params))
        self._recording.start(config)

    def on_train_batch_end(self, batch, logs=None):
        if self._log_batches and self._recording.open and logs:
            values = self._recording.guard("reading the batch's logs", lambda: numbers(logs, prefix="batch/"))
            self._recording.log(values or {}, step=self._batches)
        self._batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self._epochs += 1
        if self._recording.open:
            values = self._recording.guard("reading the epoch's logs", lambda: {
                **numbers(logs or {}), **learning_rate(self.model)})
            self._recording.log(values or {}, step=epoch)
            if self._log_model == "all":
                self._store_model(f"model-epoch-{epoch + 1}.keras")

    def on_train_end(self, logs=None):
        if self._log_model and self._recording.open:
            self._store_model("model.keras")
        self._recording.update_summary({"epochs": self._epochs})
        self._recording.finish()  # waits for the artifacts' copies
        if self._saved_models is not None:
            shutil.rmtree(self._saved_models, ignore_errors=True)
            self._saved_models = None

    def _store_model(self, name: str) -> None:
        def store():
            if self._saved_models is None:
                self._saved_models = tempfile.mkdtemp(prefix="tracker-keras-")
            path = os.path.join(self._saved_models, name)
            self.model.save(path)
            self._recording.run.log_artifact(path, name=name)
        self._recording.guard("saving the model as an artifact", store)


def fit_config(model, params: dict) -> dict:
    """The fit's parameters, the optimizer's config, the loss and the model's size, as config."""
    config = {"epochs": params.get("epochs"), "steps_per_epoch": params.get("steps")}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        config["optimizer"] = {key: _short_float(value) for key, value in optimizer.get_config().items()}
    loss = getattr(model, "loss", None)
    if loss is not None:
        config["loss"] = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
    trainable = sum(math.prod(weight.shape) for weight in model.trainable_weights)
    frozen = sum(math.prod(weight.shape) for weight in model.non_trainable_weights)
    config["model"] = {"class": type(model).__name__, "name": model.name, "layers": len(model.layers),
                       "total_params": trainable + frozen, "trainable_params": trainable,
                       "non_trainable_params": frozen}
    return plain_config(config)


def numbers(logs: dict, prefix: str = "") -> dict:
    """The logs' numbers (Keras hands over floats, and tensors or arrays on some backends) under ``prefix + name``."""
    values = {}
    for key, value in logs.items():
        try:
            values[prefix + key] = float(value)
        except (TypeError, ValueError):
            continue  # a log that is not one number
    return values


def learning_rate(model) -> dict:
    """The optimizer's current learning rate (schedules and ReduceLROnPlateau change it), float32 as written."""
    rate = getattr(getattr(model, "optimizer", None), "learning_rate", None)
    if rate is None:
        return {}
    return {"learning_rate": _short_float(float(keras.ops.convert_to_numpy(rate)))}


def _short_float(value):
    """A float32 as written (0.01, not 0.009999999776482582); anything else as it is."""
    if type(value) is not float or not math.isfinite(value):
        return value
    shortest = float(str(numpy.float32(value)))
    return shortest if math.isclose(shortest, value, rel_tol=1e-7) else value
