"""tracker ls's cache of each run's row: a msgpack block of every run, then a JSON line appended per changed run.

LISTING_FILE in a runs folder holds a header line, ``{"format":4,"bulk":N}``, then N bytes of
msgpack (an array of entries; none without msgspec), a line end, then JSON lines of further
entries. An entry is ``[folder name, content key, row (RunRecord.as_filterable()), problems,
stamp]``, the key as run_keys.py makes it and the stamp a run_keys.FlatStamp (null when the folder
was too recently changed to stamp). An entry further down supersedes an earlier one of the same
folder. A listing that read a few runs again appends their JSON lines, rather than rewriting a
file of 45 MB for 100,000 runs; it rewrites the file (atomic_file.py) when the dead entries
(superseded, of a folder gone, unreadable) outnumber an eighth of the live ones, and when the file
was missing, cut mid-line or of another format. A rewrite puts every entry that msgpack takes into
the block; one it refuses (text with a lone surrogate, an int past 64 bits) stays a JSON line.

The block is decoded and type-checked by msgspec in one call for 100,000 runs (0.5 s, where a
call a JSON line took 0.65 s and kept each line's bytes); a block it refuses is decoded untyped
and checked entry by entry in Python. Each JSON line is decoded by msgspec; a line it refuses (a
NaN or an infinity, which json writes as bare tokens; a lone surrogate; a line torn by a killed
writer) is read by json and checked in Python, and a line neither takes is left out: its run is
read again. A file whose block is cut short is ignored whole and rewritten. Two listings at once
may both append, or one append to the file the other just replaced: a line lost or written twice
costs a read, never a wrong row, as an entry is used only while its key is the one of its
folder's files now. The cache is only a cache: deleting it is always safe.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypedDict, Union

from .atomic_file import replace_file
from .event_lines import open_regular
from .run_keys import FlatStamp

try:  # msgspec decodes and checks the entries in one call; a light install reads them with json
    import msgspec
except ImportError:
    msgspec = None

LISTING_FILE = ".tracker-listing.cache"
_NAME = itemgetter(0)  # an entry's folder name
# the files of older formats (2: one JSON object; 3: JSON lines), removed once this one is written;
# a name of its own, so that an older version listing the same folder keeps its own file
LEGACY_LISTING_FILES = (".tracker-listing.json", ".tracker-listing.jsonl")
LISTING_FORMAT = 4  # 4: a msgpack block, then JSON lines appended per changed run
DEAD_LINES_PER_LIVE = 1 / 8  # more dead entries than this per live one: the file is rewritten
MAX_HEADER_BYTES = 100  # a first line longer than this is not a header of this format
# The fields of a cached row and their types: an entry that does not match is read again.
_TEXT, _OPTIONAL_TEXT, _OPTIONAL_NUMBER = (str,), (str, type(None)), (int, float, type(None))
ROW_FIELDS = {"id": _TEXT, "name": _TEXT, "project": _TEXT, "group": _OPTIONAL_TEXT, "status": _TEXT,
              "tags": (list,), "user": _OPTIONAL_TEXT, "host": _OPTIONAL_TEXT, "notes": _TEXT,
              "created": _OPTIONAL_NUMBER, "duration_s": _OPTIONAL_NUMBER, "config": (dict,), "summary": (dict,)}

# (folder name, key, row, problems, stamp) of one run folder, as decoded: a tuple or a list
CacheEntry = tuple[str, str, dict, list, Union[FlatStamp, None]]


@dataclass
class CachedRuns:
    """What a runs folder's cache holds: each run folder's last entry, by folder name."""

    entries: dict[str, CacheEntry] = field(default_factory=dict)
    lines: int = 0         # entries in the file, superseded and unreadable ones included
    usable: bool = False   # the file is there, of this format, whole: lines may be appended to it


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


_Entry = tuple[str, str, _Row, list[str], Union[list[Union[str, int]], None]]
_decode_line = msgspec.json.Decoder(_Entry).decode if msgspec else None
_decode_block = msgspec.msgpack.Decoder(list[_Entry]).decode if msgspec else None
# an entry with its row and problems left as they are encoded: what forked_stamps.py's child needs
_StampOnly = tuple[str, str, msgspec.Raw, msgspec.Raw, Union[list[Union[str, int]], None]] if msgspec else None
_decode_stamps_block = msgspec.msgpack.Decoder(list[_StampOnly]).decode if msgspec else None
_decode_stamps_line = msgspec.json.Decoder(_StampOnly).decode if msgspec else None
_encode = msgspec.json.Encoder().encode if msgspec else None
_encode_block = msgspec.msgpack.Encoder().encode if msgspec else None


def read_cache(root: str) -> CachedRuns:
    """The cache of the runs folder ``root``; empty when there is none or it cannot be read."""
    return decoded_cache(cache_bytes(root))


@dataclass
class ReadAhead:
    """A runs folder's cache decoded ahead of its listing (while a store syncs into the folder, which
    never writes the cache file), with what identified the file then: used only while it is the same."""

    identity: tuple[int, int, int]  # the file's inode, size and modification time when it was read
    cached: CachedRuns


def read_ahead(root: str) -> ReadAhead | None:
    """The cache of ``root`` decoded now, for ``cached_since(root, ...)`` later; None without one."""
    try:
        with open_regular(os.path.join(root, LISTING_FILE)) as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
    except (OSError, ValueError):
        return None
    return ReadAhead((status.st_ino, status.st_size, status.st_mtime_ns), decoded_cache(data))


def cached_since(root: str, ahead: ReadAhead | None) -> tuple[bytes | None, CachedRuns]:
    """(the cache file's bytes when they were read now, else None; the decoded cache): the one read
    ahead while the file is still the one it was read from, else the file read and decoded now."""
    if ahead is not None:
        try:
            status = os.stat(os.path.join(root, LISTING_FILE))
        except OSError:
            status = None
        if status is not None and (status.st_ino, status.st_size, status.st_mtime_ns) == ahead.identity:
            return None, ahead.cached
    data = cache_bytes(root)
    return data, decoded_cache(data)


def cache_bytes(root: str) -> bytes | None:
    """The bytes of the runs folder ``root``'s cache file; None when there is none to read."""
    try:
        with open_regular(os.path.join(root, LISTING_FILE)) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def decoded_cache(data: bytes | None) -> CachedRuns:
    """The cache that a cache file's bytes hold; empty when they are not one."""
    cached = CachedRuns()
    parts = _parts(data)
    if parts is None:
        return cached
    block_part, lines = parts
    entries = cached.entries
    if block_part is not None:
        block = _block_entries(block_part)
        if block is None:
            return cached
        cached.lines = len(block)
        entries.update(zip(map(_NAME, block), block))  # by name, in C
    # a file cut short (a listing killed while appending) is rewritten: a line appended to it would
    # join the cut one
    cached.usable = data.endswith(b"\n")
    cached.lines += len(lines) - lines.count(b"")
    for line in lines:
        if line:
            entry = _decoded(line)
            if entry is not None:
                entries[entry[0]] = entry
    return cached


def cached_stamps(data: bytes | None) -> dict[str, tuple[str, FlatStamp | None]]:
    """{folder name: (key, stamp)} of a cache file's last entry of each folder, its rows and
    problems skipped (forked_stamps.py's child, checking the stamps while its parent decodes the
    rest). An entry this reads may be one decoded_cache leaves out, or the other way round: a
    stamp that holds tells its key, which only an entry of the same key takes."""
    found = {}
    parts = _parts(data)
    if parts is None or _decode_stamps_block is None:
        return found
    block_part, lines = parts
    if block_part is not None:
        try:
            found.update((name, (key, stamp)) for name, key, _, _, stamp in _decode_stamps_block(block_part))
        except (ValueError, RecursionError):
            return {}
    for line in lines:
        if line:
            try:
                name, key, _, _, stamp = _decode_stamps_line(line)
            except (ValueError, RecursionError):
                continue
            found[name] = (key, stamp)
    return found


def reads_stamps_alone() -> bool:
    """Whether cached_stamps reads a cache's stamps (msgspec is installed); else it finds none."""
    return msgspec is not None


def _parts(data: bytes | None) -> tuple[memoryview | None, list[bytes]] | None:
    """(the msgpack block, None when empty; the JSON lines after it) of a cache file's bytes;
    None when they are not a file of this format, whole up to its block, that this install reads."""
    if not data:
        return None
    header_end = data.find(b"\n", 0, MAX_HEADER_BYTES)
    block_size = _block_size(data[:header_end]) if header_end > 0 else None
    lines_start = header_end + 1 + block_size + 1 if block_size is not None else -1
    if block_size is None or len(data) < lines_start or data[lines_start - 1:lines_start] != b"\n":
        return None  # not this format, or its block cut short: rewritten
    if block_size and msgspec is None:
        return None  # a block a light install cannot read: rewritten as JSON lines
    block = memoryview(data)[header_end + 1:header_end + 1 + block_size] if block_size else None
    return block, data[lines_start:].split(b"\n")


def _block_size(header: bytes) -> int | None:
    """N of a header line ``{"format":4,"bulk":N}``; None for any other line."""
    try:
        fields = json.loads(header)
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, dict) or fields.get("format") != LISTING_FORMAT:
        return None
    size = fields.get("bulk")
    return size if type(size) is int and size >= 0 else None


