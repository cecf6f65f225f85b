"""The usual finished run's run, start and end records, decoded and type-checked by one msgspec call.

A listing of 10,000 finished runs spent about 40% of its CPU checking each run's run, start and
end records and the end record's state in Python (record_schema.check_record, check_end_state),
after msgspec had parsed them. Here msgspec parses and checks them in one call, against types
built from record_schema.SCHEMAS (run, start, end) and from docs/format.md's end state, so the
Python checks do not run at all for the usual run.

Only what both checks would take as it is gets through: every field of the expected type, no
field the schema does not name (an unknown field goes the detailed way, which bounds its depth),
the records in the order run, start, end, each tagged with its type. Text is left to the caller,
which passes only ASCII bytes without ``\\u`` escapes (so no text needs escaping). Whatever does
not decode gives None, and the caller takes the detailed path, which says what is wrong.
tests/test_typed_ends.py pins this to that path on records a real run writes and their mutations.

msgspec is an optional dependency (a light install has none): tail_reading.py imports this module
only where it is installed.
"""
from __future__ import annotations

from typing import Annotated, Any, Union

import msgspec
from msgspec import Meta

from .record_schema import (BOOL, COUNT, INT, MAX_UNIX_TIME_S, NUMBER, POSITIVE, SCHEMAS, TEXT, TIME, Expect,
                            Schema)

# msgspec takes an int for an int and a float for a float (never a bool for either), as type() does
_TIME = Union[Annotated[int, Meta(ge=0, le=int(MAX_UNIX_TIME_S))], Annotated[float, Meta(ge=0, le=MAX_UNIX_TIME_S)]]
_COUNT = Annotated[int, Meta(ge=0)]
_NUMBER = Union[int, float]  # JSON as msgspec reads it holds no NaN or infinity: every number is finite
# What each Expect of the run, start and end schemas takes, as a msgspec type.
TYPES: dict[Expect, object] = {
    TEXT: str, BOOL: bool, INT: int, COUNT: _COUNT, NUMBER: _NUMBER, TIME: _TIME,
    POSITIVE: Union[Annotated[int, Meta(gt=0)], Annotated[float, Meta(gt=0)]],
}


class MetricState(msgspec.Struct, gc=False):
    """One metric's entry in an end state: its last point, min, max and count. (Structs, here and
    in EndState, where dicts took a tenth more to decode and free; untracked by the cycle
    collector, gc=False, as decoded values hold no cycles; a key the format does not name is
    passed over, as check_end_state passes it over.)"""

    last: tuple[int, _NUMBER, _TIME]
    min: _NUMBER | None
    max: _NUMBER | None
    count: Annotated[int, Meta(gt=0)]


class EndState(msgspec.Struct, gc=False):
    """An end record's state (docs/format.md, "The end record's state"), in the usual form:
    numbers as numbers (no "NaN" markers, no booleans), each set value with its time and line."""

    bytes: _COUNT
    lines: _COUNT
    metrics: dict[str, MetricState]
    config: dict[str, tuple[_TIME, _COUNT, Any]]
    summary: dict[str, tuple[_TIME, _COUNT, Any]]
    tags: dict[str, tuple[_TIME, _COUNT, bool]]
    notes: tuple[_TIME, _COUNT, str] | None = None


def record_struct(kind: str, schema: Schema, extra: dict | None = None) -> type:
    """A msgspec Struct for the records of ``kind``: every field of ``schema`` optional (null as
    absent), of its Expect's type, tagged by ``type``, unknown fields refused, untracked by the
    cycle collector (a decoded record holds no cycle). A schema with required or binding fields,
    or an Expect not in TYPES, has none (KeyError)."""
    if schema.required or schema.binding:
        raise KeyError(kind)
    fields = [(name, TYPES[expect] | None, None) for name, expect in schema.optional.items()
              if name not in (extra or {})]
    fields += [(name, annotation) for name, annotation in (extra or {}).items()]
    fields.sort(key=lambda field: len(field) == 3)  # msgspec: fields without a default first
    return msgspec.defstruct(f"{kind.title()}Record", fields, tag_field="type", tag=kind, forbid_unknown_fields=True,
                             omit_defaults=False, gc=False)


def _usual_decoder():
    """(the decoder of [run, start, end], the three Structs), or None when a field of their
    schemas has an Expect that TYPES does not know (a field added to record_schema.py without its
    type here): then every run takes the Python checks, slower but right, and
    tests/test_typed_ends.py fails to say so."""
    try:
        structs = (record_struct("run", SCHEMAS["run"]), record_struct("start", SCHEMAS["start"]),
                   record_struct("end", SCHEMAS["end"], {"state": EndState}))
    except KeyError:
        return None
    record = Union[structs]
    return msgspec.json.Decoder(tuple[record, record, record]).decode, structs


_decoder = _usual_decoder()


def decode_usual(data: bytes) -> tuple[msgspec.Struct, msgspec.Struct, msgspec.Struct] | None:
    """The run, start and end records of ``data``, a JSON array of exactly those three, each as a
    Struct with every field its schema names as an attribute (None where absent), the end
    record's ``state`` checked (an EndState); None when ``data`` is anything else (then check the
    records the detailed way)."""
    if _decoder is None:
        return None
    decode, (run_struct, start_struct, end_struct) = _decoder
    try:
        records = decode(data)
    except (ValueError, RecursionError):  # msgspec.ValidationError and DecodeError are ValueErrors
        return None
    run, start, end = records
    if type(run) is not run_struct or type(start) is not start_struct or type(end) is not end_struct:
        return None
    return records
