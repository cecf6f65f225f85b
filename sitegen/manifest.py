"""The build manifest: what the last build made of each run, keyed by content.

A rebuild into a site this command made compares keys with the manifest it left there: a run
whose folder's key is unchanged keeps its page, and its index row is taken from the manifest
instead of reading the run again, so a rebuild reads only the runs that changed. A change of
the site key (theme files, tracker version, build options) rebuilds everything. A run that was
running is always read again, because its status also depends on the clock: a heartbeat that
goes stale turns it "crashed" with no file changing.

Runs are keyed by their recorded id, as their pages are (the slug comes from the id), not by
folder: a folder copied under another name holds the same id, and one id is one page (see
identity.py). An entry's key names the folder its page was made from (discover.py), so a page
made from a copy that has since gone is made again from the folder now shown. The ids of the
copies are kept too, under their keys, so that telling copies apart needs no read. No path is
kept, so moving a runs folder keeps the manifest valid and the public site shows no build-machine
paths. Everything in it (rows, heads, findings) is redacted.

The file (MANIFEST_FILE) is a line ``{"format":10}``, then every run's entry as of the last
whole write, as columns on one line (_Columns: each run's key, the head's fields, findings, media,
shared files, commit and its row's length in bytes, in the order of the run ids), then each run's
row of data/index.js as script-safe JSON text on a line of its own, in that order; then records of
two lines each: a build's end, ``{"site_key", "runs" (how many), "copies", "commits", "index"}``,
then an empty line ("index": index_data.index_digest of the data/index.js that build wrote, so
that the next one updates that file rather than make it again from every row); or a run's entry,
``[key, head, findings, media, shared, commit]`` (the head holds its id), then its row. The first
record is the end of the build that wrote the file whole. A later entry of an id supersedes an
earlier one. A rebuild appends the entries of the runs it rendered and its end, in one write
(write_manifest), so that a rebuild after one changed run among 100,000 writes two records, not
100 MB; the file is written whole when superseded records pass an eighth of the live ones, on a
full build and when a run is removed. A reader takes the records up to the last whole end
record: a build killed while appending leaves the manifest it started from, which is safe (see
read_manifest). The columns decode and are checked by msgspec in one call (the 100,000 entry
lines of format 9 were a quarter of a rebuild's own CPU), and the rows are not read: a row is
read from the file when a build asks for it (RunEntry.row_json), which a rebuild does for the
changed runs and the first. A format-9 file (records only) is read, and written whole next.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from dataclasses import dataclass, field
from itertools import accumulate, compress, repeat
from math import isfinite
from operator import add, attrgetter, is_not, itemgetter
from typing import Any, NotRequired, TypedDict, Union

from msgspec import DecodeError, Struct, ValidationError, convert, to_builtins
from msgspec.json import Decoder, Encoder

from tracker.atomic_file import replace_file
from tracker.version import __version__

from .assets import plan_assets
from .commit_diffs import KnownCommits
from .errors import SiteError
from .model import ROW_HEAD_FIELDS
from .output import append_at
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 10  # 10: the runs of a whole write as columns (9: records only, read once; others: a full build)
HEADER = json.dumps({"format": MANIFEST_FORMAT}, separators=(",", ":")) + "\n"
HEADER_BYTES = HEADER.encode()
FORMAT_9_HEADER = b'{"format":9}\n'
DEAD_BYTES_PER_LIVE = 1 / 8  # superseded records past this share of the live ones: the file is rewritten


# A record's shape; a head is model.row_head()'s dict, the fields the site pages read typed.
_HEAD_TYPES = {"id": str, "slug": str, "status": str, "created": float | int | None}
_Head = TypedDict("_Head", {name: _HEAD_TYPES.get(name, Any) for name in ROW_HEAD_FIELDS})
_HeadColumns = tuple[tuple(list[_HEAD_TYPES.get(name, Any)] for name in ROW_HEAD_FIELDS)]
_ID_COLUMN = ROW_HEAD_FIELDS.index("id")


_Media = TypedDict("_Media", {"files": list[str], "budget": Any, "wanted": Any, "left_out": Any}, total=False)


class RunEntry(Struct, array_like=True, gc=False):
    """One run folder as the last build left it. Its entry line decodes straight into one (a msgspec
    Struct, made in C: a Python object a run was a fifth of reading 100,000), its row added as read."""

    key: str                 # discover.Discovery.keys: its folder's name and files
    head: _Head              # model.row_head(): what every site page needs
    findings: list[str]      # redactions, for --strict and the report
    media: _Media            # media_output.publish_run_media's record; {} for none
    shared: list[str]        # environment files it shares by content (environments.py)
    commit: str | None       # its row's short commit hash (commit_diffs.py)
    row: Any = ""            # its whole row of data/index.js, script-safe JSON (row_json); UTF-8 bytes as read,
    source: Any = None       # or its place among the rows of ``source`` (a _RowFile), not read yet

    @property
    def row_json(self) -> str:
        """The row as text: a manifest read reads or decodes only the rows a build asks for."""
        row = self.row
        if type(row) is str:
            return row
        return (self.source.row(row) if type(row) is int else row).decode("utf-8")

    @property
    def row_bytes(self) -> bytes:
        """The row as UTF-8 bytes, as the file holds it."""
        row = self.row
        if type(row) is str:
            return row.encode("utf-8")
        return self.source.row(row) if type(row) is int else row

    def __repr__(self) -> str:  # the row as text, however it is held: a read entry shows as the one written
        return (f"RunEntry(key={self.key!r}, head={self.head!r}, row_json={self.row_json!r}, findings={self.findings!r}, "
                f"media={self.media!r}, shared={self.shared!r}, commit={self.commit!r})")

    @property
    def status(self) -> str:
        return self.head["status"]

    @property
    def media_files(self) -> list[str]:
        """The site files its media need (shared with other runs when they logged the same bytes)."""
        return self.media.get("files", [])

    def media_still_fits(self, budget_bytes: int) -> bool:
        """Whether its media page would be the same under ``budget_bytes`` (the number of runs
        sets each run's share): the same budget, or one that holds all its media as the old did."""
        budget, wanted = self.media.get("budget"), self.media.get("wanted", 0)
        return not self.media or budget == budget_bytes or (wanted <= budget and wanted <= budget_bytes)

    @property
    def settled(self) -> bool:
        """False while the run is running: its page must be rendered again even if no file changed."""
        return self.status != "running"


@dataclass
class StoredManifest:
    """Where the manifest file read stands: what a rebuild needs to append to it rather than write it whole.
    Lengths are in bytes: they only weigh superseded records against live ones."""

    end: int           # bytes of its whole records, up to the last build's end: appended records follow
    length: int        # bytes of those records, the format line left out
    dead: int          # of which superseded: older entries of a run, older builds' ends
    entry_size: float  # an entry record's mean length: a superseded one is counted as that
    end_size: int      # the last build's end record's length


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, RunEntry] = field(default_factory=dict)  # run id -> entry
    copies: dict[str, str] = field(default_factory=dict)     # key of a folder the site skips -> its run id
    commits: KnownCommits = field(default_factory=KnownCommits)  # the full hashes of the runs' commits
    index: str | None = None  # index_data.index_digest of the data/index.js made from these runs' rows
    stored: StoredManifest | None = field(default=None, repr=False, compare=False)  # when read from a file

    def in_site_order(self) -> list[RunEntry]:
        """The entries as the site lists its runs: oldest first, then by id."""
        heads = list(map(attrgetter("head"), self.runs.values()))
        created = list(map(itemgetter("created"), heads))
        if None in created:
            created = [time or 0.0 for time in created]
        # tuples compared in C, where a key function was called for each of 100,000 runs (ids are unique)
        return list(map(itemgetter(2), sorted(zip(created, map(itemgetter("id"), heads), self.runs.values()))))

    def known_ids(self) -> dict[str, str]:
        """{folder key: run id} of every folder the last build read."""
        return {entry.key: run_id for run_id, entry in self.runs.items()} | self.copies

    def to_text(self) -> str:
        """The whole file: the format line, the runs' entries as columns and their rows (by id), the
        build's end record."""
        entries = list(map(itemgetter(1), sorted(self.runs.items())))
        rows = list(map(attrgetter("row_bytes"), entries))
        return (HEADER + _columns_line(entries, rows) + "\n" + b"".join(map(add, rows, repeat(b"\n"))).decode()
                + _end_record(self))


