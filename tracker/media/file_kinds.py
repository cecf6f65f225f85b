"""What a media file is, from its first bytes (never its name), and an image's size from its header.

Formats are told apart by their magic bytes, so a JPEG saved as ``cat.png`` is stored and shown
as a JPEG, and a file that is none of the kinds a media object takes is refused at the call.
"""
from __future__ import annotations

import struct

IMAGE_FORMATS = ("png", "jpeg", "webp", "gif")
AUDIO_FORMATS = ("wav", "mp3", "ogg", "flac")
VIDEO_FORMATS = ("mp4", "webm", "gif")
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "wav": "wav", "mp3": "mp3",
              "ogg": "ogg", "flac": "flac", "mp4": "mp4", "webm": "webm"}


def sniff_format(head: bytes) -> str | None:
    """The format of a file whose first bytes (at least 12) are ``head``, or None if none we know."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM (and Matroska, which browsers play alike)
        return "webm"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    return None


def image_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """``(width, height)`` read from an image file's header, or None when the header is cut short
    or malformed (the file is then refused: a browser could not show it either)."""
    try:
        if kind == "png":
            width, height = struct.unpack(">II", data[16:24])
            return (width, height) if data[12:16] == b"IHDR" else None
        if kind == "gif":
            return struct.unpack("<HH", data[6:10])
        if kind == "jpeg":
            return _jpeg_size(data)
        if kind == "webp":
            return _webp_size(data)
    except (struct.error, IndexError):
        return None
    return None


# JPEG frame headers (SOF0-SOF15) that carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: a key frame's start code, then 14-bit width and height
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: a signature byte, then 14-bit width-1 and height-1
        if data[20] != 0x2F:
            return None
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit canvas width-1 and height-1
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None
