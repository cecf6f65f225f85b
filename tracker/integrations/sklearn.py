"""scikit-learn autolog: each estimator's ``fit`` recorded as a run, a search as a parent run and its candidates.

``tracker.autolog()`` patches the ``fit`` of scikit-learn's estimators (every class
``sklearn.utils.all_estimators()`` lists, where its ``fit`` is defined) until ``autolog(disable=True)``,
or for the body of ``with tracker.autolog():``. For each outermost ``fit`` (the fits a pipeline or a
search makes inside it are not runs of their own) it records:

- a plain estimator: a run (or the active run, when the script has one) with the estimator's
  ``get_params()`` and repr in the config, ``training_score`` (``score`` on the training data) and
  ``fit_time_s`` in the summary;
- a search (``GridSearchCV``, ``RandomizedSearchCV``, any ``BaseSearchCV``): a parent run and one
  child run per candidate in one group, each child's config its candidate's parameters and its
  summary the candidate's ``cv_results_`` numbers; the parent's summary holds ``best_score``,
  ``best_params``, ``best_index`` and ``best_run`` (the best child's id).

The patching is safe: scikit-learn older than MIN_SKLEARN is left alone (one warning), the
original methods are put back on exit, and a failure inside the recording (a ``get_params`` that
raises, a full disk) is one warning per cause while the fit goes on. scikit-learn is imported
only when autolog is switched on.
"""
from __future__ import annotations

import functools
import threading
import time
import warnings

from ..active_run import current, set_current
from ..ids import random_suffix
from ..session import init
from .callback_run import FailureWarnings, bounded_repr

MIN_SKLEARN = (1, 0)  # BaseSearchCV.cv_results_ and get_params as used here
TESTED_UP_TO = (1, 9)  # newer versions are patched too, with one warning
CV_RESULT_PREFIXES = ("mean_test_", "std_test_", "rank_test_", "mean_train_", "std_train_")
CV_RESULT_TIMES = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")


class Autolog:
    """The patches that one ``autolog()`` call made; a context manager that restores them on exit."""

    def __init__(self, project: str | None, dir, training_score: bool):
        self.project = project
        self.dir = dir
        self.training_score = training_score
        self.originals: list[tuple[type, object]] = []  # (class, its own fit) to put back

    def __enter__(self) -> "Autolog":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.restore()

    def restore(self) -> None:
        """Put every patched ``fit`` back."""
        global _current
        for cls, original in reversed(self.originals):
            cls.fit = original
        self.originals.clear()
        if _current is self:
            _current = None


_current: Autolog | None = None  # the autolog whose patches are in place
_depth = 0  # logged fits in progress: a fit inside one (a pipeline step, a search's candidate) is not a run
_depth_lock = threading.Lock()
# The fit's own frame is four calls up from guard(): guard, _recorded, the patched fit, the caller.
_failures = FailureWarnings("tracker.autolog", consequence="the fit goes on", stacklevel=4)
_guarded = _failures.guard


def autolog(disable: bool = False, *, project: str | None = None, dir=None, training_score: bool = True) -> Autolog:
    """Record every scikit-learn ``fit`` from now on (see the module docstring); a context manager too.

    ``project`` and ``dir`` are passed to ``tracker.init`` for the runs autolog starts;
    ``training_score=False`` skips scoring on the training data (a predict over it).
    ``autolog(disable=True)`` puts the original methods back.
    """
    global _current
    if _current is not None:
        _current.restore()
    session = Autolog(project, dir, training_score)
    if disable:
        return session
    import sklearn
    from sklearn.utils import all_estimators

    version = _version(sklearn.__version__)
    if version < MIN_SKLEARN:
        warnings.warn(f"tracker.autolog: scikit-learn {sklearn.__version__} is older than "
                      f"{'.'.join(map(str, MIN_SKLEARN))}; nothing is recorded", RuntimeWarning, stacklevel=2)
        return session
    if version[:2] > TESTED_UP_TO:
        warnings.warn(f"tracker.autolog: scikit-learn {sklearn.__version__} is newer than the versions tested "
                      f"(up to {'.'.join(map(str, TESTED_UP_TO))}); fits are recorded, a failure is a warning",
                      RuntimeWarning, stacklevel=2)
    patched = set()
    for _, estimator_class in all_estimators():
        owner = next((cls for cls in estimator_class.__mro__ if "fit" in vars(cls)), None)
        if owner is None or owner in patched:
            continue
        patched.add(owner)
        original = vars(owner)["fit"]
        session.originals.append((owner, original))
        owner.fit = _recording_fit(original)
    _current = session
    return session


