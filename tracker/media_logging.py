"""Media objects on their way from ``log()`` to the writer: found among the values, queued with their step.

``run.log({"val/samples": tracker.Image(x), "loss": 0.3})`` takes the W&B habit: a media object,
or a list of them, beside the numbers. ``log()`` looks for them only on its slow path (when the
values are not all plain numbers of known names), so plain-number logging pays nothing for them.
Each object is queued as a ``QueuedMedia``; the writer thread encodes it and stores its files
(tracker/media_files.py), never the training loop.

No media module is imported here: loading tracker.media.base costs about 15 ms (dataclasses,
hashlib), which a script that logs only numbers must not pay at ``tracker.init``.
"""
from __future__ import annotations

import sys

from .errors import ArgumentTypeError

_MEDIA_MODULE = "tracker.media.base"


class QueuedMedia:
    """One media object waiting for the writer: the record's key, step, time and place in its list."""

    __slots__ = ("key", "step", "time", "index", "media", "held_bytes")

    def __init__(self, key: str, step: int, wall_time: float, index: int, media):
        self.key = key
        self.step = step
        self.time = wall_time
        self.index = index
        self.media = media
        self.held_bytes = media.held_bytes()


def loaded_media_class():
    """``tracker.media.base.Media``, or None while that module is not loaded: a media object cannot
    exist before its class's module is, so log() learns whether one may be among its values without
    importing anything."""
    module = sys.modules.get(_MEDIA_MODULE)
    return None if module is None else module.Media


def media_objects(argument: str, value, media_class) -> list | None:
    """The media objects ``value`` holds: ``[value]`` for one, the list for a list (or tuple) of them;
    None when it holds none (a number, or a list of anything else: the caller's own error says so).
    A list that mixes media with other values is refused, naming the item at fault."""
    if isinstance(value, media_class):
        return [value]
    if type(value) not in (list, tuple) or not value or not isinstance(value[0], media_class):
        return None
    for index, item in enumerate(value):
        if not isinstance(item, media_class):
            raise ArgumentTypeError(f"{argument}[{index}]", item, "a media object, as the list's first item is")
    return list(value)


def checked_media(argument: str, value) -> list:
    """``media_objects`` for the explicit methods (``run.log_media``), where anything else is misuse."""
    media_class = loaded_media_class()
    objects = media_objects(argument, value, media_class) if media_class is not None else None
    if objects is None:
        raise ArgumentTypeError(argument, value, "a media object (tracker.Image, tracker.Table...) or a list of them")
    return objects
