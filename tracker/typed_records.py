"""Metrics records decoded and checked in one pass by msgspec's typed decoding, a chunk's stretch at a time.

A run's events file is mostly metrics records, one per step, between a few head records (run,
start, config) and a few tail ones (git, end). ``metrics_stretch`` takes the lines of a chunk
from the first line that starts as the writer starts a metrics record to the end of the last one
and decodes them as a list of msgspec Structs whose types are record_schema's test for a good
metrics record (good_point): a step that is an int, a time that is a number within
[0, MAX_UNIX_TIME_S], values that are plain ints and floats, nothing else. Decoding and checking
then happen in C, without a dict per record, and the stretch comes back as parallel columns.

Anything else in between (a system record, a "NaN" marker, a bool, an extra field, a lone
surrogate) makes msgspec refuse the stretch and the caller parses the chunk as before
(event_lines.parse_lines), so every record and every problem stays what json alone would make of
the same bytes. What the Struct takes, json reads alike: the last of duplicate keys, the same
ints and floats, the same text (tests/test_typed_records.py pins the two).

msgspec is imported on the first call, never by ``import tracker`` or ``log()``; a light install
without it gets None for every chunk.
"""
from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from .record_schema import MAX_UNIX_TIME_S

# How the writer starts a metrics line (line_encoding.METRICS_PREFIX, not imported: the reader
# reaches no module of the logging client): only lines that start so can open or close a
# stretch, which keeps the head and tail records out of it without a parse.
METRICS_LINE_START = b'{"type":"metrics","step":'
MIN_STRETCH_LINES = 8  # a shorter stretch costs more to cut out than its typed decode saves
_STEP, _TIME, _VALUES = attrgetter("step"), attrgetter("time"), attrgetter("values")

_decode = None  # msgspec's decoder of a list of metrics records once built; False without msgspec


class MetricsStretch(NamedTuple):
    """Consecutive good metrics records of a chunk, as columns: the bytes ``lines[start:end]``."""
    start: int
    end: int
    numbers: range       # the 1-based line number of each record
    steps: list
    times: list
    values: list         # each record's values dict, keys in the order written


def metrics_stretch(lines: bytes, first_line: int, line_count: int) -> MetricsStretch | None:
    """The stretch of good metrics records in ``lines`` (``line_count`` complete lines, numbered
    from ``first_line``), or None when there is none to take: then parse the lines as usual."""
    start = lines.find(METRICS_LINE_START)
    if start < 0 or (start and lines[start - 1] != 0x0A):
        return None
    last = lines.rfind(b"\n" + METRICS_LINE_START)
    if last < start:
        return None
    end = lines.find(b"\n", last + 1) + 1
    head_count = lines.count(b"\n", 0, start)  # the few lines around the stretch, not the stretch
    count = line_count - head_count - lines.count(b"\n", end)
    if count < MIN_STRETCH_LINES:
        return None
    decode = _decode if _decode is not None else _load_decoder()
    if decode is False:
        return None
    array = bytearray(b"[")
    array += lines[start:end].replace(b"\n", b",")
    array[-1] = 0x5D  # the last line's "," becomes the "]" that closes the array
    try:
        records = decode(array)
    except (ValueError, RecursionError):  # msgspec.DecodeError and ValidationError are ValueErrors
        return None
    if len(records) != count:  # a line of two records joined by a comma: json refuses that line
        return None
    times = list(map(_TIME, records))
    if not (0 <= min(times) and max(times) <= MAX_UNIX_TIME_S):
        return None
    first = first_line + head_count
    return MetricsStretch(start, end, range(first, first + count), list(map(_STEP, records)), times,
                          list(map(_VALUES, records)))


def _load_decoder():
    global _decode
    try:
        # Imported here: only readers decode, and a training script must not pay for the import.
        import msgspec
    except ImportError:
        _decode = False
        return _decode

    # gc=False: a record holds numbers and a dict of numbers, never a cycle, so the collector need
    # not track the thousand a chunk decodes (about 4% of the decode)
    class Metrics(msgspec.Struct, tag_field="type", tag="metrics", forbid_unknown_fields=True, gc=False):
        step: int
        time: int | float
        values: dict[str, int | float]

    _decode = msgspec.json.Decoder(list[Metrics]).decode
    return _decode
