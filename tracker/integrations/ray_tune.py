"""Ray Tune: a callback making each trial a run in the experiment's group, written from the driver.

``tune.Tuner(trainable, param_space=..., run_config=tune.RunConfig(callbacks=[TrackerCallback()]))``
records, for every trial the experiment starts:

- a run named as Tune names the trial (``train_fn_1a2b3_00000``) in the group of the experiment's
  name (or ``group=``), tagged ``ray-tune``, with the trial's resolved config and ``trial_id``;
- every result the trial reports (``tune.report(...)``): its numbers, nested dicts joined with
  ``/`` as Tune joins them, as metrics at the result's ``training_iteration``; Tune's bookkeeping
  (``done``, ``timestamp``, ``pid``, ``training_iteration`` itself, ...) is left out,
  ``time_this_iter_s`` and ``time_total_s`` are kept;
- in the summary: ``trial_id``, ``iterations`` (the last ``training_iteration``), ``hostname`` and
  ``node_ip`` of the worker, and ``stopped_by_tune``;
- its end: ``finished`` when the trainable returned; ``failed`` with the exception (its type and
  message, then the worker's traceback) when it raised; a trial Tune stopped (a ``stop=``
  criterion, a scheduler such as ASHA, the experiment's time budget) is ``finished`` too, tagged
  ``stopped-by-tune`` with ``stopped_by_tune: true`` in its summary. Tune's stop looks the same
  whether it cut a trial short or came at the scheduler's ``max_t`` (ASHA stops its survivors
  there), hence the name; ``iterations`` says how far the trial got. A trial still pending or
  running when the experiment ends is ``interrupted``.

Tune calls its callbacks in the driver process, so the trials' workers need no tracker and write
nothing: every run is written by the driver, while its trial runs. A script run that is active
when a trial starts stays the active run; the trials' runs go to its runs folder (unless
``dir=``), their config names it as ``parent_run`` and its summary counts the ``trials``. A
failure inside the recording is one warning per cause; the experiment goes on.
"""
from __future__ import annotations

import re

from ray.tune import Callback

from ..active_run import current, set_current
from ..session import init
from .callback_run import FailureWarnings

INTEGRATION = "tracker.integrations.ray_tune"
STOPPED_TAG = "stopped-by-tune"
MAX_ERROR_CHARS = 20_000  # a worker's traceback quotes its frames: enough to see the cause
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# Keys Tune adds to every result that are bookkeeping, not measurements of the trial.
NOT_METRICS = frozenset({"done", "training_iteration", "timestamp", "pid", "iterations_since_restore",
                         "time_since_restore", "should_checkpoint", "config"})


