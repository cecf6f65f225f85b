"""The run a trainer's logger records into: a value repeated within one step written once, the run reopened for what it logs after a fit.

Trainers (Lightning, Hugging Face's Trainer) hand over one step's metrics in several calls: the
training metrics, then validation's, then the epoch's, each with the step they belong to and most
with the epoch again. ``log_step`` writes each call at once (nothing waits for the next step, so a
crash loses nothing), leaving out what the same step already holds with the same value: the epoch
repeated by every call is one point, while a metric given a new value at the same step (a second
``evaluate()``) is a second point, as it happened.

A fit that ended well finishes the run the logger started; when the same trainer then tests or
evaluates, the next ``start`` reopens that run (a resume: a writer of its own in the same folder)
rather than starting another, so a fit and its test read as one run.
"""
from __future__ import annotations

from .callback_run import CallbackRun


class TrainerRun(CallbackRun):
    """A CallbackRun writing a value repeated within one step once, reopening its run after a fit that ended well."""

    def __init__(self, integration: str, init_kwargs: dict):
        super().__init__(integration, init_kwargs)
        self._step = None  # the step of the last log_step
        self._written: dict = {}  # what that step holds: name -> value
        self._reopen_id = None  # a run of ours finished well: the next start() resumes it
        self.last_id = None  # the id of the run recorded into last, open or finished

    def start(self, config: dict | None = None) -> None:
        if self._reopen_id is None:
            super().start(config)
            return
        fresh_kwargs = self.init_kwargs
        # The first writer captured git, code and environment; the resumed one adds no copy of them.
        self.init_kwargs = {**fresh_kwargs, "id": self._reopen_id, "resume": True, "capture": False}
        try:
            super().start(config)
        finally:
            self.init_kwargs = fresh_kwargs

    def log_step(self, values: dict, step: int | None) -> None:
        """Write ``values`` at ``step``, less those the step already holds with the same value.
        ``step=None`` (a direct call without one) is written as it is, at the run's next step."""
        if step is None or step != self._step:
            self._step, self._written = step, {}
        new = {name: value for name, value in values.items()
               if name not in self._written or not _same(self._written[name], value)}
        if step is not None:
            self._written.update(new)
        self.log(new, step=step)

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        self._step, self._written = None, {}
        run = self.run
        self.last_id = run.id if run is not None else self.last_id
        self._reopen_id = run.id if run is not None and self.owns_run and status == "finished" else None
        super().finish(status=status, error=error)


def _same(old, new) -> bool:
    """Plain numbers that are equal; anything else (a tensor) counts as new."""
    return (type(old) in (int, float) and type(new) in (int, float) and old == new) or old is new
