"""Parsing a JSON-lines file a chunk at a time, whatever its bytes.

``record_chunks(path, problems)`` yields ``(records, line_numbers)`` for each chunk of about
CHUNK_BYTES: the JSON objects of its complete lines and the 1-based line number of each. Memory
is one chunk (plus the longest line), never the whole file. Every line that is not a JSON object
becomes a problem naming the file and line: invalid UTF-8, a UTF-16 file, corrupt JSON, JSON
nested too deep to parse, a torn last line. Only regular files are opened: a FIFO or device
named like an events file would block the reader forever.

Lines are decoded by msgspec where it is installed and gives what json gives (fast_json.py), and
by json wherever it might not, at the same place json always decoded them: every record and
every problem is what json alone would make of the same bytes.
"""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence

from .fast_json import decode_fast
from .problems import Problems

CHUNK_BYTES = 1 << 20  # about 2,000 records of 20 metrics: parsed, they take a few MB
MAX_LINE_BYTES = 256 << 20  # a longer line is skipped unread, not held in memory
# Byte-order marks of UTF-16/32. Such a file (or one whose first bytes mix NULs and text, as
# UTF-16 without a mark does) is reported once, not line by line.
WIDE_TEXT_STARTS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_DICT_ONLY = {dict}


class NotRegularFile(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket, a folder)."""


def open_regular(path: str):
    """Open ``path`` for reading in binary, refusing anything but a regular file without blocking
    (O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFile(f"not a regular file: {path}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def record_chunks(path: str, problems: Problems) -> Iterator[tuple[list[dict], Sequence[int]]]:
    """The JSON-object records of ``path``, chunk by chunk, with their line numbers."""
    for lines, first_line, count, torn_tail in line_chunks(path, problems):
        yield parse_lines(lines, first_line, path, problems, torn_tail, count)


def line_chunks(path: str, problems: Problems) -> Iterator[tuple[bytes, int, int, bool]]:
    """``(lines, first_line, count, torn_tail)`` for each chunk of ``path``: complete lines ending
    with a newline, the 1-based number of the first, how many, and whether the last is a torn one
    given its newline here. Unreadable text and over-long lines are problems, as in record_chunks."""
    with open_regular(path) as handle:
        first = handle.read(CHUNK_BYTES)
        if first.startswith(WIDE_TEXT_STARTS) or (b"\x00" in first[:4] and first[:4].strip(b"\x00")):
            problems.add(f"{path}:1: not UTF-8 text (UTF-16 or UTF-32?); file skipped")
            return
        carry, next_line, skipping_long_line = b"", 1, False
        data = first
        while data:
            buffer = carry + data if carry else data
            cut = buffer.rfind(b"\n")
            if cut < 0:
                carry = buffer
                if len(carry) > MAX_LINE_BYTES:
                    if not skipping_long_line:
                        problems.add(f"{path}:{next_line}: line longer than {MAX_LINE_BYTES >> 20} MiB; skipped")
                    carry, skipping_long_line = b"", True
                data = handle.read(CHUNK_BYTES)
                continue
            complete, carry = buffer[:cut + 1], buffer[cut + 1:]
            if skipping_long_line:  # the rest of the over-long line ends at the first newline
                first_end = complete.find(b"\n")
                complete, skipping_long_line = complete[first_end + 1:], False
                next_line += 1
            if complete:
                count = complete.count(b"\n")  # once: a chunk's lines are counted at 1-2 GB/s
                yield complete, next_line, count, False
                next_line += count
            data = handle.read(CHUNK_BYTES)
        if carry and not skipping_long_line:
            # No newline at the end: a writer stopped mid-line, or a file written by hand.
            yield carry + b"\n", next_line, 1, True


def parse_lines(lines: bytes, first_line: int, path: str, problems: Problems,
                torn_tail: bool = False, count: int | None = None) -> tuple[list[dict], Sequence[int]]:
    """The JSON-object records of complete lines (``lines`` ends with a newline) and their line
    numbers, counting from ``first_line``; every bad line is a problem naming ``path`` and its line.
    ``count``: how many lines, when the caller has counted them."""
    if count is None:
        count = lines.count(b"\n")
    # One parse of the chunk as a JSON array is several times faster than one per line. A
    # blank, corrupt or non-UTF-8 line makes it fail, or a line holding two values makes the
    # count differ; then the lines are parsed one by one to name the bad ones.
    array = bytearray(b"[")
    array += lines.replace(b"\n", b",")
    array[-1] = 0x5D  # the last line's "," becomes the "]" that closes the array
    records = decode_fast(array)
    if records is None:  # msgspec refused a line json may take (a lone surrogate, NaN): json decides
        try:
            records = json.loads(array)
        except (ValueError, RecursionError):
            records = None
    if records is not None and len(records) == count and set(map(type, records)) == _DICT_ONLY:
        return records, range(first_line, first_line + count)
    good, numbers = [], []
    for offset, line in enumerate(lines[:-1].split(b"\n")):
        number = first_line + offset
        record = _parse_line(line, f"{path}:{number}", problems, torn_tail and offset == count - 1)
        if record is not None:
            good.append(record)
            numbers.append(number)
    return good, numbers


def _parse_line(line: bytes, where: str, problems: Problems, torn: bool) -> dict | None:
    if not line.strip():
        return None
    record = decode_fast(line)  # msgspec takes strict UTF-8 only: what it decodes, json reads alike
    if record is None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(f"{where}: not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); skipped")
            return None
        try:
            record = json.loads(text)
        except RecursionError:
            problems.add(f"{where}: JSON nested too deep to parse; skipped")
            return None
        except ValueError as exc:
            if torn:
                problems.add(f"{where}: torn last line (the writer stopped mid-write); skipped")
            else:
                problems.add(f"{where}: corrupt line ({getattr(exc, 'msg', None) or exc}); skipped")
            return None
    if type(record) is not dict:
        problems.add(f"{where}: not a JSON object; skipped")
        return None
    return record