def _columns_line(entries: list[RunEntry], rows: list[bytes]) -> str:
    """The entries as _Columns, each run's shared files as their place in a list of the distinct
    ones (100,000 runs share a few environments)."""
    shared_places: dict[tuple[str, ...], int] = {}
    shared = [shared_places.setdefault(tuple(files), len(shared_places)) for files in map(attrgetter("shared"), entries)]
    heads = list(map(attrgetter("head"), entries))
    columns = _Columns(list(map(attrgetter("key"), entries)),
                       tuple(list(map(itemgetter(name), heads)) for name in ROW_HEAD_FIELDS),
                       list(map(attrgetter("findings"), entries)), list(map(attrgetter("media"), entries)),
                       shared, list(map(list, shared_places)), list(map(attrgetter("commit"), entries)),
                       list(map(len, rows)))
    created = columns.heads[ROW_HEAD_FIELDS.index("created")]
    try:  # json where msgspec would change the text (see _line): NaN or an infinity, a lone surrogate
        if all(map(isfinite, compress(created, map(is_not, created, repeat(None))))):
            return _encode(columns).decode()
    except (UnicodeEncodeError, OverflowError):
        pass
    return json.dumps(to_builtins(columns), separators=(",", ":"))


def _entry_record(entry: RunEntry) -> str:
    """[key, head, findings, media, shared, commit] (the head holds the id), then its row on a line of its own."""
    return _line([entry.key, entry.head, entry.findings, entry.media, entry.shared, entry.commit],
                 entry.head["created"]) + "\n" + entry.row_json + "\n"


