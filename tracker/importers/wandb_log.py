"""The records of a W&B ``.wandb`` file: its LevelDB-log framing undone, each record parsed with wandb's protobuf classes.

wandb 0.2x read these files in Python (``wandb.sdk.internal.datastore``); since the Go core took
over (0.31 ships no Python reader) only the record classes (``wandb.proto``) remain in the
package, so the framing is undone here, as that module did:

- a 7-byte file header: ``:W&B``, the magic 0xBEE1 (little-endian), a version byte (0);
- then 32 KiB blocks, each a run of chunks: a 7-byte chunk header (CRC-32 of the chunk's type
  byte and data, little-endian; the data's length, 2 bytes; its type: 1 full, 2 first, 3 middle,
  4 last) and the data. A record longer than a block's room is split into first/middle/last
  chunks; a block's last 6 bytes or fewer, too few for a header, are zero padding.

A file whose writer was killed ends mid-chunk; a chunk whose CRC does not match is damage. Either
way the records before it are kept and the rest of its block is passed over (LevelDB's own rule),
and what was lost is said in ``LogDamage`` messages, never raised.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

FILE_HEADER = struct.Struct("<4sHB")  # ident, magic, version
FILE_IDENT = b":W&B"
FILE_MAGIC = 0xBEE1
CHUNK_HEADER = struct.Struct("<IHB")  # crc32, data length, chunk type
BLOCK_BYTES = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class NotAWandbFile(ValueError):
    """The file does not start with a ``.wandb`` header."""

    def __init__(self, path: Path, start: bytes):
        self.path = path
        super().__init__(f"{path}: not a .wandb file (it starts with {start[:8]!r}, expected {FILE_IDENT!r})")


@dataclass
class LogDamage:
    """What reading the file had to pass over, in words, one message per place."""

    messages: list[str] = field(default_factory=list)

    def add(self, path: Path, offset: int, what: str) -> None:
        self.messages.append(f"{path.name} at byte {offset:,}: {what}")


def read_record_bytes(path: Path, damage: LogDamage) -> list[bytes]:
    """Every whole record of the file, as the bytes of one serialized ``wandb.proto`` Record each."""
    data = path.read_bytes()
    if len(data) < FILE_HEADER.size:
        raise NotAWandbFile(path, data)
    ident, magic, _version = FILE_HEADER.unpack_from(data)
    if ident != FILE_IDENT or magic != FILE_MAGIC:
        raise NotAWandbFile(path, data)
    records: list[bytes] = []
    pending: list[bytes] | None = None  # the chunks of a record split across blocks
    offset = FILE_HEADER.size
    while offset < len(data):
        room = BLOCK_BYTES - offset % BLOCK_BYTES
        if room < CHUNK_HEADER.size:  # zero padding at a block's end
            offset += room
            continue
        if offset + CHUNK_HEADER.size > len(data):
            damage.add(path, offset, "the file ends inside a chunk header (its writer stopped mid-write)")
            break
        crc, length, kind = CHUNK_HEADER.unpack_from(data, offset)
        start, end = offset + CHUNK_HEADER.size, offset + CHUNK_HEADER.size + length
        if end > len(data):
            damage.add(path, offset, f"the file ends inside a record's data ({len(data) - start:,} of "
                                     f"{length:,} bytes; its writer stopped mid-write)")
            break
        if crc == length == kind == 0 and not any(data[offset:offset + room]):
            offset += room  # a block's unused rest, zeroed (a preallocated or padded file)
            continue
        chunk = data[start:end]
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc or kind not in (FULL, FIRST, MIDDLE, LAST):
            damage.add(path, offset, "a chunk whose checksum or type is wrong; passed over the rest of its "
                                     f"{BLOCK_BYTES // 1024} KiB block")
            pending = None
            offset += room
            continue
        offset = end
        if kind == FULL:
            records.append(chunk)
        elif kind == FIRST:
            pending = [chunk]
        elif pending is None:  # a middle or last chunk whose first was lost to damage
            damage.add(path, start, "the rest of a record whose start was lost; passed over")
        elif kind == MIDDLE:
            pending.append(chunk)
        else:
            records.append(b"".join([*pending, chunk]))
            pending = None
    if pending is not None:
        damage.add(path, len(data), "the file ends inside a record split across blocks (its writer stopped "
                                    "mid-write)")
    return records
