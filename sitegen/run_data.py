"""A run's data file: its metric histories, columnar, as JSON text (the shape run-data.js reads).

Pure: RunSource -> str. Run data is most of a site's bytes and a large part of a cold build's
work, so each column is packed the cheapest way that keeps what a chart and the CSV download need
(bench/bench_site_size.py measured the options):
- values as base64 of little-endian float32 (IEEE 754: NaN and the infinities are themselves, no
  markers): about 7 significant digits, what a GPU computes metrics in, 5.3 characters a value
  where "%.10g" text took about 13 and msgspec's shortest repr about 19, and packed in C (tens of
  microseconds where formatting text took a millisecond a run). A series float32 would change
  beyond its rounding (an int past 2**24, a value out of its range) is float64 instead;
- steps as [first, count, stride] when they are first + k * stride, else every step;
- the wall-time axis, which the metrics logged by one log() call share, stored once per distinct
  axis ("timeAxes") and named by index from each series, as whole milliseconds: the first since
  the run was created, each next one since the previous timed point (short numbers however long
  the run), null where a point has no time.

    {"id", "name", "created", "timeAxes": [[ms since created, ms since the previous, ...], ...],
     "metrics": {name: {"values": "<base64>", "valueBits": 32 | 64, "times": <axis index>,
                        "stepRange": [first, count, stride]  or  "steps": [int],
                        "count": <points logged>  (only when the series was reduced while reading)}},
     "system": {...same...},
     "code": {"commit", "branch"}  (only for a run without a code file: code_data.py)}
"""
from __future__ import annotations

import base64
import struct
from itertools import repeat
from operator import mul, sub

from msgspec.json import Encoder

from .load import RunSource
from .render import script_json

FLOAT32_MAX_EXACT_INT = 2 ** 24  # past it float32 rounds whole numbers, which a counter would show
FLOAT32_MAX = 3.4028234663852886e38  # past it (rounded) array("f") stores an infinity
FLOAT32_MIN_NORMAL = 1.1754943508222875e-38  # below it float32 loses precision, then rounds to zero
_INTS, _NUMBERS, _FLOATS = {int}, {int, float}, {float}
# a list of ints as JSON text, the same as "%d" joined with commas, in a tenth of the time
_ints_json = Encoder().encode


def run_data_json(source: RunSource, code: dict | None = None) -> str:
    """The JSON text of one run's data file; ``code``: its commit and branch when the run has no
    code file (code_data.commit_only)."""
    run = source.run
    origin = run.created
    axis_texts: list[str] = []
    axis_index = SameColumns(lambda times: axis_texts.append(times_json(times, origin)) or len(axis_texts) - 1)
    steps_text = SameColumns(steps_json)

    def series_group(histories: dict) -> str:
        parts = []
        for name, history in histories.items():
            text, bits = packed_values(history.values)
            part = (f'{script_json(name)}:{{"values":"{text}","valueBits":{bits},'
                    f'"times":{axis_index(history.times)},{steps_text(history.steps)}')
            if history.count > len(history):
                part += f',"count":{history.count}'
            parts.append(part + "}")
        return "{" + ",".join(parts) + "}"

    metrics = series_group(run.histories)
    system = series_group(run.system)
    head = script_json({"id": run.id, "name": run.name, "created": run.created})[:-1]
    tail = "" if code is None else f',"code":{script_json(code)}'
    return f'{head},"timeAxes":[{",".join(axis_texts)}],"metrics":{metrics},"system":{system}{tail}}}'


class SameColumns:
    """``make(column)`` once per distinct column: the metrics one log() call logged share their
    steps and times, as lists of the same objects, so an equal column is found by comparing
    pointers (list equality tests identity first) where a tuple of it as a key hashed every
    float of it again."""

    def __init__(self, make):
        self.make = make
        self.made: dict[tuple, list[tuple[list, object]]] = {}  # (length, first, last) -> [(column, result)]

    def __call__(self, column: list):
        # The reader's steps are ints (or None) and its times numbers (or None), so columns that
        # compare equal make the same text; anything unhashable is made on its own.
        key = (len(column), column[0], column[-1]) if column else (0, None, None)
        try:
            same_ends = self.made.setdefault(key, [])
        except TypeError:
            return self.make(column)
        for earlier, result in same_ends:
            if earlier == column:
                return result
        result = self.make(column)
        same_ends.append((column, result))
        return result