def _end_record(manifest: Manifest) -> str:
    """What is true of the whole site once a build ends; an empty second line."""
    return _line({"site_key": manifest.site_key, "runs": len(manifest.runs), "copies": dict(sorted(manifest.copies.items())),
                  "commits": manifest.commits.to_json(), "index": manifest.index}, None) + "\n\n"


def _line(value, created) -> str:
    """msgspec writes a line in a tenth of json's time, but writes NaN and infinities as null and
    refuses lone surrogates: json writes those lines (only a head's "created" is a float)."""
    if type(created) is not float or isfinite(created):
        try:
            return _encode(value).decode()
        except UnicodeEncodeError:
            pass
    return json.dumps(value, separators=(",", ":"))


def write_manifest(out: str, manifest: Manifest, previous: Manifest | None) -> None:
    """Bring ``out``'s manifest file from ``previous`` (as read_manifest read it) to ``manifest``:
    the records of the runs that changed and an end record appended in one write, or the file
    replaced whole (atomic_file.py) when there is no file to append to, the site key changed, a
    run was removed (the file is published with the site: a removed run's lines must go with it),
    or the bytes of superseded records would pass DEAD_BYTES_PER_LIVE of the live ones."""
    stored = previous.stored if previous is not None else None
    old = previous.runs if previous is not None else {}
    path = os.path.join(out, MANIFEST_FILE)
    if stored is not None and previous.site_key == manifest.site_key and old.keys() <= manifest.runs.keys():
        runs = manifest.runs  # the entries not kept from ``previous`` as read, picked in C
        changed = sorted(compress(runs.items(), map(is_not, map(old.get, runs), runs.values())), key=itemgetter(0))
        appended = "".join([*(_entry_record(entry) for _, entry in changed), _end_record(manifest)]).encode()
        dead = stored.dead + stored.end_size + stored.entry_size * sum(run_id in old for run_id, _ in changed)
        if dead <= (stored.length + len(appended) - dead) * DEAD_BYTES_PER_LIVE:
            try:
                append_at(out, MANIFEST_FILE, stored.end, appended)
                return
            except FileNotFoundError:
                pass  # removed since it was read: written whole below
    replace_file(path, manifest.to_text())


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable.

    Records after the last whole end record (a build killed while appending) are not read: the
    manifest is the one that build started from, whose keys make the next build render again the
    runs that build replaced. The rows of the whole write stay in the file until asked for (_RowFile)."""
    path = os.path.join(out, MANIFEST_FILE)
    try:
        handle = open(path, "rb", buffering=0)
    except OSError:
        return None
    rows = _RowFile(path, handle)
    try:
        first = handle.read(len(HEADER_BYTES))
        if first.startswith(FORMAT_9_HEADER):  # records only: read as they are, then the file is written whole
            manifest = _manifest_of({}, 0, _read_from(handle, len(FORMAT_9_HEADER)), after_base=False)
            if manifest is not None:
                manifest.stored = None
            return manifest
        if first != HEADER_BYTES:
            return None
        line = _line_from(handle, len(HEADER_BYTES))
        if not line.endswith(b"\n"):
            return None
        base = _base_entries(line, rows, len(HEADER_BYTES) + len(line))
        if base is None:
            return None
        return _manifest_of(base, rows.end - len(HEADER_BYTES), _read_from(handle, rows.end), after_base=True)
    except (OSError, ValueError, TypeError, AttributeError, IndexError, DecodeError):
        return None  # no usable manifest: the build is a full one, never a wrong incremental one


_READ_BYTES = 1 << 22  # the columns line is read in blocks of this (18 MB for 100,000 runs: a file object's readline took 2.5x as long)


def _line_from(handle, start: int) -> bytes:
    """The bytes of the file ``handle`` (unbuffered) from ``start`` through the next line end (all
    that follows when none does)."""
    handle.seek(start)
    blocks = []
    while block := handle.read(_READ_BYTES):
        end = block.find(b"\n")
        if end >= 0:
            blocks.append(block[:end + 1])
            break
        blocks.append(block)
    return b"".join(blocks)


def _read_from(handle, start: int) -> bytes:
    """The bytes of the file ``handle`` from ``start`` to its end."""
    handle.seek(start)
    return handle.readall()


class _RowFile:
    """The rows of a manifest's whole write, each read from its file when a build asks for it (a
    rebuild asks for a few of 100,000, where reading them all was a tenth of a second). The file
    is held open: replaced meanwhile (a build writes it whole), the rows read are still the ones
    the columns describe; appending leaves them be."""

    def __init__(self, path: str, handle):
        self.path, self.handle = path, handle  # unbuffered: a row is one read
        self.starts: list[int] = []   # where each run's row begins in the file, in the columns' order
        self.lengths: list[int] = []  # its bytes, without the line end
        self.end = 0                  # where the rows end: the records follow

    def row(self, place: int) -> bytes:
        length = self.lengths[place]
        self.handle.seek(self.starts[place])
        data = self.handle.read(length + 1)
        if len(data) != length + 1 or data[-1:] != b"\n":
            raise SiteError(f"{self.path}: the row of run {place + 1} is not where its columns say; "
                            "build with --full to write the manifest again")
        return data[:-1]

    def __del__(self):
        self.handle.close()


class _Columns(Struct, gc=False):
    """A whole write's runs, the order of their ids: each a RunEntry's fields, its row's length."""

    keys: list[str]
    heads: _HeadColumns             # a list of each head field's values, ROW_HEAD_FIELDS in order
    findings: list[list[str]]
    media: list[_Media]
    shared: list[int]               # each run's place in shared_files
    shared_files: list[list[str]]   # each distinct list of files runs share
    commits: list[str | None]
    rows: list[int]                 # each row's bytes, without its line end


