"""The one check between parsing a record and using it: a schema per record type.

Every field a reader uses has an expected type here (docs/format.md, "Reading"). A record whose
essential field is missing or of the wrong type is skipped; any other field of the wrong type is
dropped and the record kept. Either way the problem names the file, line and key, e.g.
``runs/a1b2/events.jsonl:42: tags.add is int, expected a list of strings; record skipped``.
Unknown record types and unknown fields pass untouched (later versions may add them).

Free-form values (config, summary, captured records) are also bounded: nesting deeper than
MAX_NESTING_DEPTH is dropped (it would overflow recursive code downstream: flattening, templates,
JSON encoders), and text holding lone surrogates (``"\\udc80"`` in a file) is escaped so that it
can be printed and encoded.

Metric values are checked where they are gathered (reader.py), point by point, because a check
here would walk every value twice.

An end record's ``state`` (what its writer folded of the file, end_state.py) is checked only by
the readers that use it, by check_end_state: a full read never needs it, so a state it could not
use costs that read nothing.

Both checks first try a fast path for the well-formed shapes (Schema.passes and is_flat,
_plain_end_state): the same tests in fewer Python steps, taking only what the detailed path
would leave as it is; anything else goes the detailed path, which names what is wrong.
tests/test_record_schema_fast_path.py pins the two paths to the same results.
"""
from __future__ import annotations

import math
import re

from .values import TEXT_TO_NON_FINITE, safe_text

MAX_NESTING_DEPTH = 64
MAX_UNIX_TIME_S = 1e11  # the year 5138: a later time is a unit mistake (ms, ns) or garbage


class Expect:
    """An expected field type: a test, how the problem message says what was expected, the types
    a passing value can have, and whether its type alone passes it (check_record's fast path)."""

    __slots__ = ("test", "expected", "types", "by_type")

    def __init__(self, test, expected: str, types: tuple, by_type: bool = False):
        self.test = test
        self.expected = expected
        self.types = frozenset(types)
        self.by_type = by_type


def _is_int(value) -> bool:
    return type(value) is int


def _is_count(value) -> bool:
    return type(value) is int and value >= 0


def _is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _is_time(value) -> bool:
    return type(value) in (int, float) and 0 <= value <= MAX_UNIX_TIME_S  # NaN fails both tests


def _is_text_list(value) -> bool:
    return type(value) is list and all(type(item) is str for item in value)


def _is_text_map(value) -> bool:
    return type(value) is dict and all(type(item) is str for item in value.values())


def _is_object_list(value) -> bool:
    return type(value) is list and all(type(item) is dict for item in value)


TEXT = Expect(lambda value: type(value) is str, "a string", (str,), by_type=True)
BOOL = Expect(lambda value: type(value) is bool, "true or false", (bool,), by_type=True)
INT = Expect(_is_int, "an integer", (int,), by_type=True)
COUNT = Expect(_is_count, "a non-negative integer", (int,))
NUMBER = Expect(_is_number, "a finite number", (int, float))
POSITIVE = Expect(lambda value: _is_number(value) and value > 0, "a positive number", (int, float))
TIME = Expect(_is_time, f"a unix time in seconds (0 to {MAX_UNIX_TIME_S:.0e})", (int, float))
OBJECT = Expect(lambda value: type(value) is dict, "an object", (dict,), by_type=True)
TEXT_LIST = Expect(_is_text_list, "a list of strings", (list,))
TEXT_MAP = Expect(_is_text_map, "an object of strings", (dict,))
OBJECT_LIST = Expect(_is_object_list, "a list of objects", (list,))
# media/<aa>/<sha256>.<ext>, <aa> the hash's first two digits: a name that cannot leave the run folder.
_MEDIA_FILE = re.compile(r"media/([0-9a-f]{2})/\1[0-9a-f]{62}\.[a-z0-9]{1,8}(?:\.[a-z0-9]{1,8})?")


def is_media_file(value) -> bool:
    """Whether ``value`` names a media file as writers store them (docs/format.md, "Media")."""
    return type(value) is str and _MEDIA_FILE.fullmatch(value) is not None


MEDIA_FILE = Expect(is_media_file, "a media file name, media/<aa>/<sha256>.<ext>", (str,))
MEDIA_FILES = Expect(lambda value: type(value) is list and all(map(is_media_file, value)),
                     "a list of media file names", (list,))
