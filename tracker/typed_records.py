"""Metrics records decoded and checked in one pass by msgspec's typed decoding, a chunk's stretch at a time.

A run's events file is mostly metrics records, one per step, between a few head records (run,
start, config) and a few tail ones (git, end). ``metrics_stretch`` takes the lines of a chunk
from the first line that starts as the writer starts a metrics record to the end of the last one
and decodes them as a list of msgspec Structs whose types are record_schema's test for a good
metrics record (good_point): a step that is an int, a time that is a number within
[0, MAX_UNIX_TIME_S], values that are plain ints and floats, nothing else. Decoding and checking
then happen in C, and the stretch comes back as parallel columns.

A training loop logs the same keys at every step, so the stretch is first decoded with the keys
of its first record as the fields of a Struct (one decoder per key set, kept): every record must
then hold exactly those keys, and each key's values come out as a column without a dict per
record (about half the decode and fold of dicts). A stretch whose key sets differ is decoded with
values as dicts instead. The columns follow the first record's key order; a record that holds the
same keys in another order gives the same columns (its values are taken by name).

Anything else in between (a system record, a "NaN" marker, a bool, an extra field, a lone
surrogate) makes msgspec refuse the stretch and the caller parses the chunk as before
(event_lines.parse_lines), so every record and every problem stays what json alone would make of
the same bytes. What the Struct takes, json reads alike: the last of duplicate keys, the same
ints and floats, the same text (tests/test_typed_records.py pins the two).

msgspec is imported on the first call, never by ``import tracker`` or ``log()``; a light install
without it gets None for every chunk.
"""
from __future__ import annotations

from typing import NamedTuple

from .record_schema import MAX_UNIX_TIME_S

# How the writer starts a metrics line (line_encoding.METRICS_PREFIX, not imported: the reader
# reaches no module of the logging client): only lines that start so can open or close a
# stretch, which keeps the head and tail records out of it without a parse.
METRICS_LINE_START = b'{"type":"metrics","step":'
MIN_STRETCH_LINES = 8  # a shorter stretch costs more to cut out than its typed decode saves

_decode = None  # msgspec's decoder of metrics lines (a record a line) once built; False without msgspec
_msgspec = None  # the module, once _decode is built
_keyed_decoders: dict[tuple, object] = {}  # a decoder of metrics lines per key set of values
MAX_KEYED_DECODERS = 256  # key sets seen in one process (a build worker reads many runs of few key sets)


class MetricsStretch(NamedTuple):
    """Consecutive good metrics records of a chunk, as columns: the bytes ``lines[start:end]``."""
    start: int
    end: int
    numbers: range       # the 1-based line number of each record
    steps: list
    times: list
    values: list | None  # each record's values dict, keys in the order written; None when keyed:
    keys: tuple = ()     # when every record holds these keys (and no other):
    columns: tuple = ()  # the values of each key, a list per key


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
    # Decoded a line at a time, where a copy with each newline made a comma decoded as one array
    # (two copies of the chunk): a blank line, which the array refused, is skipped, and the count
    # below refuses the stretch then
    stretch = memoryview(lines)[start:end]
    keys = _first_keys(lines, start)
    if keys is None:  # its first record is not one the typed decode takes: nor is the stretch
        return None
    records = None
    if keys:
        try:
            records = _keyed_decoder(keys)(stretch)
        except (ValueError, RecursionError):  # msgspec.DecodeError and ValidationError are ValueErrors
            pass
    if records is None:  # the key sets differ (or a record is bad): values as dicts
        keys = ()
        try:
            records = decode(stretch)
        except (ValueError, RecursionError):
            return None
    if len(records) != count:  # a blank line in between: json refuses it
        return None
    astuple = _msgspec.structs.astuple
    steps, times, values = map(list, zip(*map(astuple, records)))  # one pass, where a getter a field took three
    if not (0 <= min(times) and max(times) <= MAX_UNIX_TIME_S):
        return None
    first = first_line + head_count
    if not keys:
        return MetricsStretch(start, end, range(first, first + count), steps, times, values)
    # each record's values as a tuple, transposed: a third cheaper than an attrgetter pass per key
    columns = tuple(map(list, zip(*map(astuple, values))))
    return MetricsStretch(start, end, range(first, first + count), steps, times, None, keys, columns)


def _first_keys(lines: bytes, start: int) -> tuple | None:
    """The keys of the first record's values, when that record decodes typed."""
    try:
        (record,) = _decode(memoryview(lines)[start:lines.find(b"\n", start)])
    except (ValueError, RecursionError):
        return None
    return tuple(record.values)


def _keyed_decoder(keys: tuple):
    """A decoder of metrics lines whose values hold exactly ``keys``, as a list of Structs."""
    decoder = _keyed_decoders.get(keys)
    if decoder is None:
        msgspec = _msgspec
        fields = [(f"f{index}", int | float) for index in range(len(keys))]  # keys need not be identifiers
        values = msgspec.defstruct("Values", fields, rename={f"f{index}": key for index, key in enumerate(keys)},
                                   forbid_unknown_fields=True, gc=False)
        record = msgspec.defstruct("Metrics", [("step", int), ("time", int | float), ("values", values)],
                                   tag_field="type", tag="metrics", forbid_unknown_fields=True, gc=False)
        if len(_keyed_decoders) >= MAX_KEYED_DECODERS:
            _keyed_decoders.clear()
        decoder = _keyed_decoders[keys] = msgspec.json.Decoder(record).decode_lines
    return decoder


def _load_decoder():
    global _decode, _msgspec
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

    _msgspec = msgspec
    _decode = msgspec.json.Decoder(Metrics).decode_lines
    return _decode