def _base_entries(line: bytes, rows: _RowFile, start: int) -> dict[str, RunEntry] | None:
    """The runs of the columns ``line``, by id, their rows in ``rows`` from ``start``; None when the
    columns are not shaped as written (checked by msgspec as it decodes, in one call)."""
    try:
        columns = _decode_columns(line)
    except ValidationError:
        return None
    except DecodeError:  # json's NaN or lone surrogate (see _columns_line)
        columns = convert(json.loads(line), _Columns)
    count = len(columns.keys)
    if {len(column) for column in [*columns.heads, columns.findings, columns.media, columns.shared,
                                    columns.commits, columns.rows]} - {count}:
        return None
    ends = list(accumulate(map(add, columns.rows, repeat(1)), initial=start))
    rows.starts, rows.lengths, rows.end = ends[:-1], columns.rows, ends[-1]
    heads = map(dict, map(zip, repeat(ROW_HEAD_FIELDS), zip(*columns.heads)))
    entries = map(RunEntry, columns.keys, heads, columns.findings, columns.media,
                  map(columns.shared_files.__getitem__, columns.shared), columns.commits, range(count), repeat(rows))
    runs = dict(zip(columns.heads[_ID_COLUMN], entries))
    return runs if len(runs) == count and min(columns.shared, default=0) >= 0 else None


