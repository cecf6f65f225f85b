"""Updating the index's data file for a rebuild: the last build's columns with the changed runs' values put in.

A rebuild after one changed run among 100,000 made data/index.js from every row again: 1.6 s of
CPU decoding 100,000 row texts and coding their 3.5 million values (index_data.py). Here the
last build's file is decoded instead (its columns are long strings and lists: a few hundredths
of a second), and each column is spliced: the runs kept from that build keep their stretch of
the column, the new and changed runs' values go in their places, removed runs' stretches go. A
dictionary-coded column is spliced as its codes (a string or a list) and coded again only where
a cold build would code it differently (values first seen elsewhere, values gone); a column
whose coding a cold build would change otherwise (from codes to plain values, say) is made from
its values by index_data.column_of, as a cold build makes it. The output is the file a build
from every row makes, byte for byte (tests/test_index_update.py checks random rebuilds).
"""
from __future__ import annotations

import base64
import math
import sys
from array import array
from itertools import chain, compress, repeat
from operator import attrgetter, sub

import msgspec

from tracker.cyclic_gc import cyclic_gc_paused

from .index_data import (CODE_ALPHABET, DERIVED, DICTIONARY_SHARE, INDEX_DATA_FILE, INDEX_FORMAT, SAMPLE, SECTIONS,
                         assigned_json, column_of, column_values, compared_as_json, field_names, index_json,
                         key_positions, row_decoder, section_of, section_values)
from .render import data_script_text

_GIVEN = -2  # the place of a run not in the previous file, or given: never one more than another's
_SCANNED_GIVEN = 32  # given runs found by a scan each, when the runs are the previous file's in its order
_CODE_OF_CHARACTER = {character: code for code, character in enumerate(CODE_ALPHABET)}


def updated_index_files(previous_text: str, ids: list[str], given: dict[str, str],
                        errors: list[tuple[str, str]]) -> dict[str, str] | None:
    """index_files of a rebuild, from the last build's data/index.js (``previous_text``, which
    must be the file made from the rows of the runs not in ``given``) without those runs' rows:
    ``ids`` every run's id in site order, ``given`` the row text of each run whose row is not the
    one in that file (new or changed runs), and of the first run (its keys name the columns).
    None when the file cannot be updated (a run of ``ids`` neither given nor in it, other keys,
    a row that does not decode): the caller makes it from every row (index_data.index_files)."""
    if not ids or ids[0] not in given:
        return None
    with cyclic_gc_paused():  # as index_data's: many containers, no cycles
        try:
            index = msgspec.json.decode(assigned_json(previous_text))
            columns, count = index["columns"], index["count"]
            keys = tuple(msgspec.json.decode(given[ids[0]]))
            if index.get("format") != INDEX_FORMAT or keys != tuple(columns) or "id" not in columns:
                return None
            decode = row_decoder(keys)
            rows = {run_id: decode(text) for run_id, text in given.items()}
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            return None
        pieces = _pieces(ids, rows, column_values(columns["id"]), count)
        if pieces is None:
            return None
        updated = _Update(columns, count, pieces, keys, len(ids)).columns()
        return None if updated is None else {INDEX_DATA_FILE: data_script_text("index", None,
                                                                                index_json(updated, len(ids), errors))}


def _pieces(ids: list[str], rows: dict, previous_ids: list[str], count: int) -> list | None:
    """The updated runs in site order as stretches of the previous file's runs, ``[start, stop]``,
    and given runs' decoded rows; None when a run is in neither. The stretches are found in C (a
    Python step per run was 0.2 s at 100,000 runs): where the previous place does not go up by one."""
    if len(rows) <= _SCANNED_GIVEN and ids == previous_ids:  # the same runs in the same order (ids are unique)
        try:
            return _pieces_in_place(ids, rows)
        except ValueError:  # a given run that is not among them: left to the general way
            pass
    place = dict(zip(previous_ids, range(count)))
    if len(place) != count:
        return None
    for run_id in rows:
        place.pop(run_id, None)
    at = list(map(place.get, ids, repeat(_GIVEN)))
    breaks = [0, *compress(range(1, len(at)), map((1).__ne__, map(sub, at[1:], at[:-1]))), len(at)]
    pieces: list = []
    for start, stop in zip(breaks, breaks[1:]):
        if at[start] != _GIVEN:
            pieces.append([at[start], at[start] + stop - start])
            continue
        row = rows.get(ids[start])
        if row is None:
            return None
        pieces.append(row)
    return pieces