def _block_entries(block: memoryview) -> list | None:
    """The entries of the msgpack block: typed in one call; else each entry checked in Python,
    those not shaped as entries left out. None when the block is not msgpack at all."""
    try:
        return _decode_block(block)
    except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
        pass
    try:
        entries = msgspec.msgpack.decode(block)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entries, list):
        return None
    return [entry for entry in entries if _is_entry(entry)]


def _decoded(line: bytes) -> CacheEntry | None:
    """The entry of a JSON line shaped as entry_line writes it; else None."""
    if _decode_line is not None:
        try:
            return _decode_line(line)
        except (ValueError, RecursionError):
            pass
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return entry if _is_entry(entry) else None


def _is_entry(entry) -> bool:
    """Whether a value decoded without msgspec's check is shaped as an entry (a stamp that is not
    is dropped: the run is listed from its entry, its folder scanned again)."""
    if not (isinstance(entry, list) and len(entry) == 5 and isinstance(entry[0], str) and isinstance(entry[1], str)
            and isinstance(entry[2], dict) and isinstance(entry[3], list)):
        return False
    row = entry[2]
    if not (all(isinstance(row.get(name, ...), types) for name, types in ROW_FIELDS.items())
            and all(isinstance(problem, str) for problem in entry[3])):
        return False
    if not (isinstance(entry[4], list) and all(type(item) in (str, int) for item in entry[4])):
        entry[4] = None
    return True