COLUMNS = Expect(lambda value: _is_count(value) or _is_text_list(value), "a count or a list of strings",
                 (int, list))


class Schema:
    """The fields of one record type: ``required`` ones skip the record when missing or bad,
    ``optional`` ones are dropped when bad (null counts as absent), and ``binding`` ones may be
    absent but skip the record when bad (half a tags record would add a tag its writer removed)."""

    __slots__ = ("required", "optional", "binding", "_keys", "_types", "_tested", "_flat_keys", "_text_keys")

    def __init__(self, required: dict | None = None, optional: dict | None = None, binding: dict | None = None):
        self.required = required or {}
        self.optional = optional or {}
        self.binding = binding or {}
        # passes()'s tables: every field, the types it may have (null: absent, where that is allowed)
        # and the tests that a field's type does not settle
        fields = {**self.required, **self.binding, **self.optional}
        self._keys = tuple(fields)
        self._types = tuple(expect.types if key in self.required else expect.types | {type(None)}
                            for key, expect in fields.items())
        self._tested = tuple((key, expect.test) for key, expect in fields.items() if not expect.by_type)
        # is_flat's: the fields that never hold a nested value (and the type), and those that hold text
        self._flat_keys = frozenset([key for key, expect in fields.items() if expect.types.isdisjoint({dict, list})]
                                    + ["type"])
        self._text_keys = tuple(key for key, expect in fields.items() if str in expect.types)

    def passes(self, record: dict) -> bool:
        """Whether every field of ``record`` is as expected, so check_record's field loops would
        leave it as it is. A few C-level steps for all the fields' types, instead of a test call per
        field: the run, start and end records of every run a listing reads take this path."""
        if not all(map(frozenset.__contains__, self._types, map(type, map(record.get, self._keys)))):
            return False
        for key, test in self._tested:
            value = record.get(key)
            if value is not None and not test(value):
                return False
        return True

    def is_flat(self, record: dict) -> bool:
        """Whether ``record``, which passes(), has nothing for _bounded to bound or escape: only
        fields that hold no nested value, and ASCII text in them (the usual run, start and end
        records), told in C rather than by a call per value."""
        texts = filter(None, map(record.get, self._text_keys))  # passes() made each one text or null
        return record.keys() <= self._flat_keys and all(map(str.isascii, texts))


SCHEMAS: dict[str, Schema] = {
    "run": Schema(optional={"id": TEXT, "project": TEXT, "name": TEXT, "group": TEXT, "time": TIME,
                            "schema": INT}),
    "start": Schema(optional={"writer": TEXT, "time": TIME, "pid": INT, "host": TEXT, "user": TEXT,
                              "resumed": BOOL, "rank": INT, "local_rank": INT, "world_size": INT,
                              "node": TEXT, "heartbeat_interval_s": POSITIVE}),
    # state: checked on its own by check_end_state, and only by readers that use it (tail_reading.py)
    "end": Schema(optional={"writer": TEXT, "time": TIME, "status": TEXT, "error": TEXT, "state": OBJECT}),
    "metrics": Schema(required={"step": INT, "time": TIME, "values": OBJECT}),
    "system": Schema(required={"time": TIME, "values": OBJECT}, optional={"step": INT}),
    "config": Schema(required={"values": OBJECT}, optional={"time": TIME}),
    "summary": Schema(required={"values": OBJECT}, optional={"time": TIME}),
    "tags": Schema(binding={"add": TEXT_LIST, "remove": TEXT_LIST}, optional={"time": TIME}),
    "notes": Schema(required={"text": TEXT}, optional={"time": TIME}),
    "dataset": Schema(optional={"name": TEXT, "path": TEXT, "kind": TEXT, "sha256": TEXT, "size_bytes": COUNT,
                                "files": COUNT, "rows": COUNT, "columns": COLUMNS, "error": TEXT, "time": TIME}),
    "artifact": Schema(optional={"name": TEXT, "path": TEXT, "kind": TEXT, "sha256": TEXT, "size_bytes": COUNT,
                                 "files": COUNT, "time": TIME}),
    "git": Schema(optional={"available": BOOL, "in_repo": BOOL, "commit": TEXT, "branch": TEXT, "remote_url": TEXT,
                            "dirty": BOOL, "untracked_files": TEXT_LIST, "diff_file": TEXT, "diff_bytes": COUNT,
                            "diff_truncated": BOOL, "reason": TEXT, "time": TIME}),
    "code": Schema(optional={"command": TEXT_LIST, "command_line": TEXT, "python": TEXT, "cwd": TEXT, "script": TEXT,
                             "script_file": TEXT, "env_files": OBJECT_LIST, "time": TIME}),
    "environment": Schema(optional={"python": TEXT, "implementation": TEXT, "executable": TEXT, "platform": TEXT,
                                    "os": TEXT, "machine": TEXT, "hostname": TEXT, "user": TEXT,
                                    "packages": TEXT_MAP, "env": TEXT_MAP, "time": TIME}),
    "hardware": Schema(optional={"cpu_model": TEXT, "cpu_count_logical": COUNT, "cpu_count_physical": COUNT,
                                 "memory_total_bytes": COUNT, "gpus": OBJECT_LIST, "node": TEXT, "time": TIME}),
    # the writer's fields; each kind's own fields (docs/format.md, "Media") pass as they are
    "media": Schema(required={"key": TEXT, "step": INT, "file": MEDIA_FILE, "kind": TEXT},
                    optional={"time": TIME, "index": COUNT, "size_bytes": COUNT, "attachments": MEDIA_FILES}),
    # run.alert(): level is info, warn or error; a reader shows any other level as it is
    "alert": Schema(required={"title": TEXT}, optional={"time": TIME, "text": TEXT, "level": TEXT, "step": INT}),
}
# Types whose records hold free-form JSON that is walked for depth and lone surrogates.
# metrics and system are not: their values are numbers, checked as they are gathered.
FREE_FORM = frozenset(SCHEMAS) - {"metrics", "system"}