def packed_values(values: list) -> tuple[str, int]:
    """(base64 of the values as little-endian floats, 32 or 64 bits): anything logged that is not
    a number (a bool, a string) becomes NaN, shown as such, never dropped."""
    types = list(map(type, values))
    # all floats, the usual column: counted by identity in C, a third cheaper than a set of the types
    kinds = _FLOATS if types.count(float) == len(types) else set(types)
    if not kinds <= _NUMBERS:
        values = [value if type(value) in _NUMBERS else float("nan") for value in values]
    has_ints = int in kinds
    if not has_ints or max(abs(value) for value in values if type(value) is int) <= FLOAT32_MAX_EXACT_INT:
        try:
            # struct packs in C at a quarter of array("f")'s time, and refuses (OverflowError) a
            # value that float32 would make an infinity, which array("f") makes without a word
            packed = struct.pack(f"<{len(values)}f", *values)
        except OverflowError:
            packed = None
        if packed is not None and (_well_inside_float32(packed) or _float32_keeps(values)):
            return base64.b64encode(packed).decode("ascii"), 32
    try:
        packed = struct.pack(f"<{len(values)}d", *values)
    except struct.error:  # an int past the largest float: an infinity, as JSON.parse read it before
        packed = struct.pack(f"<{len(values)}d", *map(_float_or_infinity, values))
    return base64.b64encode(packed).decode("ascii"), 64


def _well_inside_float32(packed: bytes) -> bool:
    """Whether every float32 of ``packed`` has an exponent field of 2 to 253: a magnitude from
    2**-125 to under 2**127, inside float32's normal range with room on both sides, so (rounding
    keeps order) each value it was packed from lies in that range too. Checked in C on each
    float's high byte, its sign and the exponent's top 7 bits: 0 or 127 there means an exponent
    of 0-1 (zero, subnormal, the smallest normals) or 254-255 (the largest, infinities, NaN),
    which the exact check then sorts out. A min and a max of the values took twice as long as the
    packing."""
    return not packed[3::4].translate(None, _HIGH_BYTES_INSIDE)


_HIGH_BYTES_INSIDE = bytes(byte for byte in range(256) if byte & 0x7F not in (0x00, 0x7F))


def _float32_keeps(values: list) -> bool:
    """Whether float32 changes no value beyond rounding it to float32's precision: array("f")
    turns a value past its range into an infinity and one below its normal range into zero or a
    subnormal without a word (whole numbers past 2**24 are checked by the caller)."""
    return all(value == 0 or FLOAT32_MIN_NORMAL <= abs(value) <= FLOAT32_MAX or not _finite(value)
               for value in values)


def _float_or_infinity(value) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def steps_json(steps: list) -> str:
    """"stepRange":[first,count,stride] when the steps are first + k * stride (stride > 0), else "steps"."""
    if set(map(type, steps)) != _INTS:  # a step that is not an int is drawn at its position
        steps = [step if type(step) is int else index for index, step in enumerate(steps)]
    if len(steps) > 1:
        first, stride = steps[0], steps[1] - steps[0]
        if stride > 0 and steps[-1] == first + stride * (len(steps) - 1) \
                and steps == list(range(first, steps[-1] + 1, stride)):
            return f'"stepRange":[{first},{len(steps)},{stride}]'
    elif steps:
        return f'"stepRange":[{steps[0]},1,1]'
    return '"steps":' + _ints_json(steps).decode("ascii")


def times_json(times: list, origin: float | None) -> str:
    """A time axis as whole milliseconds: the first since ``origin`` (the run's creation, or its
    first timed point when that is unknown), each next since the previous timed point; null for
    a point without a time. Each time is rounded first, so the sums give each rounded time back."""
    if origin is None:
        origin = next((t for t in times if type(t) in _NUMBERS), 0.0)
    if set(map(type, times)) <= _NUMBERS:
        try:
            # in C, in one pass; float.__round__ is round() without its lookup of __round__ (a third
            # of its time), and refuses an infinity or a NaN, which the loop below writes as null
            milliseconds = list(map(float.__round__, map(mul, map(sub, times, repeat(origin)), repeat(1000.0))))
        except (OverflowError, ValueError):
            pass
        else:
            deltas = milliseconds[:1] + list(map(sub, milliseconds[1:], milliseconds))
            return _ints_json(deltas).decode("ascii")
    parts, previous = [], 0
    for t in times:
        if type(t) in _NUMBERS and _finite(t - origin):
            current = round((t - origin) * 1000)
            parts.append(str(current - previous))
            previous = current
        else:
            parts.append("null")
    return "[" + ",".join(parts) + "]"


def _finite(value: float) -> bool:
    return value - value == 0.0  # inf - inf and nan - nan are nan
