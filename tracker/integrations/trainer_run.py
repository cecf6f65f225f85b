"""The run a trainer's logger records into: metrics of several calls merged per step, the run reopened for what it logs after a fit.

Trainers (Lightning, Hugging Face's Trainer) hand over one step's metrics in several calls: the
training metrics, then validation's, then the epoch's, each with the step they belong to and most
with the epoch again. ``log_step`` gathers them and writes one point per metric and step when the
step moves on (or the run finishes), so no metric gets two points at one step.

A fit that ended well finishes the run the logger started; when the same trainer then tests or
evaluates, the next ``start`` reopens that run (a resume: a writer of its own in the same folder)
rather than starting another, so a fit and its test read as one run.
"""
from __future__ import annotations

from .callback_run import CallbackRun


class TrainerRun(CallbackRun):
    """A CallbackRun whose metrics are merged per step and whose run is reopened after a fit that ended well."""

    def __init__(self, integration: str, init_kwargs: dict):
        super().__init__(integration, init_kwargs)
        self._step = None  # the step whose values are gathered in _values
        self._values: dict = {}
        self._reopen_id = None  # a run of ours finished well: the next start() resumes it

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
        """Add ``values`` to ``step``'s point; the previous step's point is written once the step moves on.
        ``step=None`` (a direct call without one) is written at once, at the run's next step."""
        if step is None or step != self._step:
            self.flush()
        if step is None:
            self.log(dict(values), step=None)
            return
        self._step = step
        self._values.update(values)

    def flush(self) -> None:
        """Write the point gathered so far."""
        values, self._values = self._values, {}
        if values and self._step is not None:
            self.log(values, step=self._step)

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        self.flush()
        self._step = None
        run = self.run
        self._reopen_id = run.id if run is not None and self.owns_run and status == "finished" else None
        super().finish(status=status, error=error)
