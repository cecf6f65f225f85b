"""Calls of another tracker's API that have no equivalent here: an error, or one warning per call.

A script moved over by changing its import line must never lose data without a word: a call
that cannot do anything useful raises ``NotMappedError`` naming it, and a call whose effect
can be dropped safely (a server login, gradient watching) warns once, saying what happens.
"""
from __future__ import annotations

import threading
import warnings

from ..errors import UsageError

_warned: set[str] = set()
_warned_lock = threading.Lock()


class NotMappedError(UsageError, AttributeError):
    """A call of another tracker's API that tracker.compat does not provide; the message says what to use.

    An AttributeError too, so ``hasattr(mlflow, "log_model")`` answers False as for any missing name.
    """

    def __init__(self, call: str, advice: str):
        self.call = call
        super().__init__(f"{call} is not provided by tracker's drop-in API: {advice}")


def warn_once(call: str, consequence: str, stacklevel: int = 3) -> None:
    """Warn about ``call`` the first time it is made in this process; ``consequence`` says what happens."""
    with _warned_lock:
        if call in _warned:
            return
        _warned.add(call)
    warnings.warn(f"tracker.compat: {call}: {consequence}", RuntimeWarning, stacklevel=stacklevel)


def unknown_name(module: str, name: str, advice: str) -> NotMappedError:
    """The error for ``module.name`` when a script uses a part of the API that is not mapped."""
    return NotMappedError(f"{module}.{name}", advice)
