"""The index's data files: every run's index row and the build's unreadable folders, as data/index.js.

The rows are stored by column, not row by row: at 100,000 runs a file of rows was 68 MB and took
the browser 2.8 s only to parse, past the 1 s the whole index page has (issue 17). A column whose
values repeat (a project, a status, a config key's few values) is dictionary-coded: its distinct
values once and a small integer per run. config and summary are a column per key, with each run's
keys (which and in which order) as one more dictionary-coded column. The logical row stays the
documented one (docs/site-data.md); index-data.js (TrackerIndex) rebuilds rows from the columns
and query.js filters and sorts on the columns directly. ``index_of_text`` decodes the file back
into rows for tests and tools.

A rebuild updates the last build's file instead (index_update.py).
"""
from __future__ import annotations

import base64
import hashlib
import math
import sys
from array import array
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from typing import Any

import msgspec

from tracker.cyclic_gc import cyclic_gc_paused
from tracker.rundiff import LOWER_IS_BETTER_WORDS

from .render import data_script_text, script_json, script_safe

MAX_COMPARE_RUNS = 50
DICTIONARY_SHARE = 0.5  # a column is dictionary-coded when at most this share of its values are distinct
SAMPLE = 1000  # ... and when at most that share of its first SAMPLE values are
INDEX_FORMAT = 2  # 1 was {"runs": [row, ...]}; index-data.js reads both
SECTIONS = ("config", "summary")  # the row keys whose objects are stored a column per key
# Columns left out when every run's value follows from another column: "url": "slug" stands for
# runs/<slug>/index.html, "slug": "id" for the run id (index-data.js DERIVED).
DERIVED = {"url": ("slug", "runs/{}/index.html".format), "slug": ("id", str)}
# A column's codes as a string, one character per run, when it has this many distinct values or
# fewer: a character costs the browser less to parse than a number in an array (and a byte less).
# None of them needs escaping in a JS string or in HTML.
CODE_ALPHABET = "()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
# A column of strings that barely repeat (ids, names, commits) is one string, its values joined by
# the first of these characters that none of them holds: the browser parses one string where it
# parsed a string a run (at 100,000 runs that was half the time data/index.js took to load), and
# index-data.js splits it when the column is first read. None needs escaping in JSON or HTML.
JOIN_SEPARATORS = "|~^`"
ASSIGNMENT = "TrackerData.index="
INDEX_DATA_FILE = "data/index.js"

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def index_files(row_texts: list[str], errors: list[tuple[str, str]]) -> dict[str, str]:
    """Site path -> text of the index's data files, given every run's index row (script-safe JSON
    text, oldest first) and the folders the build could not read."""
    return {INDEX_DATA_FILE: data_script_text("index", None, index_data_json(row_texts, errors))}


def index_data_json(row_texts: list[str], errors: list[tuple[str, str]]) -> str:
    """TrackerData.index as script-safe JSON text: the rows by column (see the module docstring),
    the unreadable folders, and what the compare view needs."""
    with cyclic_gc_paused():  # millions of containers, no cycle among them: the collector only rescans them
        return index_json(_columns(_values_by_key(row_texts)), len(row_texts), errors)


def index_digest(text: str) -> str:
    """What names one data/index.js text: the manifest keeps it, so that a rebuild updates only
    the file the manifest's rows made (a build stopped after writing the index and before the
    manifest leaves another one)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def index_json(columns: dict, count: int, errors: list[tuple[str, str]]) -> str:
    """TrackerData.index's text from its ``columns`` (_columns) of ``count`` runs."""
    body = script_safe(_encode({"format": INDEX_FORMAT, "count": count, "columns": columns}).decode())
    del columns  # freed before the collector runs again: alive, millions of young containers for it to scan
    rest = script_json({"unreadable": [{"path": path, "reason": reason} for path, reason in errors],
                        # the compare view: how many runs at most, and tracker diff's rule for which value is best
                        "maxCompareRuns": MAX_COMPARE_RUNS, "lowerIsBetter": list(LOWER_IS_BETTER_WORDS)})
    return body[:-1] + "," + rest[1:]


def columns_of(rows: list[dict], share: float = DICTIONARY_SHARE) -> dict:
    """Row key -> its column (column_of), config and summary as sections (section_of), the keys
    those of the first row (every row has index_row's keys, in its order), None where a row lacks one."""
    keys = list(rows[0]) if rows else []
    return _columns({key: list(map(dict.get, rows, repeat(key))) for key in keys}, share)


def _values_by_key(row_texts: list[str]) -> dict[str, list]:
    """Row key -> every row's value, None where a row lacks the key, the keys those of the first row.
    Each row is decoded into a struct of those keys, not a dict: no key strings and no hash table a
    row (about 0.4 s of CPU at 100,000 rows, where dicts from the texts joined took 0.65 s)."""
    if not row_texts:
        return {}
    keys = tuple(_decode(row_texts[0]))
    rows = _decoded(row_decoder(keys), row_texts)
    return {key: list(map(getter, rows)) for key, getter in zip(keys, map(attrgetter, field_names(len(keys))))}