def _pieces_in_place(ids: list[str], rows: dict) -> list:
    """_pieces where ``ids`` are the previous file's runs in its order (a rebuild after changes
    to runs it had): the stretches between the given runs, found by a scan of ``ids`` for each
    rather than a place for every run (100,000 of them). Raises ValueError for a given run that
    is not in ``ids``."""
    places = sorted(map(ids.index, rows))
    pieces: list = []
    start = 0
    for place in places:
        if place > start:
            pieces.append([start, place])
        pieces.append(rows[ids[place]])
        start = place + 1
    if start < len(ids):
        pieces.append([start, len(ids)])
    return pieces


def _spliced(previous, pieces: list, given: list, fill=None) -> list | str | bytes:
    """A sequence (a list, a string of codes, packed doubles) of the updated runs: the previous one's stretches
    (``fill`` for each of them when there is no previous one) and the ``given`` runs' items in turn."""
    given_items = iter(given)
    parts = []
    for piece in pieces:
        if type(piece) is list:
            parts.append(previous[piece[0]:piece[1]] if previous is not None else [fill] * (piece[1] - piece[0]))
        else:
            parts.append(next(given_items))
    if isinstance(previous, (str, bytes)):
        return previous[:0].join(parts)
    for place, piece in enumerate(pieces):  # a given value in a list of its own: it may be a list itself
        if type(piece) is not list:
            parts[place] = [parts[place]]
    return list(chain.from_iterable(parts))


class _Update:
    """The columns of the updated runs, column by column."""

    def __init__(self, columns: dict, previous_count: int, pieces: list, keys: tuple[str, ...], count: int):
        self.previous, self.previous_count, self.pieces, self.count = columns, previous_count, pieces, count
        self.rows = [piece for piece in pieces if type(piece) is not list]
        self.given = {key: list(map(attrgetter(name), self.rows)) for key, name in zip(keys, field_names(len(keys)))}
        self._values: dict[str, list] = {}

    def columns(self) -> dict | None:
        updated = {}
        for key, column in self.previous.items():
            if key in SECTIONS:
                updated[key] = self.section(column, self.given[key])
                if updated[key] is None:
                    return None
            elif key in DERIVED:
                updated[key] = self.derived(key, column)
            else:
                updated[key] = self.column(column, self.given[key])
        return updated

    def values(self, key: str) -> list:
        """Every updated run's value of a top-level key."""
        if key not in self._values:
            self._values[key] = _spliced(self._previous_values(key), self.pieces, self.given[key])
        return self._values[key]

    def _previous_values(self, key: str) -> list:
        column = self.previous[key]
        if isinstance(column, str):  # derived from another column
            return list(map(DERIVED[key][1], self._previous_values(DERIVED[key][0])))
        return column_values(column)

    def derived(self, key: str, column) -> list | dict | str:
        """A column that may follow from another (index_data.DERIVED): it still does when it did
        and every given run's value follows from its own; else judged on every value, as cold."""
        source, value_of = DERIVED[key]
        if isinstance(column, str) and self.given[key] == list(map(value_of, self.given[source])):
            return column
        values = self.values(key)
        if source in self.previous and values == list(map(value_of, self.values(source))):
            return source
        return column_of(values)

    def column(self, column, given: list):
        """A column of values (index_data.column_of's forms) with the given runs' values put in."""
        if isinstance(column, dict) and "f64" in column:
            packed = _spliced_floats(column["f64"], self.pieces, given, self.count)
            if packed is not None:
                return packed
        if isinstance(column, dict) and "codes" in column:
            recoded = _recoded(column["values"], column["codes"], self.pieces, given, self.count, True)
            if recoded is not None:
                return recoded
        return column_of(_spliced(column_values(column) if column is not None else None, self.pieces, given))

    def section(self, section: dict, given: list) -> dict | None:
        """A config or summary (index_data.section_of's form); None when a given run's is not an object."""
        if any(found is not None and type(found) is not dict for found in given):
            return None
        objects = [found or {} for found in given]
        keys = section["keys"]
        recoded = None
        if isinstance(section["shapes"], dict):
            shapes = [tuple(map(keys.__getitem__, positions)) for positions in section["shapes"]["values"]]
            recoded = _recoded(shapes, section["shapes"]["codes"], self.pieces, list(map(tuple, objects)),
                               self.count, False)
        if recoded is None:  # its shapes are not coded, or would not be: made from every run's object, as cold
            return section_of(_spliced(section_values(section, self.previous_count), self.pieces, objects))
        positions = key_positions(recoded["values"])
        distinct = [[positions[key] for key in shape] for shape in recoded["values"]]
        previous = dict(zip(keys, section["columns"]))
        columns = [self.column(previous.get(key), [found.get(key) for found in objects]) for key in positions]
        return {"keys": list(positions), "shapes": {"values": distinct, "codes": recoded["codes"]}, "columns": columns}