def _recording_fit(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        global _depth
        session = _current
        with _depth_lock:
            outermost = _depth == 0
            _depth += 1
        try:
            if session is None or not outermost:
                return original(self, *args, **kwargs)
            return _recorded(session, original, self, args, kwargs)
        finally:
            with _depth_lock:
                _depth -= 1

    return fit


def _recorded(session: Autolog, original, estimator, args, kwargs):
    """Run ``original`` (the fit) with a record around it; recording never stops the fit."""
    previous = current()
    recording = _guarded("starting the record of a fit", lambda: FitRecording.start(session, estimator, previous))
    started = time.perf_counter()
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if recording is not None:
            _guarded("recording a failed fit", lambda error=exc: recording.failed(error))
            _restore_active(previous)
        raise
    fit_time_s = time.perf_counter() - started
    if recording is not None:
        _guarded("recording a fit's results", lambda: recording.finished(args, kwargs, fit_time_s))
        _restore_active(previous)
    return result


class FitRecording:
    """One outermost fit being recorded: its run (its own, or the script's active run)."""

    def __init__(self, session: Autolog, estimator, run, owns_run: bool, group: str | None):
        self.session = session
        self.estimator = estimator
        self.run = run
        self.owns_run = owns_run
        self.group = group

    @classmethod
    def start(cls, session: Autolog, estimator, active) -> "FitRecording":
        name = type(estimator).__name__
        config = {"estimator": name, **_params(estimator), "estimator_repr": bounded_repr(estimator)}
        if _is_search(estimator):  # a search is always its own parent run, with its candidates in its group
            group = f"{name}-{random_suffix()}"
            run = init(project=session.project, name=name, group=group, dir=session.dir, config=config,
                       tags=["autolog", "search"], capture={"console": False, "system": False})
            return cls(session, estimator, run, True, group)
        if active is not None:
            active.config.update(config)
            return cls(session, estimator, active, False, None)
        run = init(project=session.project, name=name, dir=session.dir, config=config, tags=["autolog"],
                   capture={"console": False, "system": False})
        return cls(session, estimator, run, True, None)

    def finished(self, args, kwargs, fit_time_s: float) -> None:
        summary = {"fit_time_s": fit_time_s}
        try:
            if self.group is not None:
                summary.update(self._candidates())
            if self.session.training_score:
                score = _training_score(self.estimator, args, kwargs)
                if score is not None:
                    summary["training_score"] = score
        finally:  # the run ends with what could be recorded
            self.run.summary.update(summary)
            if self.owns_run:
                self.run.finish()

    def failed(self, exc: BaseException) -> None:
        if self.owns_run:
            import traceback

            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.run.finish(status=status, error="".join(traceback.format_exception(exc)))

    def _candidates(self) -> dict:
        """One child run per candidate of the search; the parent's summary entries for the best."""
        results = self.estimator.cv_results_
        names = [key for key in results if key.startswith(CV_RESULT_PREFIXES) or key in CV_RESULT_TIMES]
        child_ids = []
        for index, params in enumerate(results["params"]):
            child = init(project=self.run.project, name=f"{self.run.name}-candidate-{index}", group=self.group,
                         dir=self.session.dir, config={"estimator": type(self.estimator.estimator).__name__,
                                                       **_plain(params), "candidate": index,
                                                       "parent_run": self.run.id},
                         tags=["autolog", "candidate"], capture=False)
            child.summary.update({name: _number(results[name][index]) for name in names})
            child.finish()
            child_ids.append(child.id)
        summary = {"candidates": len(child_ids)}
        best_index = getattr(self.estimator, "best_index_", None)
        if best_index is not None:
            summary.update(best_index=int(best_index), best_run=child_ids[best_index],
                           best_params=_plain(self.estimator.best_params_))
        if hasattr(self.estimator, "best_score_"):
            summary["best_score"] = float(self.estimator.best_score_)
        return summary


def _training_score(estimator, args, kwargs) -> float | None:
    if not hasattr(estimator, "score"):
        return None
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    if _is_search(estimator) and not hasattr(estimator, "best_estimator_"):
        return None  # refit=False: nothing to score
    return float(estimator.score(X, y))


def _is_search(estimator) -> bool:
    from sklearn.model_selection._search import BaseSearchCV  # where every scikit-learn search derives from

    return isinstance(estimator, BaseSearchCV)


def _params(estimator) -> dict:
    return _plain(estimator.get_params(deep=True))


def _plain(params: dict) -> dict:
    """Parameters as config values: numbers, text and None as they are, anything else as its repr."""
    return {str(key): value if value is None or isinstance(value, (bool, int, float, str)) else bounded_repr(value)
            for key, value in params.items()}


def _number(value):
    try:
        return value.item()  # NumPy scalars
    except AttributeError:
        return value


def _restore_active(previous) -> None:
    """The script's own run is the active one again once autolog's runs have finished."""
    if previous is not None and current() is None:
        set_current(previous)


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:2]:
        digits = "".join(char for char in part if char.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
