"""Alerts from a script (``run.alert``): the checked, bounded alert record and the event its notifiers get.

Misuse (a title that is not text, an unknown level) raises at the call. Title and text are made
storable and redacted like every logged string, and cut to MAX_TITLE_CHARS and MAX_TEXT_CHARS:
an alert is a message for a person, and its text travels to chat and email as it is.
"""
from __future__ import annotations

import time

from .errors import ArgumentTypeError, UsageError
from .inputs import clean_text
from .notify.event import LEVELS, Event

MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 4_000
CUT_MARK = " [...]"


def alert_record(title, text, level, step: int) -> dict:
    """The ``alert`` record of a ``run.alert(title, text, level)`` call at the run's ``step``
    (below 0: none logged yet, left out)."""
    if level not in LEVELS:
        raise UsageError(f"alert() level {level!r} is not one of {', '.join(map(repr, LEVELS))}")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ArgumentTypeError("alert() text", text, "a str")
    record = {"type": "alert", "time": time.time(), "level": level,
              "title": _bounded(clean_text("alert() title", title), MAX_TITLE_CHARS),
              "text": _bounded(clean_text("alert() text", text), MAX_TEXT_CHARS)}
    if step >= 0:
        record["step"] = step
    return record


def alert_event(run, record: dict) -> Event:
    """The notification of ``run``'s alert ``record``."""
    return Event(kind="alert", level=record["level"], title=record["title"], text=record["text"],
                 run_id=run.id, run_name=run.name, project=run.project, group=run.group,
                 step=record.get("step"), time=record["time"])


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - len(CUT_MARK)] + CUT_MARK
