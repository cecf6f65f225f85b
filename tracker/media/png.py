"""PNG files from raw pixels with zlib alone, so logging an image array needs no Pillow.

Grayscale, grayscale with alpha, RGB and RGBA, 8 bits per channel, no interlacing: the chunks are
IHDR, one IDAT and IEND, each with its CRC-32 (zlib.crc32), as the PNG specification lays out.
"""
from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)
COMPRESSION_LEVEL = 6  # zlib's default: most of level 9's size at a fraction of its time


def encode_png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """A PNG file of ``pixels``: ``height`` rows of ``width`` x ``channels`` bytes, top row first."""
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(f"{len(pixels)} bytes of pixels for a {width}x{height}x{channels} image")
    # Each row is preceded by its filter type; 0 (None) keeps encoding a single pass of zlib.
    rows = b"".join(b"\x00" + pixels[at:at + stride] for at in range(0, len(pixels), stride))
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPES[channels], 0, 0, 0)
    return b"".join((SIGNATURE, _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(rows, COMPRESSION_LEVEL)), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