def _spliced_floats(packed: str, pieces: list, given: list, count: int) -> dict | None:
    """A column of floats packed as base64 doubles (index_data._floats), spliced as bytes; None
    where a cold build would not pack it: a given value neither a float nor null, or too few
    distinct values among the first SAMPLE (it would code them)."""
    if not all(type(value) is float or value is None for value in given):
        return None
    doubles = array("d", [math.nan if value is None else value for value in given])
    if sys.byteorder == "big":
        doubles.byteswap()
    given_bytes = doubles.tobytes()
    merged = _spliced(base64.b64decode(packed), [[8 * piece[0], 8 * piece[1]] if type(piece) is list else piece
                                                 for piece in pieces],
                      [given_bytes[8 * place:8 * place + 8] for place in range(len(given))])
    first = array("d", merged[:8 * SAMPLE])
    if sys.byteorder == "big":
        first.byteswap()
    distinct = len(dict.fromkeys(None if math.isnan(value) else value for value in first))  # null was packed as NaN
    if distinct < 2 or distinct <= DICTIONARY_SHARE * min(count, SAMPLE):
        return None  # a float is there (two values, one not null), and a cold build would not code them
    return {"f64": base64.b64encode(merged).decode("ascii")}


def _recoded(values: list, codes: str | list[int], pieces: list, given: list, count: int,
             as_column: bool) -> dict | None:
    """A dictionary-coded column ({"values", "codes"}) with the ``given`` runs' values put in, coded
    as a cold build codes it: the values in the order first seen, codes a character each while
    they fit CODE_ALPHABET. ``as_column``: values compared and judged as index_data.column_of
    does (else as section_of codes shapes: by equality, always coded). None where the coding would
    change form (to plain values, or between characters and numbers): the caller makes it whole."""
    as_text = isinstance(codes, str)
    stretches = [codes[piece[0]:piece[1]] for piece in pieces if type(piece) is list]
    if as_text:  # the codes kept runs still use: a search of their characters for each (in C) of the few codes
        kept = "".join(stretches)
        used = [code for code, character in enumerate(CODE_ALPHABET[:len(values)]) if character in kept]
    else:
        used = sorted(set().union(*stretches))
    key_of = None
    if as_column:
        types = {type(values[code]) for code in used} | set(map(type, given))
        if compared_as_json(types):
            key_of = msgspec.json.encode  # as column_of tells values apart: by their JSON
    code_of = {}
    for code in used:
        key = values[code] if key_of is None else key_of(values[code])
        if key in code_of:  # two values a cold build would take for one
            return None
        code_of[key] = code
    values = list(values)
    given_codes = []
    for value in given:
        key = value if key_of is None else key_of(value)
        code = code_of.get(key)
        if code is None:
            code = code_of[key] = len(values)
            values.append(value)
        given_codes.append(code)
    if as_text:
        if len(values) > len(CODE_ALPHABET):
            return None
        merged = _spliced(codes, pieces, [CODE_ALPHABET[code] for code in given_codes])
        order = [_CODE_OF_CHARACTER[character] for _, character in
                 sorted((merged.find(character), character) for character in set(merged))]
    else:
        merged = _spliced(codes, pieces, given_codes)
        order = list(dict.fromkeys(merged))
    if len(order) > DICTIONARY_SHARE * count or (
            as_column and len(set(merged[:SAMPLE])) > DICTIONARY_SHARE * min(count, SAMPLE)):
        return None  # a cold build keeps these values as they are
    if (len(order) <= len(CODE_ALPHABET)) != as_text:
        return None
    if order != list(range(len(order))):
        if as_text:
            merged = merged.translate({ord(CODE_ALPHABET[code]): CODE_ALPHABET[place] for place, code in enumerate(order)})
        else:
            merged = list(map(dict(zip(order, range(len(order)))).__getitem__, merged))
    return {"values": [values[code] for code in order], "codes": merged}
