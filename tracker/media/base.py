"""What every media object shares: the encoded result, content-addressed file names, bounded text.

A media object is made in two steps so that the training loop pays only for a copy: its
constructor checks the arguments cheaply and copies the data it needs (the script may change or
reuse its array, figure or file right after the call), and ``encode()``, run later on the writer
thread, turns that copy into file bytes and the fields of a ``media`` record.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property

from ..errors import ArgumentTypeError, MediaFileError
from ..values import safe_text

MEDIA_FOLDER = "media"  # media files live under <run>/media/<first two hex digits>/<sha256>.<extension>
MAX_CAPTION_CHARS = 1_000  # a caption is a line under an image, not a document
MAX_FILE_BYTES = 100 * 1024 * 1024  # an image or audio file read whole into memory at the call


@dataclass(frozen=True)
class Encoded:
    """One encoded media object: its file's bytes and extension, the fields of its ``media`` record,
    and the further files its own file references (a table's image cells), to be written first."""

    data: bytes
    extension: str
    fields: dict
    attachments: tuple[Encoded, ...] = field(default=())

    @cached_property  # hashed once: a video's bytes can be hundreds of MB
    def file_name(self) -> str:
        """Where the bytes go, relative to the run folder: the same bytes always get the same name."""
        return media_file_name(self.data, self.extension)


class Media:
    """Base class of media objects: ``kind`` names the ``media`` record's kind."""

    kind = "media"

    def encode(self) -> Encoded:
        """The file's bytes and the record's fields; meant for the writer thread, may raise a
        TrackerError (or anything a library raises) that the writer turns into a warning."""
        raise NotImplementedError

    def held_bytes(self) -> int:
        """About how many bytes the object's copy holds until it is encoded: its arrays, bytes and
        text. The writer bounds what waits in its queue by the sum (tracker/media_logging.py)."""
        return sum(map(_held_bytes, getattr(self, "__dict__", {}).values()))  # a subclass may use slots

    def __repr__(self) -> str:
        return f"<tracker.media.{type(self).__name__}>"


def _held_bytes(value) -> int:
    nbytes = getattr(value, "nbytes", None)  # a NumPy array, without importing NumPy
    if type(nbytes) is int:
        return nbytes
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if type(value) is tuple:  # an image or audio file kept as (format, bytes)
        return sum(map(_held_bytes, value))
    return 0


def media_file_name(data: bytes, extension: str) -> str:
    """``media/<sha256[:2]>/<sha256>.<extension>``: content-addressed, so the same bytes logged twice
    are stored once, and two hex digits of fan-out keep a folder of many files listable."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{MEDIA_FOLDER}/{digest[:2]}/{digest}.{extension}"


def bounded_text(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (the last one then "…"), made encodable as UTF-8; and
    whether it was cut. Nothing is stripped or escaped: the page shows text as text."""
    text = safe_text(text)
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "…", True


def caption_text(argument: str, caption: object) -> str | None:
    """A caption as stored: None, or a str bounded to MAX_CAPTION_CHARS; anything else is refused."""
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise ArgumentTypeError(argument, caption, "a str or None")
    return bounded_text(caption, MAX_CAPTION_CHARS)[0]


def is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


def read_media_file(argument: str, path: str | os.PathLike, limit: int = MAX_FILE_BYTES) -> tuple[str, bytes]:
    """The shown path and the whole content of a media file, or MediaFileError naming the argument."""
    shown = os.fsdecode(path)
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise MediaFileError(argument, shown, exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise MediaFileError(argument, shown, f"larger than {limit:,} bytes; log a smaller file")
    return shown, data


def module_of(value: object) -> str:
    """The top-level module of ``value``'s type ("numpy", "PIL", "plotly"...): how optional libraries
    are recognised without importing them."""
    return type(value).__module__.partition(".")[0]
