"""tracker: log ML runs to plain files, browse them as a static site. See README.md."""
from .errors import TrackerError, UsageError
from .reader import runs
from .run import Run
from .session import finish, init, log

__version__ = "0.1.0"
__all__ = ["Run", "TrackerError", "UsageError", "finish", "init", "log", "runs", "__version__"]
