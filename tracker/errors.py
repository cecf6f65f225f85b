"""Exceptions raised by tracker.

    TrackerError                 base class of everything below
    ├── UsageError               the calling code misused the API (a fix in the script is needed)
    │   ├── NoActiveRunError     tracker.log()/finish() called before tracker.init()
    │   ├── ArgumentTypeError    an argument is of a type the call cannot take (config="lr=0.1", tags=5)
    │   ├── RunIdError           a run id that cannot name a folder safely (hidden, control characters)
    │   ├── MetricValueError     a logged metric value is not a number
    │   ├── MetricNameError      a logged metric name is not a string
    │   ├── StepError            a step that is not a whole number (1.5, NaN, inf)
    │   ├── NumberTooLargeError  an int too long for JSON readers (over MAX_INT_DIGITS digits)
    │   ├── ConfigValueError     a config or summary value that cannot be stored (circular, too deep)
    │   ├── ArtifactNameError    an artifact name escapes the run folder
    │   ├── RunFinishedError     logging into a run after finish()
    │   ├── MediaValueError      a media object's data has the wrong shape, size or values
    │   └── MediaFileError       a media file is missing, unreadable or of a kind it does not take
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


class ArgumentTypeError(UsageError, TypeError):
    def __init__(self, argument: str, value: object, expected: str):
        self.argument = argument
        self.value = value
        super().__init__(f"{argument} is {type(value).__name__} ({_short_repr(value)}), expected {expected}")


class RunIdError(UsageError, ValueError):
    def __init__(self, run_id: str, reason: str):
        self.run_id = run_id
        super().__init__(f"invalid run id {_short_repr(run_id)}: {reason}; use letters, digits, '-' and '_'")


class MetricNameError(UsageError, TypeError):
    def __init__(self, key: object):
        self.key = key
        super().__init__(f"metric name {_short_repr(key)} is {type(key).__name__}, expected a str")


class StepError(UsageError, ValueError):
    def __init__(self, step: object):
        self.step = step
        super().__init__(f"step {_short_repr(step)} is not a whole number; pass an int, or leave step out "
                         "to count up from the last step")


class NumberTooLargeError(UsageError, ValueError):
    def __init__(self, key: str, digits: int, max_digits: int):
        self.key = key
        self.digits = digits
        super().__init__(f"{key} is an int of {digits:,} digits; JSON readers refuse ints over {max_digits:,} "
                         "digits: store it as a float or a str")


class ConfigValueError(UsageError, ValueError):
    def __init__(self, key: str, value: object, reason: str):
        self.key = key
        self.value = value
        shown = key if len(key) <= 80 else f"{key[:40]}…{key[-39:]}"
        super().__init__(f"{shown} cannot be stored: {reason}")


class MetricValueError(UsageError, TypeError):
    def __init__(self, key: str, value: object):
        self.key = key
        self.value = value
        super().__init__(
            f"metric {key!r} is {type(value).__name__} ({_short_repr(value)}), expected a number; "
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


def _short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises (a broken ``__repr__`` is named instead)."""
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MediaValueError(UsageError, ValueError):
    """A media object (tracker.media) was given data it cannot show: a wrong shape, size or value."""

    def __init__(self, argument: str, problem: str, expected: str):
        self.argument = argument
        super().__init__(f"{argument} {problem}, expected {expected}")


class MediaFileError(UsageError, ValueError):
    """A file passed to a media object is missing, unreadable, or its bytes are not of a kind it takes."""

    def __init__(self, argument: str, path: str, reason: str):
        self.argument = argument
        self.path = path
        super().__init__(f"{argument}: {path}: {reason}")
