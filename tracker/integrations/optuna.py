"""Optuna: a study callback making each finished trial a run in the study's group.

``study.optimize(objective, n_trials=50, callbacks=[TrackerCallback()])`` records, for every trial
Optuna hands its callbacks (complete, pruned, and failed ones it caught: ``catch=(...)``; an
exception it does not catch stops ``optimize`` before any callback runs):

- a run named ``<study>-trial-<number>`` in the group ``<study name>`` (or ``group=``), tagged
  ``optuna`` and the trial's state, with the trial's parameters and ``trial`` (its number) as config;
- its intermediate values (``trial.report(value, step)``) as the metric ``intermediate_value`` at
  their steps;
- in the summary: ``value`` (or ``values`` and one ``value_<i>``, or the study's metric name, per
  objective), ``state`` (``complete``, ``pruned``, ``fail``), ``duration_s``, ``user_attrs``;
- the run's status: ``finished`` for a complete or pruned trial, ``failed`` for a failed one.

Each run is written when its trial has finished, from the frozen trial, so trials running in
threads (``n_jobs>1``) or other processes are recorded alike; its times are those of the writing.
When the script has an active run, it stays the active run, the trials' runs go to its runs folder
(unless ``dir=``), each trial's config names it as
``parent_run``, and its summary keeps the study's best (``best_value``, ``best_params``,
``best_trial``, ``best_run``) and ``trials``. A failure inside the recording is one warning per
cause; the study goes on.
"""
from __future__ import annotations

import threading

import optuna

from ..active_run import current, set_current
from ..session import init
from .callback_run import FailureWarnings, plain_config

INTEGRATION = "tracker.integrations.optuna"
INTERMEDIATE_METRIC = "intermediate_value"
RUN_STATUS = {"COMPLETE": "finished", "PRUNED": "finished", "FAIL": "failed"}


class TrackerCallback:
    """Record each finished trial of a study as a run; ``project``, ``group``, ``tags``, ``dir`` and
    ``capture`` (default off: the run is written after its trial ran) are passed to ``tracker.init``."""

    def __init__(self, *, project: str | None = None, group: str | None = None, tags=None, dir=None,
                 capture: bool | dict = False):
        self.project, self.group, self.dir, self.capture = project, group, dir, capture
        self.tags = ["optuna", *(tags or [])]
        self._lock = threading.Lock()  # with n_jobs>1 Optuna calls its callbacks from several threads
        self._guard = FailureWarnings(INTEGRATION).guard
        self._trial_runs: dict[int, str] = {}  # trial number -> run id

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with self._lock:
            parent = current()
            try:
                run_id = self._guard("recording a trial", lambda: self._record(study, trial, parent))
            finally:
                if parent is not None and current() is None:  # a trial run is never left active
                    set_current(parent)
            if run_id is not None and parent is not None:
                self._guard("updating the study's best in the active run", lambda: self._best(study, parent))

    def _record(self, study, trial, parent) -> str:
        state = trial.state.name
        config = {**plain_config(trial.params), "trial": trial.number}
        if parent is not None:
            config["parent_run"] = parent.id
        run = init(project=self.project, name=f"{study.study_name}-trial-{trial.number}",
                   group=self.group or study.study_name, config=config,
                   tags=[*self.tags, state.lower()], capture=self.capture,
                   dir=self.dir if self.dir is not None or parent is None else parent.root)
        try:
            for step, value in sorted(trial.intermediate_values.items()):
                run.log({INTERMEDIATE_METRIC: float(value)}, step=int(step))
            run.summary.update(_trial_summary(study, trial))
        except BaseException:
            run.finish(status="failed", error=f"tracker could not record trial {trial.number}")
            raise
        error = None
        if state == "FAIL":  # Optuna keeps no reason: it is in Optuna's log ("Trial N failed ...")
            error = f"Optuna trial {trial.number} failed (an exception it caught, or no valid value returned)"
        run.finish(status=RUN_STATUS.get(state, "finished"), error=error)
        self._trial_runs[trial.number] = run.id
        return run.id

    def _best(self, study, parent) -> None:
        summary = {"trials": len(self._trial_runs)}
        if len(study.directions) == 1:
            try:
                best = study.best_trial
            except ValueError:  # no trial has completed yet
                best = None
            if best is not None:
                summary.update(best_value=best.value, best_params=plain_config(best.params),
                               best_trial=best.number)
                if best.number in self._trial_runs:
                    summary["best_run"] = self._trial_runs[best.number]
        parent.summary.update(summary)


def _trial_summary(study, trial) -> dict:
    summary = {"state": trial.state.name.lower(), "user_attrs": plain_config(trial.user_attrs)}
    if trial.duration is not None:
        summary["duration_s"] = trial.duration.total_seconds()
    if trial.values is not None:
        if len(trial.values) == 1:
            summary["value"] = float(trial.values[0])
        else:
            summary["values"] = [float(value) for value in trial.values]
            names = getattr(study, "metric_names", None) or [f"value_{index}" for index in range(len(trial.values))]
            summary.update({str(name): float(value) for name, value in zip(names, trial.values)})
    return summary