class _TooDeep(Exception):
    pass


def type_name(value) -> str:
    """A value's JSON type, as problem messages name it."""
    if value is None:
        return "null"
    if type(value) is float and not math.isfinite(value):
        return repr(value)
    if type(value) in (int, float) and not (0 <= value <= MAX_UNIX_TIME_S):
        return f"{type(value).__name__} {value:.6g}"
    return {dict: "object", list: "list", str: "str", bool: "bool"}.get(type(value), type(value).__name__)


def check_record(record: dict, where: str, problems) -> dict | None:
    """``record`` made safe to use, or None when it must be skipped; each problem is added to
    ``problems`` (``.add(message)``) naming ``where`` (file:line) and the key."""
    kind = record.get("type")
    schema = SCHEMAS.get(kind) if type(kind) is str else None
    if schema is None:
        return record  # unknown types are ignored by the reader anyway
    if schema.passes(record):
        if kind in FREE_FORM and not schema.is_flat(record):
            record = _bounded(record, kind, where, problems)
        return record
    record = _checked_fields(record, kind, schema, where, problems)
    if record is not None and kind in FREE_FORM:
        record = _bounded(record, kind, where, problems)
    return record


def _checked_fields(record: dict, kind: str, schema: Schema, where: str, problems) -> dict | None:
    """check_record's field checks one by one, each problem named: the record with its bad
    optional fields dropped, or None when a required or binding field is bad."""
    for key, expect in schema.required.items():
        value = record.get(key)
        if not expect.test(value):
            problems.add(f"{where}: {kind}.{key} is {'missing' if key not in record else type_name(value)}, "
                         f"expected {expect.expected}; record skipped")
            return None
    for key, expect in schema.binding.items():
        value = record.get(key)
        if value is not None and not expect.test(value):
            problems.add(f"{where}: {kind}.{key} is {type_name(value)}, expected {expect.expected}; record skipped")
            return None
    for key, expect in schema.optional.items():
        value = record.get(key)
        if value is not None and not expect.test(value):
            problems.add(f"{where}: {kind}.{key} is {type_name(value)}, expected {expect.expected}; field dropped")
            record = {name: item for name, item in record.items() if name != key}
    return record