@lru_cache(maxsize=4)
def row_decoder(keys: tuple[str, ...]):
    """A decoder of one row text into a struct with a field per key (any value, None when missing);
    a key the first row lacks is skipped, as columns_of skips it."""
    names = field_names(len(keys))  # a row key need not be an identifier: the fields are renamed
    row_type = msgspec.defstruct("IndexRow", [(name, Any, None) for name in names],
                                 rename=dict(zip(names, keys)), gc=False)
    return msgspec.json.Decoder(row_type).decode


def _decoded(decode, row_texts: list[str]) -> list:
    """Every row text decoded; a row that does not decode is named by its place."""
    try:
        return list(map(decode, row_texts))
    except msgspec.DecodeError as error:  # say which row, as decoding them all in one list did
        for position, text in enumerate(row_texts):
            try:
                decode(text)
            except msgspec.DecodeError as found:
                raise type(found)(f"{found} - at `$[{position}]`") from error
        raise


def field_names(count: int) -> list[str]:
    return [f"field_{position}" for position in range(count)]


def _columns(values_by_key: dict[str, list], share: float = DICTIONARY_SHARE) -> dict:
    """Row key -> its column: config and summary as sections, url and slug by name of the column
    they follow from when every value does, the rest by column_of. Every value passes through C
    (map, dict.fromkeys, join): at 100,000 runs a Python loop per value costs seconds."""
    columns = {}
    for key, values in values_by_key.items():
        if key in SECTIONS:
            columns[key] = section_of(values, share)
        elif key in DERIVED and DERIVED[key][0] in values_by_key and _follows(values, *DERIVED[key], values_by_key):
            columns[key] = DERIVED[key][0]
        else:
            columns[key] = column_of(values, share)
    return columns


def _follows(values: list, source: str, value_of, values_by_key: dict[str, list]) -> bool:
    return values == list(map(value_of, values_by_key[source]))


def section_of(objects: list, share: float = DICTIONARY_SHARE) -> dict:
    """A config or summary (None or missing: no keys): its keys in the order they first appear,
    each run's keys as positions in that list (dictionary-coded: most runs share them), and a
    column per key, null where a run lacks the key."""
    if set(map(type, objects)) != {dict}:
        objects = [value or {} for value in objects]
    shapes = _shapes(objects)
    representatives = dict(zip(shapes, objects))  # an object of each shape, the shapes in the order first seen
    shape_codes = {shape: code for code, shape in enumerate(representatives)}
    keys_of_shapes = list(map(tuple, representatives.values()))
    positions = key_positions(keys_of_shapes)
    distinct = [[positions[key] for key in keys] for keys in keys_of_shapes]
    codes = list(map(shape_codes.__getitem__, shapes))
    shapes_column = (_coded(distinct, codes) if objects and len(distinct) <= share * len(objects)
                     else list(map(distinct.__getitem__, codes)))
    columns = [column_of(list(map(dict.get, objects, repeat(key))), share) for key in positions]
    return {"keys": list(positions), "shapes": shapes_column, "columns": columns}


def key_positions(keys_of_shapes: list[tuple]) -> dict[str, int]:
    """A section's keys in the order they first appear in its shapes (first seen first), by position."""
    positions: dict[str, int] = {}
    for keys in keys_of_shapes:
        for key in keys:
            positions.setdefault(key, len(positions))
    return positions


def _shapes(objects: list[dict]) -> list:
    """Each object's keys (which, in which order) as one dict key: their names joined by NUL, a
    string, whose hash is computed once for the two lookups where a tuple's is computed each time
    (0.06 s a section at 100,000 runs); their tuple when a string could stand for two shapes."""
    texts = list(map("\0".join, objects))
    sizes = list(map(len, objects))
    empty = sizes.count(0)
    # every NUL a separator (no key holds one), and "" standing only for {} or only for {"": ...}
    if (sum(map(str.count, texts, repeat("\0"))) == sum(sizes) - (len(sizes) - empty)
            and (not empty or texts.count("") == empty)):
        return texts
    return list(map(tuple, objects))


def column_of(values: list, share: float = DICTIONARY_SHARE) -> list | dict:
    """{"values": distinct, "codes": position per run} when at most ``share`` of the values are
    distinct (the file is then smaller, and a filter tests each value once), the codes a string of
    CODE_ALPHABET's characters when there are few enough values, else numbers; else the values as
    _undistinct keeps them."""
    types = set(map(type, values))
    as_they_are = not compared_as_json(types)
    sample = values[:SAMPLE] if as_they_are else list(map(_encode, values[:SAMPLE]))
    # a first look at the first values spares hashing (or encoding) every value of a column that barely repeats
    if not values or len(dict.fromkeys(sample)) > share * min(len(values), SAMPLE):
        return _undistinct(values, types)
    keys = values if as_they_are else list(map(_encode, values))
    distinct = dict.fromkeys(keys)  # first seen first
    if len(distinct) > share * len(values):
        return _undistinct(values, types)
    distinct_values = list(distinct) if as_they_are else list(map(_decode, distinct))
    if len(distinct) <= len(CODE_ALPHABET):  # each value's character straight away: no list of numbers
        return {"values": distinct_values, "codes": "".join(map(dict(zip(distinct, CODE_ALPHABET)).__getitem__, keys))}
    return {"values": distinct_values, "codes": list(map(dict(zip(distinct, range(len(distinct)))).__getitem__, keys))}


