"""``Video``: an MP4, WebM or GIF file stored as given, its format told by its magic bytes."""
from __future__ import annotations

import os

from .base import Encoded, Media, caption_text, is_path, read_media_file
from .file_kinds import EXTENSIONS, VIDEO_FORMATS, image_size, sniff_format
from ..errors import ArgumentTypeError, MediaFileError

MAX_VIDEO_BYTES = 200 * 1024 * 1024  # one clip; the run's media budget bounds the sum


class Video(Media):
    """``Video(path, caption=None)``: an MP4, WebM or GIF file.

    The call reads the file's first bytes to check its kind; ``encode()`` reads the whole file, so
    like an artifact it must stay in place until the writer has copied it (a video can be large,
    and reading it is no work for the training loop).
    """

    kind = "video"

    def __init__(self, path, caption: str | None = None):
        if not is_path(path):
            raise ArgumentTypeError("path", path, "the path of an MP4, WebM or GIF file")
        self.caption = caption_text("caption", caption)
        self.path = path
        self.shown_path = os.fsdecode(path)
        try:
            with open(path, "rb") as file:
                head = file.read(16)
                size = os.fstat(file.fileno()).st_size
        except OSError as exc:
            raise MediaFileError("path", self.shown_path, exc.strerror or str(exc)) from None
        self.format = sniff_format(head)
        if self.format not in VIDEO_FORMATS:
            raise MediaFileError("path", self.shown_path, f"not an MP4, WebM or GIF file (it starts with {head[:8]!r})")
        if size > MAX_VIDEO_BYTES:
            raise MediaFileError("path", self.shown_path, f"{size:,} bytes, larger than {MAX_VIDEO_BYTES:,}")

    def encode(self) -> Encoded:
        _, data = read_media_file("path", self.path, MAX_VIDEO_BYTES)
        if sniff_format(data[:16]) != self.format:
            raise MediaFileError("path", self.shown_path, f"is no longer the {self.format} file it was when logged")
        fields = {"kind": self.kind, "format": self.format, "caption": self.caption}
        size = image_size(data, "gif") if self.format == "gif" else None
        if size is not None:
            fields["width"], fields["height"] = size
        return Encoded(data, EXTENSIONS[self.format], fields)