def _bounded(record: dict, kind: str, where: str, problems) -> dict:
    """The record with values nested too deep dropped (naming the key) and lone surrogates escaped.
    In config and summary, each key of ``values`` is checked on its own, so one deep value costs
    only itself."""
    if all(map(_is_plain, record.values())) and all(map(str.isascii, record)):
        return record  # the usual run, start and end records: nothing nested, no text to escape
    clean = {}
    for key, value in record.items():
        if key == "state" and kind == "end":
            clean[key] = value  # its values sit deeper than their own records': check_end_state checks them
            continue
        if key == "values" and type(value) is dict:
            kept = {}
            for name, item in value.items():
                try:
                    kept[safe_text(name)] = _clean(item, 2)
                except _TooDeep:
                    problems.add(f"{where}: {kind}.values.{safe_text(name)} is nested deeper than "
                                 f"{MAX_NESTING_DEPTH} levels; key dropped")
            clean[key] = kept
            continue
        try:
            clean[safe_text(key)] = _clean(value, 1)
        except _TooDeep:
            problems.add(f"{where}: {kind}.{safe_text(key)} is nested deeper than {MAX_NESTING_DEPTH} levels; field dropped")
    return clean


def _is_plain(value) -> bool:
    """A value with nothing to bound or escape: a number, a boolean, null or ASCII text."""
    kind = type(value)
    return kind is not dict and kind is not list and (kind is not str or value.isascii())


def _clean(value, depth: int):
    if type(value) is str:
        return safe_text(value)
    if type(value) is dict:
        if depth >= MAX_NESTING_DEPTH:
            raise _TooDeep
        return {safe_text(key): _clean(item, depth + 1) for key, item in value.items()}
    if type(value) is list:
        if depth >= MAX_NESTING_DEPTH:
            raise _TooDeep
        return [_clean(item, depth + 1) for item in value]
    return value


def is_bounded(value) -> bool:
    """Whether a config or summary value of an end state nests no deeper than check_end_state
    takes it (MAX_NESTING_DEPTH, counted as in the value's own record)."""
    try:
        _clean(value, 2)
    except _TooDeep:
        return False
    return True


def clean_key(text: str) -> str:
    """A metric name safe to print and encode (see values.safe_text)."""
    return safe_text(text)


class EndStateError(ValueError):
    """An end record's state that is not as docs/format.md says: its file is read whole."""


def check_end_state(state: dict, escapes: bool = True) -> dict:
    """An end record's ``state`` (docs/format.md, "The end record's state"), its values made safe to
    use as the records they stand for would be: metric values as numbers (the non-finite markers as
    floats, booleans as 0/1), text escaped, config and summary values bounded in depth as in their
    own records. Raises EndStateError naming the first part that is not as the format says.

    ``escapes=False`` says the line held no ``\\u`` escape, so no text in it can hold a lone
    surrogate: text is then taken as it is (the check runs once per file of every run listed)."""
    if not escapes:
        clean = _plain_end_state(state)
        if clean is not None:
            return clean
    return _checked_end_state(state, safe_text if escapes else _same)


def _checked_end_state(state: dict, text) -> dict:
    """check_end_state's detailed path: every part checked and cleaned one by one, with ``text``
    the function that makes text safe (safe_text, or _same when it holds no escape)."""
    if not (_is_count(state.get("bytes")) and _is_count(state.get("lines"))):
        raise EndStateError("state.bytes or state.lines is not a count")
    metrics = state.get("metrics")
    if type(metrics) is not dict:
        raise EndStateError("state.metrics is not an object")
    clean_metrics = {}
    for name, entry in metrics.items():
        try:
            step, value, wall_time = entry["last"]
            count = entry["count"]
            clean_metrics[text(name)] = {
                "last": [step, _metric_number(value, name), wall_time], "count": count,
                "min": _metric_number(entry["min"], name, True), "max": _metric_number(entry["max"], name, True)}
        except (KeyError, TypeError, ValueError):
            raise EndStateError(f"state.metrics.{safe_text(name)} is not shaped as the format says") from None
        if not (type(step) is int and _is_time(wall_time) and _is_count(count) and count > 0):
            raise EndStateError(f"state.metrics.{safe_text(name)} is not shaped as the format says")
    clean = {"bytes": state["bytes"], "lines": state["lines"], "metrics": clean_metrics}
    for table in ("config", "summary", "tags"):
        entries = state.get(table)
        if type(entries) is not dict:
            raise EndStateError(f"state.{table} is not an object")
        clean[table] = {text(key): _set_entry(entry, table, key, text) for key, entry in entries.items()}
    if not all(type(entry[2]) is bool for entry in clean["tags"].values()):
        raise EndStateError("state.tags holds a value that is not true or false")
    notes = state.get("notes")
    if notes is not None:
        notes = _set_entry(notes, "notes", "", text)
        if type(notes[2]) is not str:
            raise EndStateError("state.notes is not text")
    clean["notes"] = notes
    return clean