def entry_line(name: str, key: str, row: dict, problems: list[str], stamp: FlatStamp | None) -> bytes:
    """The cache's JSON line for one run folder: msgspec's JSON (a tenth of json.dumps's time) where
    it writes what json.dumps does, else json's; msgspec writes NaN and the infinities as null and
    refuses text with a lone surrogate, where json keeps both."""
    entry = [name, key, row, problems, stamp]
    if _encode is not None and _all_finite(row):
        try:
            return _encode(entry)
        except (TypeError, ValueError, OverflowError):
            pass
    return json.dumps(entry, separators=(",", ":")).encode()


def write_cache(root: str, cached: CachedRuns, kept: list[CacheEntry], new: list[CacheEntry]) -> bool:
    """Bring the cache up to date: ``kept``, the entries of the file to keep (their rows may carry
    the "path" a listing adds, which the file leaves out), and ``new``, those not in it yet,
    appended as JSON lines unless the file is to be rewritten whole (see the module doc). A
    folder that cannot be written (read-only, full) keeps what it had, or none: False then."""
    if not os.path.isdir(root):
        return False
    path = os.path.join(root, LISTING_FILE)
    live = len(kept) + len(new)
    dead = cached.lines - len(kept)
    try:
        if cached.usable and dead <= live * DEAD_LINES_PER_LIVE:
            if new:
                # one write, so appends of two listings do not interleave; never O_CREAT: a file
                # deleted since it was read is not started again without its header
                descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(b"".join(entry_line(*entry) + b"\n" for entry in new))
            return True
        replace_file(path, _whole_file([*map(_without_path, kept), *new]))
        if not cached.usable:  # a first listing by this version: the older formats' files are dead weight
            for legacy in LEGACY_LISTING_FILES:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(root, legacy))
    except (OSError, ValueError, TypeError):
        return False  # the next listing reads the runs again, or the older file lingers: the cache only saves time
    return True


def _without_path(entry: CacheEntry) -> CacheEntry:
    """An entry as the file holds it: its row without the "path" that the listing added."""
    name, key, row, problems, stamp = entry
    if "path" not in row:
        return entry
    row = row.copy()  # a copy in C, then one key off: a third of a comprehension's time
    del row["path"]
    return name, key, row, problems, stamp


def _whole_file(entries: list[CacheEntry]) -> bytes:
    """The cache's bytes: the header, the block of every entry msgpack takes, the others' lines."""
    block, lines = b"", entries
    if _encode_block is not None:
        try:
            block, lines = _encode_block(entries), []
        except (TypeError, ValueError, OverflowError):  # some entry it refuses: found one by one
            fits, lines = [], []
            for entry in entries:
                try:
                    _encode_block(entry)
                except (TypeError, ValueError, OverflowError):
                    lines.append(entry)
                else:
                    fits.append(entry)
            block = _encode_block(fits)
    header = json.dumps({"format": LISTING_FORMAT, "bulk": len(block)}, separators=(",", ":")).encode()
    return b"".join([header, b"\n", block, b"\n", *(entry_line(*entry) + b"\n" for entry in lines)])


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
