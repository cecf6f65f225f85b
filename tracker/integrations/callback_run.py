"""The run a framework callback records into: the script's active run or one of its own, its failures one warning each.

A callback records into the run the script already started (``tracker.init()``) when one is
active, and leaves it open; otherwise it starts a run when training starts and finishes it when
training ends. Whatever fails inside the recording (a runs folder that cannot be created, a run
finished under the callback) is one warning per stage and kind of failure, and training goes on.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping

from ..active_run import current
from ..config_sources import NOT_A_SOURCE, plain_source
from ..session import init

MAX_REPR_CHARS = 500  # a parameter that is an object (a function, a dataset) is stored as its repr


class CallbackRun:
    """The run one callback records into; every method is safe to call when starting it failed."""

    def __init__(self, integration: str, init_kwargs: dict):
        self.init_kwargs = init_kwargs  # for tracker.init, when the callback starts its own run
        self.run = None
        self.owns_run = False
        self.guard = FailureWarnings(integration).guard

    @property
    def open(self) -> bool:
        return self.run is not None

    def start(self, config: dict | None = None) -> None:
        """Record into the active run, else into a new run of the callback's own."""
        def start():
            active = current()
            if active is not None:
                self.run, self.owns_run = active, False
            else:
                self.run, self.owns_run = init(**self.init_kwargs), True
            if config:
                self.run.config.update(config)

        self.run = None
        self.guard("starting the run", start)

    def log(self, values: dict, step: int) -> None:
        if self.run is not None and values:
            self.guard("logging metrics", lambda: self.run.log(values, step=step))

    def update_summary(self, values: dict) -> None:
        if self.run is not None and values:
            self.guard("writing the summary", lambda: self.run.summary.update(values))

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        """Finish the run if the callback started it; the script's own run stays open."""
        run, self.run = self.run, None
        if run is not None and self.owns_run:
            self.guard("finishing the run", lambda: run.finish(status=status, error=error))


class FailureWarnings:
    """Failures inside an integration's recording: one warning per stage and kind of failure."""

    def __init__(self, integration: str, consequence: str = "training goes on", stacklevel: int = 3):
        self.integration = integration  # named in warnings: "tracker.integrations.xgboost"
        self.consequence = consequence
        self.stacklevel = stacklevel  # of the warning, counted from guard(): the frame to blame
        self._warned: set[tuple[str, str]] = set()

    def guard(self, stage: str, job):
        """``job()``, or None with one warning per stage and kind of failure: training goes on."""
        try:
            return job()
        except Exception as exc:
            cause = (stage, type(exc).__name__)
            if cause not in self._warned:
                self._warned.add(cause)
                warnings.warn(f"{self.integration}: {stage} failed ({type(exc).__name__}: {exc}); "
                              f"{self.consequence}", RuntimeWarning, stacklevel=self.stacklevel)
            return None


def plain_config(params: Mapping) -> dict:
    """Parameters as config values: numbers, text, None and lists of them as they are, mappings as
    nested config (a model's config holds some), anything else as its repr."""
    return {str(key): _plain(value) for key, value in params.items()}


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return plain_config(value)
    if isinstance(value, (list, tuple)) and all(item is None or isinstance(item, (bool, int, float, str))
                                                for item in value):
        return list(value)
    if hasattr(value, "item"):  # NumPy scalars
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    source = plain_source(value)  # an OmegaConf ListConfig, a pydantic model ...: its plain values
    if source is not NOT_A_SOURCE:
        return _plain(source)
    return bounded_repr(value)


def bounded_repr(value) -> str:
    """``repr(value)``, cut to MAX_REPR_CHARS: an object's repr can be a whole dataset."""
    text = repr(value)
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS - 1] + "…"