def _undistinct(values: list, types: set[type]) -> list | dict:
    """A column whose values barely repeat: floats (and nulls) packed, strings joined, else as they are."""
    if float in types and types <= _FLOATS:
        return _floats(values, type(None) in types)
    if types == _STRINGS:
        for separator in JOIN_SEPARATORS:
            joined = separator.join(values)
            if joined.count(separator) == len(values) - 1:  # no value holds it: split gives them back
                return {"joined": joined, "separator": separator}
    return values


def _coded(distinct: list, codes: list[int]) -> dict:
    if len(distinct) <= len(CODE_ALPHABET):
        return {"values": distinct, "codes": "".join(map(CODE_ALPHABET.__getitem__, codes))}
    return {"values": distinct, "codes": codes}


# Dict keys equal exactly for values JSON writes the same: the values themselves when they are
# hashable scalars (but 1, 1.0 and True are one key to a dict, so not when such types mix), else
# their JSON.
_HASHABLE = {str, int, float, bool, type(None)}
_NUMERIC = {int, float, bool}
_FLOATS = {float, type(None)}
_STRINGS = {str}


def compared_as_json(types: set[type]) -> bool:
    """Whether values of these types are told apart by their JSON (not hashable, or numbers of
    two types, which a dict takes for one key: 1, 1.0, True) rather than by themselves."""
    return not (types <= _HASHABLE and len(types & _NUMERIC) <= 1)


def _floats(values: list, with_nulls: bool) -> dict:
    """{"f64": base64 of little-endian doubles}, null as NaN (a row never holds a NaN float: the
    non-finite are strings): 11 characters a value where JSON takes up to 24, and the browser
    decodes them without parsing numbers."""
    packed = array("d", [math.nan if value is None else value for value in values] if with_nulls else values)
    if sys.byteorder == "big":
        packed.byteswap()
    return {"f64": base64.b64encode(packed).decode("ascii")}


def index_of_text(text: str) -> dict:
    """TrackerData.index as the documented shape ({"runs": [row, ...], "unreadable", ...}), from
    the text of data/index.js: what index-data.js rebuilds in the browser, for tests and tools."""
    index = msgspec.json.decode(assigned_json(text))
    if "runs" in index:
        return index
    columns = index.pop("columns")
    count = index.pop("count")
    index.pop("format")
    return {"runs": rows_of(columns, count), **index}


def assigned_json(text: str) -> str:
    """The JSON text data/index.js assigns to TrackerData.index (ValueError when there is none)."""
    start = 0 if text.startswith(ASSIGNMENT) else text.index("\n" + ASSIGNMENT) + 1
    end = text.find("\n", start)
    return text[start + len(ASSIGNMENT):end if end >= 0 else len(text)].removesuffix(";")


def rows_of(columns: dict, count: int) -> list[dict]:
    """Rows from columns_of's columns."""
    values = _values_of_columns(columns, count)
    return [{key: values[key][position] for key in columns} for position in range(count)]


def _values_of_columns(columns: dict, count: int) -> dict[str, list]:
    """Row key -> every row's value (a section's: each row's object), in the columns' order."""
    values = {}
    for key, column in columns.items():
        if key in SECTIONS:
            values[key] = section_values(column, count)
        elif not isinstance(column, str):
            values[key] = column_values(column)
    for key, column in columns.items():
        if isinstance(column, str):
            values[key] = _derived(key, columns, values)
    return {key: values[key] for key in columns}


def _derived(key: str, columns: dict, values: dict) -> list:
    source, value_of = DERIVED[key]
    if source not in values:
        values[source] = _derived(source, columns, values)
    return list(map(value_of, values[source]))


def column_values(column: list | dict) -> list:
    """A column's values, one per run (column_of's inverse), each step a pass in C."""
    if isinstance(column, list):
        return column
    if "joined" in column:
        return column["joined"].split(column["separator"])
    if "f64" in column:
        packed = array("d", base64.b64decode(column["f64"]))
        if sys.byteorder == "big":
            packed.byteswap()
        values = packed.tolist()
        nulls = list(map(math.isnan, values))
        if any(nulls):  # null was packed as NaN
            values = [None if null else value for value, null in zip(values, nulls)]
        return values
    codes = column["codes"]
    of_code = dict(zip(CODE_ALPHABET, column["values"])) if isinstance(codes, str) else column["values"]
    return list(map(of_code.__getitem__, codes))


def section_values(section: dict, count: int) -> list[dict]:
    """Each run's object of a section (section_of's inverse)."""
    keys, shapes, columns = section["keys"], column_values(section["shapes"]), list(map(column_values, section["columns"]))
    return [{keys[key]: columns[key][position] for key in shape} for position, shape in zip(range(count), shapes)]