def _manifest_of(base: dict[str, RunEntry], base_length: int, data: bytes, after_base: bool) -> Manifest | None:
    """The manifest of the ``base`` entries (a whole write's, ``base_length`` bytes after the format
    line) and the records of ``data`` that follow them (``after_base``: from the whole write's end
    record), up to the last whole end record; None if one is not shaped as written (checked by
    msgspec as it decodes: a hand-edited or damaged manifest must not break a rebuild)."""
    # split as bytes (msgspec decodes the entry lines from bytes, and a row is decoded only when used),
    # what follows the last line end dropped: a write cut short, maybe in the middle of a character
    lines = data.split(b"\n")
    lines.pop()
    metas, rows = lines[0::2], lines[1::2]
    last = next((index for index in range(len(rows) - 1, -1, -1) if metas[index][:1] == b"{"), None)
    if last is None:
        return None
    if last < len(metas) - 1 or not data.endswith(b"\n"):  # a cut tail
        del metas[last + 1:], rows[last + 1:]
    try:  # msgspec's decoder mapped over the lines: no Python call a line
        records = list(map(_decode_record, metas))
    except ValidationError:
        return None
    except DecodeError:  # json's NaN or lone surrogate (see _line): line by line, json where msgspec refuses
        records = list(map(_record, metas))
    entries = [record for record in records if type(record) is RunEntry]
    ends = [index for index, record in enumerate(records) if type(record) is dict]
    if any(rows[index] for index in ends) or (after_base and type(records[0]) is not dict):
        return None
    # each entry its row, and the entries by id, in C: a Python step a run was 0.1 s at 100,000 runs
    deque(map(setattr, entries, repeat("row"), compress(rows, map(is_not, map(type, records), repeat(dict)))), 0)
    written = len(base) + len(entries)  # entries, superseded or not
    runs = base
    runs.update(zip(map(itemgetter("id"), map(attrgetter("head"), entries)), entries))
    if records[-1]["runs"] != len(runs):
        return None
    length = base_length + sum(map(len, metas)) + sum(map(len, rows)) + 2 * len(metas)
    ends_length = sum(len(metas[index]) + 2 for index in ends)
    entry_size = (length - ends_length) / max(1, written)
    last = records[-1]
    return Manifest(last["site_key"], runs, last["copies"], KnownCommits(last["commits"]["refs"], last["commits"]["full"]),
                    last.get("index"), StoredManifest(len(HEADER_BYTES) + length, length,
                                                      ends_length - len(metas[-1]) - 2
                                                      + round(entry_size * (written - len(runs))),
                                                      entry_size, len(metas[-1]) + 2))


def _record(meta: bytes):
    """One line by msgspec, or by json where msgspec refuses the text; ValidationError where it is not shaped as written."""
    try:
        return _decode_record(meta)
    except ValidationError:
        raise
    except DecodeError:
        return convert(json.loads(meta), _Record)


class _Commits(TypedDict):
    refs: str | None
    full: dict[str, str]


class _End(TypedDict):
    site_key: str
    runs: int       # how many runs the manifest holds once this build ended
    copies: dict[str, str]
    commits: _Commits
    index: NotRequired[str | None]  # absent in a manifest written before it was kept


_Record = Union[RunEntry, _End]
_decode_record = Decoder(_Record).decode
_decode_columns = Decoder(_Columns).decode
_encode = Encoder().encode


def site_key(theme: Theme, settings: dict) -> str:
    """Hash of the tracker version, the build settings, and the content of every template and asset."""
    digest = hashlib.sha256(json.dumps([__version__, theme.name, settings], sort_keys=True, default=str).encode())
    files = {f"templates/{relative}": path for folder in reversed(theme.template_dirs)
             for relative, path in _files_under(folder).items()}
    files.update(plan_assets(theme.static_dirs)[0])
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0")
        with open(files[relative], "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _files_under(folder: str) -> dict[str, str]:
    """Every file below ``folder``: {relative path with '/': absolute path}."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder).replace(os.sep, "/")] = path
    return found
