"""LightGBM: a callback recording every eval set and metric per iteration, the parameters and the best iteration; lgb.cv too.

``lgb.train(params, dtrain, valid_sets=[dvalid], callbacks=[TrackerCallback()])`` (the
scikit-learn API's ``fit(..., callbacks=[...])`` too) records:

- each iteration's evaluation results as metrics ``<data set>/<metric>`` (``valid_0/l2``,
  ``training/binary_logloss``; the names ``valid_names`` gives) at step = LightGBM's iteration as
  it prints it, counted from 1, so the step of the best point is ``best_iteration``; in
  ``lgb.cv``, ``valid/<metric>-mean`` and ``valid/<metric>-stdv`` as its result keys;
- the parameters LightGBM trains with (``params``) as config;
- ``iterations`` in the summary and, when early stopping chose one, ``best_iteration`` (LightGBM's,
  counted from 1) and ``best_score`` (``{"valid_0": {"l2": ...}}``, as ``Booster.best_score``).

Into the script's active run when there is one (left open), else a run of its own started at the
first iteration. LightGBM calls a callback only inside its loop, so the end of training is seen
where LightGBM writes it: the booster's ``best_score`` set after the loop of ``lgb.train``, the
``best_iteration`` of ``lgb.cv``'s early stopping, or the last iteration of ``lgb.cv``. A failure
inside the recording is one warning per cause; training goes on.
"""
from __future__ import annotations

import lightgbm

from .callback_run import CallbackRun, plain_config

INTEGRATION = "tracker.integrations.lightgbm"
# After LightGBM's log_evaluation (10) and record_evaluation (20), before early_stopping (30):
# early stopping raises to stop, and the iteration it stops at is recorded first.
CALLBACK_ORDER = 25


class TrackerCallback:
    """Record a LightGBM training; ``project``, ``name``, ``group``, ``tags``, ``dir`` and ``capture``
    are passed to ``tracker.init`` for the run it starts when the script has none active."""

    before_iteration = False

    def __init__(self, *, project: str | None = None, name: str | None = None, group: str | None = None,
                 tags=None, dir=None, capture: bool | dict = True):
        self.order = CALLBACK_ORDER  # on the instance: LightGBM sets an order on callbacks lacking one
        self._recording = CallbackRun(INTEGRATION, {"project": project, "name": name, "group": group,
                                                    "tags": ["lightgbm", *(tags or [])], "dir": dir,
                                                    "capture": capture})
        self._model = None
        self._history: dict[int, dict] = {}  # step -> {data set: {metric: value}}, for best_score

    def __call__(self, env) -> None:
        if env.model is not self._model:
            self._start(env)
        step = env.iteration + 1
        results = self._recording.guard("reading the evaluation results",
                                        lambda: self._results(env.evaluation_result_list or []))
        if results is not None:
            self._history[step] = results
            self._recording.log({f"{data}/{metric}": value for data, metrics in results.items()
                                 for metric, value in metrics.items()}, step=step)
        if self._is_cv(env.model) and step == env.end_iteration:
            self._end(env.model, None)

    def _start(self, env) -> None:
        if self._recording.open:  # a training that raised before its end: its run ends unfinished
            _unwatch(self._model)
            self._recording.finish(status="failed", error="LightGBM training stopped before its end")
        self._model = env.model
        self._history = {}
        self._recording.start(self._recording.guard("reading the parameters", lambda: plain_config(env.params)))
        self._recording.guard("watching for the end of training", lambda: _watch(env.model, self))

    def _end(self, model, best_iteration: int | None) -> None:
        """Training ended: the summary, and the run finished if the callback started it."""
        if model is not self._model:
            return
        _unwatch(model)
        self._model = None
        summary = {"iterations": len(self._history)}
        if best_iteration and best_iteration in self._history:
            summary.update(best_iteration=best_iteration, best_score=self._history[best_iteration])
        self._recording.update_summary(summary)
        self._recording.finish()

    @staticmethod
    def _results(evaluation_results) -> dict:
        """``{"valid_0": {"l2": 0.5}}``; cv's results as ``{"valid": {"l2-mean": ..., "l2-stdv": ...}}``."""
        results: dict[str, dict] = {}
        for result in evaluation_results:
            data, metric, value = result[0], result[1], result[2]
            if data == "cv_agg":  # LightGBM before 4.7: ("cv_agg", "valid l2", mean, higher_better, stdv)
                data, _, metric = metric.partition(" ")
            metrics = results.setdefault(data, {})
            if len(result) > 4:
                metrics[f"{metric}-mean"], metrics[f"{metric}-stdv"] = float(value), float(result[4])
            else:
                metrics[metric] = float(value)
        return results

    @staticmethod
    def _is_cv(model) -> bool:
        return isinstance(model, lightgbm.CVBooster)


class _WatchedBooster(lightgbm.Booster):
    """A Booster that tells its callback when ``lgb.train`` sets ``best_score``: after the last iteration."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "best_score":
            _ended(self, getattr(self, "best_iteration", 0))


class _WatchedCVBooster(lightgbm.CVBooster):
    """A CVBooster that tells its callback when early stopping sets ``best_iteration`` on it."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "best_iteration":
            _ended(self, value)


WATCHED_ATTRIBUTE = "_tracker_callback"  # the callback a watched model reports to, removed with the watch


def _watch(model, callback: TrackerCallback) -> None:
    """Make ``model`` report the end of training to ``callback``; its own class is put back then."""
    watched = {lightgbm.Booster: _WatchedBooster, lightgbm.CVBooster: _WatchedCVBooster}.get(type(model))
    if watched is not None:
        object.__setattr__(model, WATCHED_ATTRIBUTE, callback)
        model.__class__ = watched


def _unwatch(model) -> None:
    """Put the model's own class back: the model the user gets pickles as LightGBM's own."""
    if type(model) in (_WatchedBooster, _WatchedCVBooster):
        object.__setattr__(model, "__class__", type(model).__mro__[1])
        vars(model).pop(WATCHED_ATTRIBUTE, None)


def _ended(model, best_iteration) -> None:
    callback = vars(model).get(WATCHED_ATTRIBUTE)
    _unwatch(model)
    if callback is not None:
        callback._recording.guard("recording the end of training", lambda: callback._end(model, best_iteration))