class TrackerCallback(Callback):
    """Record each trial of a Tune experiment as a run; ``project``, ``group``, ``tags``, ``dir`` and
    ``capture`` (default off: many trial runs share the driver's process) go to ``tracker.init``."""

    def __init__(self, *, project: str | None = None, group: str | None = None, tags=None, dir=None,
                 capture: bool | dict = False):
        self.project, self.group, self.dir, self.capture = project, group, dir, capture
        self.tags = ["ray-tune", *(tags or [])]
        self._guard = FailureWarnings(INTEGRATION, consequence="the experiment goes on").guard
        self._trials: dict[str, _TrialRun] = {}  # trial_id -> its open run
        self._seen: set[str] = set()  # trials a run was started for, or tried: a failed start is not retried
        self._parent = None  # the script's run, when one was active
        self._trials_started = 0

    def on_trial_start(self, iteration, trials, trial, **info):
        self._guard("starting a trial's run", lambda: self._start(trial))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self._guard("logging a trial's result", lambda: self._result(trial, result))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._guard("finishing a trial's run", lambda: self._finish(trial, "finished"))

    def on_trial_error(self, iteration, trials, trial, **info):
        self._guard("finishing a failed trial's run", lambda: self._finish(trial, "failed", _trial_error(trial)))

    def on_experiment_end(self, trials, **info):
        # Tune ends some trials without a callback: stop_all, a time budget, an interrupted experiment.
        for trial in trials:
            if trial.trial_id in self._trials:
                status = {"TERMINATED": "finished", "ERROR": "failed"}.get(trial.status, "interrupted")
                if status == "finished":
                    self._trials[trial.trial_id].stopped = True
                self._guard("finishing a trial's run", lambda: self._finish(
                    trial, status, _trial_error(trial) if status == "failed" else None))

    def _start(self, trial) -> None:
        if trial.trial_id in self._trials:  # restarted after a failure, or resumed: the same run goes on
            return
        self._seen.add(trial.trial_id)
        parent = current()
        if parent is not None and self._parent is None:
            self._parent = parent
        config = {**trial.config, "trial_id": trial.trial_id}
        if self._parent is not None:
            config["parent_run"] = self._parent.id
        root = self.dir if self.dir is not None or self._parent is None else self._parent.root
        try:
            run = init(project=self.project, name=str(trial), group=self.group or trial.experiment_dir_name,
                       config=config, tags=self.tags, capture=self.capture, dir=root)
        finally:
            set_current(parent)  # a trial's run is never the script's active run
        self._trials[trial.trial_id] = _TrialRun(run)
        self._trials_started += 1
        if self._parent is not None:
            parent_summary = {"trials": self._trials_started}
            self._guard("counting the trials in the active run", lambda: self._parent.summary.update(parent_summary))

    def _result(self, trial, result: dict) -> None:
        if trial.trial_id not in self._trials:
            if trial.trial_id in self._seen:  # its run could not be started: warned once already
                return
            self._start(trial)  # a trial already running when the callback was added (a resumed experiment)
        state = self._trials[trial.trial_id]
        state.last_step = step = result.get("training_iteration")
        metrics = _metrics(result)
        if metrics:
            state.run.log(metrics, step=step)
        if result.get("done"):  # Tune sets it when it stops the trial; a trainable that returns never reports it
            state.stopped = True
        if not state.described:
            state.described = True
            worker = {key: result[key] for key in ("hostname", "node_ip") if isinstance(result.get(key), str)}
            state.run.summary.update({"trial_id": trial.trial_id, **worker})

    def _finish(self, trial, status: str, error: str | None = None) -> None:
        state = self._trials.pop(trial.trial_id, None)
        if state is None:  # a trial stopped before it started: no run was made
            return
        stopped = status == "finished" and state.stopped
        try:
            state.run.summary.update({"stopped_by_tune": stopped, "iterations": state.last_step})
            if stopped:
                state.run.add_tags([STOPPED_TAG])
        finally:
            state.run.finish(status=status, error=error)


class _TrialRun:
    """One trial's open run and what the callback has seen of it."""

    def __init__(self, run):
        self.run = run
        self.last_step = None  # the last training_iteration reported
        self.stopped = False  # Tune marked a result done: it stopped the trial
        self.described = False  # trial_id and the worker are in the summary


def _metrics(result: dict, prefix: str = "") -> dict:
    """The numbers of a result, nested dicts flattened as ``outer/inner``; Tune's bookkeeping left out."""
    metrics = {}
    for key, value in result.items():
        if not prefix and key in NOT_METRICS:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            metrics.update(_metrics(value, f"{name}/"))
        elif type(value) in (int, float):
            metrics[name] = value
        elif hasattr(value, "item") and getattr(value, "size", 1) == 1 and not isinstance(value, (str, bytes, bool)):
            try:  # NumPy and tensor scalars
                number = value.item()
            except Exception:
                continue
            if type(number) in (int, float):
                metrics[name] = number
    return metrics


def _trial_error(trial) -> str:
    """The trial's exception as ``Type: message``, then the worker's traceback Tune kept."""
    # Tune has just written both files beside the trial (Trial.handle_error); the copies in the
    # experiment's storage (get_pickled_error) come later, with its next sync.
    error = _read(trial.pickled_error_file, "rb")
    if error is not None:
        from ray import cloudpickle  # Ray's own: the one Tune pickled the error with

        error = cloudpickle.loads(error)
    cause = getattr(error, "cause", None) or error  # a RayTaskError wraps the trainable's exception
    text = ANSI_COLOUR.sub("", _read(trial.error_file, "r") or "")  # Ray colours the worker's name
    if cause is not None:
        head = (f"{type(cause).__name__}: {cause}".splitlines() or [""])[0]
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        head = lines[-1] if lines else f"trial {trial.trial_id} failed"
    full = f"{head}\n\n{text}".strip()
    return full if len(full) <= MAX_ERROR_CHARS else full[:MAX_ERROR_CHARS - 1] + "…"


def _read(path: str | None, mode: str):
    if not path:
        return None
    try:
        with open(path, mode) as file:
            return file.read()
    except OSError:
        return None
