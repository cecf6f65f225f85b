"""XGBoost: a TrainingCallback recording every eval set and metric per iteration, the booster's parameters and its best iteration.

``xgb.train(params, dtrain, evals=[(dvalid, "valid")], callbacks=[TrackerCallback()])``, or the
scikit-learn wrapper's ``XGBRegressor(callbacks=[TrackerCallback()])``, records:

- each iteration's evaluation results as metrics ``<eval set>/<metric>`` (``valid/rmse``,
  ``train/logloss``) at step = XGBoost's iteration (0-based, as ``best_iteration``); in
  ``xgb.cv``, ``<set>/<metric>-mean`` and ``<set>/<metric>-std`` as its result columns;
- the booster's training parameters (``Booster.save_config()``, every ``*_param`` section, numbers
  as numbers) and ``eval_metric`` as config;
- ``iterations`` in the summary, and with early stopping ``best_iteration`` and ``best_score`` as
  the booster holds them.

Into the script's active run when there is one (left open), else a run of its own, started at
``before_training`` and finished at ``after_training``. A failure inside the recording is one
warning per cause; training goes on.
"""
from __future__ import annotations

import copy
import json
import math

import numpy  # XGBoost's own dependency
import xgboost

from .callback_run import CallbackRun

INTEGRATION = "tracker.integrations.xgboost"


class TrackerCallback(xgboost.callback.TrainingCallback):
    """Record an XGBoost training; ``project``, ``name``, ``group``, ``tags``, ``dir`` and ``capture``
    are passed to ``tracker.init`` for the run it starts when the script has none active."""

    def __init__(self, *, project: str | None = None, name: str | None = None, group: str | None = None,
                 tags=None, dir=None, capture: bool | dict = True):
        super().__init__()
        self._init_kwargs = {"project": project, "name": name, "group": group,
                             "tags": ["xgboost", *(tags or [])], "dir": dir, "capture": capture}
        self._recording = CallbackRun(INTEGRATION, self._init_kwargs)
        self._iterations = 0

    def __deepcopy__(self, memo) -> "TrackerCallback":
        # The scikit-learn wrapper and clone() copy their callbacks: a copy starts afresh, holding no run.
        kwargs = dict(self._init_kwargs, tags=self._init_kwargs["tags"][1:])  # "xgboost" is added again
        return TrackerCallback(**copy.deepcopy(kwargs, memo))

    def before_training(self, model):
        if self._recording.open:  # the last training raised before its after_training
            self._recording.finish(status="failed", error="XGBoost training stopped before its end")
        self._iterations = 0
        config = self._recording.guard("reading the booster's parameters", lambda: booster_params(_booster(model)))
        self._recording.start(config)
        return model

    def after_iteration(self, model, epoch: int, evals_log) -> bool:
        self._iterations += 1
        if self._recording.open:
            values = self._recording.guard("reading the evaluation results", lambda: latest_results(evals_log))
            self._recording.log(values or {}, step=epoch)
        return False  # never asks to stop

    def after_training(self, model):
        summary = {"iterations": self._iterations}
        best = self._recording.guard("reading the best iteration", lambda: best_of(_booster(model)))
        summary.update(best or {})
        self._recording.update_summary(summary)
        self._recording.finish()
        return model


def latest_results(evals_log) -> dict:
    """The last iteration's results: ``{"valid/rmse": 0.5}``; cv's (mean, std) as ``-mean`` and ``-std``."""
    values = {}
    for data_name, metrics in evals_log.items():
        for metric, history in metrics.items():
            value = history[-1]
            if isinstance(value, tuple):
                values[f"{data_name}/{metric}-mean"], values[f"{data_name}/{metric}-std"] = map(float, value)
            else:
                values[f"{data_name}/{metric}"] = float(value)
    return values


def best_of(booster) -> dict:
    """``best_iteration`` and ``best_score`` as early stopping left them on the booster; {} without it."""
    iteration, score = booster.attr("best_iteration"), booster.attr("best_score")
    if iteration is None:
        return {}
    best = {"best_iteration": int(iteration)}
    if score is not None:
        best["best_score"] = float(score)
    return best


def booster_params(booster) -> dict:
    """Every training parameter of the booster's ``save_config()``, flat: ``{"eta": 0.1, "max_depth": 3, ...}``."""
    learner = json.loads(booster.save_config())["learner"]
    params = {}
    _collect_params(learner, params)
    metrics = [metric.get("name") for metric in learner.get("metrics", [])]
    if metrics:
        params["eval_metric"] = metrics
    return params


def _collect_params(section: dict, params: dict) -> None:
    for key, value in section.items():
        if isinstance(value, dict):
            if key.endswith("_param"):
                params.update({name: _number(text) for name, text in value.items() if isinstance(text, str)})
            else:
                _collect_params(value, params)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _collect_params(item, params)


def _number(text: str):
    """XGBoost writes every parameter as text, float32 ones with 9 digits ("0.100000001"): the shortest
    float32 text when that is the same number (0.1), an int for whole numbers, else the text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    shortest = float(str(numpy.float32(number)))
    return shortest if math.isclose(shortest, number, rel_tol=1e-7) else number


def _booster(model):
    """The booster itself, or in ``xgb.cv`` the first fold's (every fold has the same parameters)."""
    folds = getattr(model, "cvfolds", None)
    return folds[0].bst if folds else model
