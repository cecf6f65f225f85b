"""Exceptions raised by tracker.

    TrackerError                 base class of everything below
    ├── UsageError               the calling code misused the API (a fix in the script is needed)
    │   ├── NoActiveRunError     tracker.log()/finish() called before tracker.init()
    │   ├── MetricValueError     a logged metric value is not a number
    │   ├── ArtifactNameError    an artifact name escapes the run folder
    │   └── RunFinishedError     logging into a run after finish()
    ├── RunDirError              the runs folder cannot be created or written at init()
    ├── RunNotFoundError         no run matches an id, id prefix or name
    └── RunFormatError           a run folder cannot be read at all

Trouble in the environment *during* a run (a full disk, a vanished folder) is never raised:
it becomes a one-time warning so training goes on.
"""


class TrackerError(Exception):
    """Base class of all tracker errors."""


class UsageError(TrackerError):
    """The calling code used the API wrongly; the message says the fix."""


class NoActiveRunError(UsageError):
    def __init__(self, function: str):
        self.function = function
        super().__init__(f"Call tracker.init() before tracker.{function}()")


class MetricValueError(UsageError, TypeError):
    def __init__(self, key: str, value: object):
        self.key = key
        self.value = value
        super().__init__(
            f"metric {key!r} is {type(value).__name__} ({value!r:.60}), expected a number; "
            "log text with run.summary or run.config instead"
        )


class ArtifactNameError(UsageError, ValueError):
    def __init__(self, name: str, reason: str):
        self.name = name
        super().__init__(f"invalid artifact name {name!r}: {reason}")


class RunFinishedError(UsageError):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"run {run_id} is finished; start a new run or resume it with tracker.init(id=..., resume=True)")


class RunDirError(TrackerError, OSError):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"cannot write runs folder {path}: {reason}")


class RunNotFoundError(TrackerError, LookupError):
    def __init__(self, query: str, root: str, candidates: list[str] | None = None):
        self.query = query
        self.candidates = candidates or []
        if self.candidates:
            shown = ", ".join(self.candidates[:5])
            message = f"{query!r} matches {len(self.candidates)} runs in {root} ({shown}); give more of the id"
        else:
            message = f"no run with id, id prefix or name {query!r} in {root}"
        super().__init__(message)


class RunFormatError(TrackerError, ValueError):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"{path}: {reason}")
