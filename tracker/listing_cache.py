"""tracker ls's cache of each run's row: JSON lines, a line appended per changed run, rewritten whole now and then.

LISTING_FILE in a runs folder holds a header line, ``{"format":3}``, then one line per run:
``[folder name, content key, row (RunRecord.as_filterable()), problems, stamp]``, the key and the
stamp (null when the folder was too recently changed to stamp) as run_keys.py makes them. A line
further down supersedes an earlier one of the same folder. A listing that read a few runs again
appends their lines, rather than rewriting a file of 60 MB for 100,000 runs; it rewrites the file
(atomic_file.py) when the dead lines (superseded, of a folder gone, unreadable) outnumber an eighth
of the live ones, and when the file was missing, cut mid-line or of another format.

Each line is decoded and type-checked by msgspec in one call; a line it refuses (a NaN or an
infinity, which json writes as bare tokens; a lone surrogate; a line torn by a killed writer) is
read by json and checked in Python, and a line neither takes is left out: its run is read again.
Two listings at once may both append, or one append to the file the other just replaced: a line
lost or written twice costs a read, never a wrong row, as an entry is used only while its key is
the one of its folder's files now. The cache is only a cache: deleting it is always safe.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, TypedDict, Union

from .atomic_file import replace_file
from .event_lines import open_regular
from .run_keys import FolderStamp

try:  # msgspec decodes and checks a line in one call; a light install reads them with json
    import msgspec
except ImportError:
    msgspec = None

LISTING_FILE = ".tracker-listing.jsonl"
LEGACY_LISTING_FILE = ".tracker-listing.json"  # format 2, one JSON object: removed once replaced
LISTING_FORMAT = 3  # 3: JSON lines, appended per changed run
HEADER = json.dumps({"format": LISTING_FORMAT}, separators=(",", ":")).encode()
DEAD_LINES_PER_LIVE = 1 / 8  # more dead lines than this per live one: the file is rewritten
# The fields of a cached row and their types: an entry that does not match is read again.
_TEXT, _OPTIONAL_TEXT, _OPTIONAL_NUMBER = (str,), (str, type(None)), (int, float, type(None))
ROW_FIELDS = {"id": _TEXT, "name": _TEXT, "project": _TEXT, "group": _OPTIONAL_TEXT, "status": _TEXT,
              "tags": (list,), "user": _OPTIONAL_TEXT, "host": _OPTIONAL_TEXT, "notes": _TEXT,
              "created": _OPTIONAL_NUMBER, "duration_s": _OPTIONAL_NUMBER, "config": (dict,), "summary": (dict,)}

# (key, row, problems, stamp, the line as the file holds it) of one run folder
CacheEntry = tuple[str, dict, list, Union[FolderStamp, None], bytes]


@dataclass
class CachedRuns:
    """What a runs folder's cache holds: each run folder's last entry, by folder name."""

    entries: dict[str, CacheEntry] = field(default_factory=dict)
    lines: int = 0         # entry lines in the file, superseded and unreadable ones included
    usable: bool = False   # the file is there, of this format: lines may be appended to it


class _Row(TypedDict):
    """ROW_FIELDS for msgspec. Unlike the Python check it refuses a bool for a number, and drops a
    field it does not name; this version writes neither."""

    id: str
    name: str
    project: str
    group: Union[str, None]
    status: str
    tags: list
    user: Union[str, None]
    host: Union[str, None]
    notes: str
    created: Union[int, float, None]
    duration_s: Union[int, float, None]
    config: dict[str, Any]
    summary: dict[str, Any]


_decode_line = msgspec.json.Decoder(tuple[str, str, _Row, list[str], Union[FolderStamp, None]]).decode \
    if msgspec else None
_encode = msgspec.json.Encoder().encode if msgspec else None


def read_cache(root: str) -> CachedRuns:
    """The cache of the runs folder ``root``; empty when there is none or it cannot be read."""
    cached = CachedRuns()
    try:
        with open_regular(os.path.join(root, LISTING_FILE)) as handle:
            data = handle.read()
    except (OSError, ValueError):
        return cached
    if not data.startswith(HEADER + b"\n") and data != HEADER:
        return cached
    # a file cut short (a listing killed while appending) is rewritten: a line appended to it would
    # join the cut one
    cached.usable = data.endswith(b"\n")
    entries = cached.entries
    lines = data.split(b"\n")  # not partitioned first: that copied the 60 MB after the header
    del lines[0]
    cached.lines = len(lines) - lines.count(b"")
    decode = _decode_line or _decoded
    for line in lines:
        if not line:
            continue
        try:  # msgspec inline: a call a line fewer for 100,000 lines
            entry = decode(line)
        except (ValueError, RecursionError):  # msgspec's errors are ValueErrors: json decides
            entry = _decoded(line, typed=False)
        if entry is not None:
            name, key, row, problems, stamp = entry
            entries[name] = (key, row, problems, stamp, line)
    return cached


def _decoded(line: bytes, typed: bool = True) -> tuple | None:
    """[name, key, row, problems, stamp] of a line shaped as entry_line writes it; else None.
    ``typed=False``: msgspec refused the line already, json decides."""
    if typed and _decode_line is not None:
        try:
            return _decode_line(line)
        except (ValueError, RecursionError):
            pass
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not (isinstance(entry, list) and len(entry) == 5 and isinstance(entry[0], str) and isinstance(entry[1], str)
            and isinstance(entry[2], dict) and isinstance(entry[3], list)):
        return None
    row = entry[2]
    if not (all(isinstance(row.get(name, ...), types) for name, types in ROW_FIELDS.items())
            and all(isinstance(problem, str) for problem in entry[3])):
        return None
    if not _is_stamp(entry[4]):
        entry[4] = None  # the run is listed from its line, its folder scanned again
    return entry


def _is_stamp(value) -> bool:
    """Whether a stamp read by json is shaped as run_keys.FolderStamp (msgspec checks its own)."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], list) and isinstance(value[1], list)):
        return False
    return (all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and type(item[1]) is int
                for item in value[0])
            and all(isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                    and type(item[1]) is int and type(item[2]) is int for item in value[1]))