_NUMBER, _OPTIONAL_NUMBER = frozenset({int, float}), frozenset({int, float, type(None)})
_CONTAINERS = frozenset({dict, list})


def _plain_end_state(state: dict) -> dict | None:
    """check_end_state(state, escapes=False) for the usual state, whose metric entries and table
    entries need nothing changed: they are checked with one test a value, where the detailed path
    calls a function per value and builds every entry again. None for any other state: the
    detailed path then cleans it or says what is wrong."""
    try:
        metrics = state["metrics"]
        if not (type(metrics) is dict and _is_count(state["bytes"]) and _is_count(state["lines"])):
            return None
        for entry in metrics.values():
            last = entry["last"]
            step, value, wall_time = last
            count = entry["count"]
            if not (type(last) is list and type(step) is int and type(value) in _NUMBER
                    and type(entry["min"]) in _OPTIONAL_NUMBER and type(entry["max"]) in _OPTIONAL_NUMBER
                    and type(count) is int and count > 0 and type(wall_time) in _NUMBER
                    and 0 <= wall_time <= MAX_UNIX_TIME_S and len(entry) == 4):
                return None
        clean = {"bytes": state["bytes"], "lines": state["lines"], "metrics": metrics}
        for table in ("config", "summary", "tags"):
            clean[table] = _plain_set_entries(state[table], table == "tags")
            if clean[table] is None:
                return None
        notes = state.get("notes")
        if notes is not None and not (type(notes) is list and len(notes) == 3 and type(notes[2]) is str
                                      and _is_time(notes[0]) and _is_count(notes[1])):
            return None
        clean["notes"] = notes
        return clean
    except (KeyError, TypeError, ValueError, _TooDeep):
        return None


def _plain_set_entries(entries: dict, tags: bool) -> dict | None:
    """A config, summary or tags table of [time, line, value] entries as _set_entry makes each
    (text taken as it is), nested values copied by _clean; None when it is not one."""
    if type(entries) is not dict:
        return None
    nested = False
    for entry in entries.values():
        wall_time, line, value = entry
        if not (type(entry) is list and type(wall_time) in _NUMBER and 0 <= wall_time <= MAX_UNIX_TIME_S
                and type(line) is int and line >= 0 and (type(value) is bool or not tags)):
            return None
        nested = nested or type(value) in _CONTAINERS
    if not nested:
        return entries
    return {key: [entry[0], entry[1], _clean(entry[2], 2)] if type(entry[2]) in _CONTAINERS else entry
            for key, entry in entries.items()}


def _same(text: str) -> str:
    return text


def _metric_number(value, name: str, optional: bool = False):
    """A metric value as the reader gathers it (run_reading._metric_number)."""
    kind = type(value)
    if kind is float or kind is int:
        return value
    if kind is bool:
        return int(value)
    if kind is str and value in TEXT_TO_NON_FINITE:
        return TEXT_TO_NON_FINITE[value]
    if value is None and optional:
        return None
    raise EndStateError(f"state.metrics.{safe_text(name)} holds {type_name(value)}, expected a number")


def _set_entry(entry, table: str, key: str, text) -> list:
    """A [time, line, value] entry, its value cleaned as a ``values`` item of its own record is."""
    if not (type(entry) is list and len(entry) == 3 and _is_time(entry[0]) and _is_count(entry[1])):
        raise EndStateError(f"state.{table}{'.' if key else ''}{safe_text(key)} is not [time, line, value]")
    value = entry[2]
    kind = type(value)
    if kind is dict or kind is list:
        try:
            value = _clean(value, 2)
        except _TooDeep:
            raise EndStateError(f"state.{table}.{safe_text(key)} is nested deeper than {MAX_NESTING_DEPTH} "
                                "levels") from None
    elif kind is str:
        value = text(value)
    return [entry[0], entry[1], value]
