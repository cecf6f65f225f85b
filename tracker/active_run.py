"""The active run: the one ``tracker.log()`` and ``tracker.finish()`` act on.

A leaf holding that one piece of state, so that session.py (which sets it in ``init()``) and
run.py (which clears it in ``finish()``) both import it rather than each other.
"""
from __future__ import annotations

_active = None  # the tracker.Run of the latest init() that has not finished


def current():
    """The active run, or None."""
    return _active


def set_current(run) -> None:
    global _active
    _active = run


def forget(run) -> None:
    """Clear the active run if it is ``run`` (a run finishing)."""
    global _active
    if _active is run:
        _active = None