def entry_line(name: str, key: str, row: dict, problems: list[str], stamp: FolderStamp | None) -> bytes:
    """The cache's line for one run folder: msgspec's JSON (a tenth of json.dumps's time) where it
    writes what json.dumps does, else json's; msgspec writes NaN and the infinities as null and
    refuses text with a lone surrogate, where json keeps both."""
    entry = [name, key, row, problems, stamp]
    if _encode is not None and _all_finite(row):
        try:
            return _encode(entry)
        except (TypeError, ValueError, OverflowError):
            pass
    return json.dumps(entry, separators=(",", ":")).encode()


def write_cache(root: str, cached: CachedRuns, live: list[bytes], new: int) -> None:
    """Bring the cache up to date with ``live``, the lines of every run to keep, of which the last
    ``new`` are not in the file yet: appended, unless the file is to be rewritten whole (see the
    module doc). A folder that cannot be written (read-only, full) keeps what it had, or none."""
    if not os.path.isdir(root):
        return
    path = os.path.join(root, LISTING_FILE)
    dead = cached.lines - (len(live) - new)
    try:
        if cached.usable and dead <= len(live) * DEAD_LINES_PER_LIVE:
            if new:
                # one write, so appends of two listings do not interleave; never O_CREAT: a file
                # deleted since it was read is not started again without its header
                descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(b"".join(line + b"\n" for line in live[len(live) - new:]))
            return
        replace_file(path, b"\n".join([HEADER, *live, b""]))
        if not cached.usable:  # a first listing by this version: the older format's file is dead weight
            os.remove(os.path.join(root, LEGACY_LISTING_FILE))
    except (OSError, ValueError, TypeError):
        pass  # the next listing reads the runs again, or the older file lingers: the cache only saves time


def _all_finite(value) -> bool:
    """Whether no float in ``value`` (dicts and lists of JSON values) is NaN or infinite."""
    kind = type(value)
    if kind is float:
        return value - value == 0.0  # NaN - NaN and inf - inf are NaN
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return True
    for item in value:
        kind = type(item)
        if kind is float:
            if item - item != 0.0:
                return False
        elif (kind is dict or kind is list) and not _all_finite(item):
            return False
    return True
