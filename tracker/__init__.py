"""tracker: log ML runs to plain files, browse them as a static site. See README.md."""
from .errors import TrackerError, UsageError
from .run import Run
from .session import finish, init, log

__version__ = "0.1.0"


def __getattr__(name: str):
    # tracker.runs is the read path (reader, listing cache, filter language, ~40 ms to import): it is
    # imported on first use, so that a training script's `import tracker` does not pay for it.
    if name == "runs":
        from .run_list import runs

        globals()["runs"] = runs
        return runs
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")


__all__ = ["Run", "TrackerError", "UsageError", "finish", "init", "log", "runs", "__version__"]
