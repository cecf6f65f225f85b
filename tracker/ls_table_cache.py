"""tracker ls's last table, kept beside the listing cache, so that a listing after a few changed runs prints it again with only their lines made anew.

Formatting the table of 100,000 runs takes about a second, more than reading them from the
listing cache. Yet after one changed run all but one of its lines are the ones printed last
time. So a table of TABLE_MIN_ROWS rows or more is kept in TABLE_FILE, in the (first) runs
folder, with what shaped it (the options, the runs folders, the time zone, the code that
formats: ``shape``) and, for each row, its run folder, its content key (listing.Listing.keys:
the same key, the same row) and the length of each of its cells. The next listing of the same
shape takes each row whose folder and key are the same from the kept lines, makes the lines of
the others (``spliced``), and checks that each column's width is the one kept; anything else
(another shape, more than an eighth of the rows changed, a width that moved, a file cut short
or unreadable) makes the whole table as before. Either way the text is byte for byte what
column_table makes of the same rows (tests/test_ls_table_cache.py). When every row has the same
config and summary keys, the table also keeps what its columns were chosen from (ColumnBasis),
so that a listing whose changed rows fit it chooses the same columns without flattening every
row's config.

The file (docs/format.md): a JSON header line (format, shape, row count, headers, widths, the
basis, the byte size of each part, a CRC-32 of them all and a token), then the parts: the
folders' paths and the keys, each joined by line ends; each column's cell lengths, one byte a
row; the table's text; a line end. A listing that changed a few rows in place appends them as a
patch line naming the token (MAX_PATCHES), else replaces the file whole (atomic_file.py). A file
whose parts fail their CRC is ignored, a patch line cut short or of another token left out. It
is only a cache: deleting it is always safe.
"""
from __future__ import annotations

import json
import os
import secrets
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import itemgetter

from . import formatting
from .atomic_file import replace_file
from .formatting import (ColumnsOfSeveralShapes, column_table_lines, cut_column, first_difference, flat_config,
                         row_format, same_as_json)

TABLE_FILE = ".tracker-ls-table.cache"
TABLE_FORMAT = 4  # 2: the header holds the columns' basis; 3: and a token that patch lines name; 4: odd rows' keys
MAX_ODD_ROWS = 64  # rows of another config or summary shape than most that a ColumnBasis keeps the keys of
TABLE_MIN_ROWS = 1_000  # a smaller table is made in a few milliseconds: no file for it
MAX_CHANGED_SHARE = 1 / 8  # more rows changed than this share: the whole table is made again
MAX_PATCHES = 64  # patch lines appended before the file is written whole again
MAX_HEADER_BYTES = 1 << 20  # a first line longer than this is not a header of this format
_TEXT_ERRORS = "surrogatepass"  # folder names and cells may hold lone surrogates: kept as they are
_PATH, _SUMMARY = itemgetter("path"), itemgetter("summary")


@dataclass
class Table:
    """A table as column_table_lines makes it, with each row's run folder and content key."""

    headers: list[str]   # as given (uncut)
    paths: list[str]     # each row's run folder, in the table's order
    keys: list           # each row's content key; "" kept for a row without one (a running run)
    lengths: list[bytes]  # each column's cells' lengths (as cut, at most the 40 characters of a cut)
    widths: list[int]
    lines: list[str]     # the header line, the rule, then a line a row
    basis: ColumnBasis | None = None  # what chose its columns, where a few changed rows can be checked against it
    token: str = ""         # the file's, which a patch line names: a patch of another file's table is not applied
    patches: int = 0        # the patch lines applied to the file's table
    appendable: bool = False  # the file ends with a whole line: a patch line may be appended to it

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class ColumnBasis:
    """What tracker ls chooses a table's columns from (formatting.run_fields), when the rows have
    the same config keys and the same summary keys, in the same order, but for at most
    MAX_ODD_ROWS rows whose own keys it keeps (a run of another script, a store's live run): then
    after a few rows changed, checking those rows tells whether the columns are still the same,
    with no pass over every row's config (0.15-0.45 s for 100,000 runs)."""

    config_keys: list[str]           # the rows' flattened config keys, in the order they first appear
    summary_keys: list[str]          # the rows' summary keys, in the order they first appear
    witnesses: dict[str, list[int]]  # each config key that varies: two rows (places) whose values differ
    # [config keys, summary keys] of the rows of the common shape (None: every row has the two
    # lists above), and of each row of another shape, by its place (a string, as JSON keeps it)
    common: list[list[str]] | None = None
    odd: dict[str, list[list[str]]] = field(default_factory=dict)

    def keys_at(self, place: int) -> list[list[str]]:
        """[config keys, summary keys] the row at ``place`` had."""
        return self.odd.get(str(place)) or self.common or [self.config_keys, self.summary_keys]

    @property
    def varying(self) -> list[str]:
        return [key for key in self.config_keys if key in self.witnesses]


@dataclass
class Changes:
    """How a listing's rows differ from a kept table's: each row's folder and key, and the places
    of the rows whose line is not the kept one."""

    paths: list[str]
    keys: list[str]
    places: list[int]
    same_order: bool  # the same folders in the same order as the kept table (only keys changed)


def table_shape(*code_files: str, **shaping) -> str:
    """The shape of a table: ``shaping`` (the options and runs folders that chose and ordered its
    rows and columns) with the time zone its start times were written in and the code that
    formats it (formatting.py, this module and ``code_files``: an edited module formats anew), as
    one string to compare."""
    code = []
    for path in (formatting.__file__, __file__, *code_files):
        try:
            info = os.stat(path)
            code.append([path, info.st_size, info.st_mtime_ns])
        except (OSError, TypeError):
            code.append([path])
    try:
        zone = os.path.realpath("/etc/localtime")
        zone_stat = os.stat(zone)
        zone_file = [zone, zone_stat.st_size, zone_stat.st_mtime_ns]
    except OSError:
        zone_file = None
    return json.dumps({**shaping, "format": TABLE_FORMAT, "tz": os.environ.get("TZ"), "zone_file": zone_file,
                       "zones": [time.tzname, time.timezone, time.altzone, time.daylight], "code": code},
                      sort_keys=True)


def full_table(headers: list[str], columns: list[list[str]], rows: list[dict], keys: dict[str, str],
               basis: ColumnBasis | None) -> Table:
    """The table of ``columns`` (one list of cells per column, a cell per row of ``rows``), as
    column_table makes it, with what ``spliced`` needs. ``keys``: each row's key by its path."""
    lines, cut, widths = column_table_lines(headers, columns)
    paths = list(map(_PATH, rows))
    return Table(headers, paths, list(map(keys.get, paths, repeat(""))),
                 [_lengths(column) for column in cut], widths, lines, basis)


def column_basis(configs: Mapping[str, list], rows: list[dict]) -> ColumnBasis | None:
    """The ColumnBasis of ``rows``, ``configs`` their config_columns; None when their configs or
    summaries are of more than one shape but for MAX_ODD_ROWS rows, or the table is too small to
    keep (TABLE_MIN_ROWS)."""
    if len(rows) < max(TABLE_MIN_ROWS, 1):
        return None
    # config_columns gives a plain dict only when every config has the same keys in the same order,
    # and ColumnsOfSeveralShapes when a few of them differ, naming them
    if type(configs) is dict:
        common_config, odd_configs = list(configs), {}
    elif isinstance(configs, ColumnsOfSeveralShapes):
        common_config, odd_configs = configs.common_keys, configs.odd_keys
    else:
        return None
    summary_shapes = list(map(tuple, map(_SUMMARY, rows)))
    counts = Counter(summary_shapes)
    if len(counts) > MAX_ODD_ROWS + 1:
        return None
    common_summary = max(counts, key=counts.__getitem__)
    odd_summaries = {place: list(shape) for place, shape in enumerate(summary_shapes) if shape != common_summary}
    if len(odd_summaries.keys() | odd_configs.keys()) > MAX_ODD_ROWS:
        return None
    witnesses = {}
    for key, column in configs.items():
        place = first_difference(column)
        if place is not None:
            witnesses[key] = [0, place]
    odd_places = sorted(odd_summaries.keys() | odd_configs.keys())
    if not odd_places:
        return ColumnBasis(common_config, list(common_summary), witnesses)
    # the summary keys in the order they first appear, row by row: the common shape's at its first row
    first_common = next(place for place, shape in enumerate(summary_shapes) if shape == common_summary)
    summary_keys = list(dict.fromkeys(chain.from_iterable(
        keys for _, keys in sorted([(first_common, list(common_summary)), *odd_summaries.items()], key=itemgetter(0)))))
    odd = {str(place): [odd_configs.get(place, common_config), odd_summaries.get(place, list(common_summary))]
           for place in odd_places}
    return ColumnBasis(list(configs), summary_keys, witnesses, [common_config, list(common_summary)], odd)


def basis_holds(basis: ColumnBasis, rows: list[dict], changes: Changes) -> bool:
    """Whether ``rows``, which differ from the kept table's only at ``changes`` (in the same
    order), have the kept table's ColumnBasis: each changed row has the config and summary keys
    the row at its place had, the same value as the others of each config key that did not vary
    (None where a row lacks the key, as config_columns has it), and no row that witnessed a key's
    varying changed."""
    changed = set(changes.places)
    if not changes.same_order or any(place in changed for pair in basis.witnesses.values() for place in pair):
        return False
    if not changed:
        return True
    reference = next((place for place in range(len(rows)) if place not in changed), None)
    if reference is None:
        return False
    constant = [key for key in basis.config_keys if key not in basis.witnesses]
    flat = flat_config(rows[reference]["config"])
    same = [same_as_json(flat.get(key)) for key in constant]
    for place in changes.places:
        row = rows[place]
        flat = flat_config(row["config"])
        config_keys, summary_keys = basis.keys_at(place)
        if list(flat) != config_keys or list(row["summary"]) != summary_keys or \
                [same_as_json(flat.get(key)) for key in constant] != same:
            return False
    return True


def changes(last: Table, rows: list[dict], keys: dict[str, str]) -> Changes | None:
    """How ``rows`` (``keys``: their keys by folder) differ from ``last``; None when more than
    MAX_CHANGED_SHARE of them do."""
    paths = list(map(_PATH, rows))
    new_keys = list(map(keys.get, paths, repeat("")))  # "": a running run's, never the same as kept
    same_order = paths == last.paths  # the same rows in the same order, as after a few runs changed
    if same_order:
        places = list(compress(range(len(paths)), map(_differ, new_keys, last.keys)))
    else:  # runs added, gone or reordered: each row's kept line found by its folder
        kept_keys = dict(zip(last.paths, last.keys))
        places = list(compress(range(len(paths)), map(_differ, new_keys, map(kept_keys.get, paths, repeat("")))))
    if len(places) > len(paths) * MAX_CHANGED_SHARE:
        return None
    return Changes(paths, new_keys, places, same_order)


def spliced(last: Table, found: Changes, headers: list[str], rows: list[dict], cells,
            basis: ColumnBasis | None) -> Table | None:
    """The table of ``rows`` (with ``headers``), made from ``last`` where rows are the same (same
    folder, same key) and by ``cells(changed rows) -> columns of their cells`` for the others;
    None when it cannot be: other headers, a column's width not the same."""
    if headers != last.headers:
        return None
    places = found.places
    if found.same_order:
        if not places:
            return last
        lines = last.lines.copy()
        lengths = [bytearray(column) for column in last.lengths]
    else:
        index = dict(zip(last.paths, range(len(last.paths))))
        at = list(map(index.get, found.paths, repeat(0)))  # a new row's 0 is replaced below
        lines = [*last.lines[:2], *map(last.lines.__getitem__, [place + 2 for place in at])]
        lengths = [bytearray(map(column.__getitem__, at)) for column in last.lengths]
    columns = [cut_column(column) for column in cells([rows[place] for place in places])] if places else []
    for column, column_lengths in zip(columns, lengths):
        for place, cell in zip(places, column):
            column_lengths[place] = len(cell)
    header_lengths = list(map(len, cut_column(list(headers))))
    widths = [max(max(column, default=0), header) for column, header in zip(lengths, header_lengths)]
    if widths != last.widths:
        return None  # a cell wider than its column, or the widest one gone: every line moves
    line = row_format(widths)
    for place, row_cells in zip(places, zip(*columns)):
        lines[place + 2] = (line % row_cells).rstrip()
    return Table(headers, found.paths, found.keys, list(map(bytes, lengths)), widths, lines, basis)


def _differ(key: str, kept: str) -> bool:
    """Whether a row's key is not its kept one; a row without a key ("") differs from any."""
    return not key or key != kept


def _lengths(column: list[str]) -> bytes:
    return bytes(map(len, column))


def read_table(root: str, shape: str) -> Table | None:
    """The table kept in ``root`` when it has this ``shape`` and is whole; else None."""
    try:
        with open(os.path.join(root, TABLE_FILE), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    header_end = data.find(b"\n", 0, MAX_HEADER_BYTES)
    try:
        header = json.loads(data[:header_end]) if header_end > 0 else None
        if not isinstance(header, dict) or header.get("format") != TABLE_FORMAT or header.get("shape") != shape:
            return None
        count, sizes, headers, widths = header["rows"], header["sizes"], header["headers"], header["widths"]
        basis = None if header["basis"] is None else ColumnBasis(**header["basis"])
        if basis is not None and not (isinstance(basis.config_keys, list) and isinstance(basis.summary_keys, list)
                                      and isinstance(basis.witnesses, dict)
                                      and (basis.common is None or isinstance(basis.common, list))
                                      and isinstance(basis.odd, dict)):
            return None
        token, end = header["token"], header_end + 1 + sum(sizes)
        body = memoryview(data)[header_end + 1:end]
        if data[end:end + 1] != b"\n" or zlib.crc32(body) != header["crc32"]:
            return None  # cut short, or written over: made again
        parts, start = [], 0
        for size in sizes:
            parts.append(body[start:start + size])
            start += size
        paths_part, keys_part, lengths_part, text_part = parts
        paths = str(paths_part, "utf-8", _TEXT_ERRORS).split("\n")
        keys = str(keys_part, "ascii").split("\n")
        lines = str(text_part, "utf-8", _TEXT_ERRORS).split("\n")
        lengths = [bytes(lengths_part[start:start + count]) for start in range(0, count * len(widths), count)]
        if not (len(paths) == len(keys) == count == len(lines) - 2 and len(lengths) == len(widths) == len(headers)
                and len(lengths_part) == count * len(widths)):
            return None
        table = Table(headers, paths, keys, lengths, widths, lines, basis, token, 0, data.endswith(b"\n"))
        patches = data[end + 1:].split(b"\n")[:-1]  # the last one, cut short or empty, left out
        return table if not patches or _patched(table, patches) else None
    except (ValueError, KeyError, TypeError, RecursionError, IndexError):
        return None


def _patched(table: Table, patches: list[bytes]) -> bool:
    """Apply the patch lines of the file to its ``table``: each a JSON [token, [[place, key, cell
    lengths, line], ...]] that a listing appended (write_table) for the rows it made anew. False
    when they leave a column's width other than the header's (two listings' patches at once)."""
    lengths = [bytearray(column) for column in table.lengths]
    for patch in patches:
        token, rows = json.loads(patch)
        if token != table.token:
            continue  # appended to the file this one replaced
        for place, key, cell_lengths, line in rows:
            if not (type(key) is str and type(line) is str and len(cell_lengths) == len(lengths)):
                return False
            table.keys[place] = key
            table.lines[place + 2] = line
            for column, length in zip(lengths, cell_lengths):
                column[place] = length
        table.patches += 1
    table.lengths = list(map(bytes, lengths))
    header_lengths = list(map(len, cut_column(list(table.headers))))
    return [max(max(column, default=0), header) for column, header in zip(table.lengths, header_lengths)] == table.widths


def write_table(root: str, shape: str, table: Table, last: Table | None = None, found: Changes | None = None) -> None:
    """Keep ``table`` in ``root`` for the next listing of this ``shape``: a table of fewer than
    TABLE_MIN_ROWS rows, or one whose folders or cells hold a line end, is not kept (nor is the
    file of an older table). A folder that cannot be written keeps what it had. A table spliced
    from the file's ``last`` table in the same order and on the same basis (``found``: its
    changes) is kept as a patch line appended to the file, its changed rows' keys, cell lengths
    and lines (a few hundred bytes where the file is 26 MB for 100,000 runs), up to MAX_PATCHES."""
    count = len(table.paths)
    if count < TABLE_MIN_ROWS:
        return
    if (last is not None and found is not None and found.same_order and last.appendable and table.basis is last.basis
            and last.patches < MAX_PATCHES and table.headers == last.headers and table.widths == last.widths):
        rows = [[place, table.keys[place], [column[place] for column in table.lengths], table.lines[place + 2]]
                for place in found.places]
        if "\n" not in "".join(row[3] for row in rows):
            try:
                # one write, so that two listings' patches do not interleave; never O_CREAT: a file
                # deleted since it was read is not started again without its header
                descriptor = os.open(os.path.join(root, TABLE_FILE), os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(json.dumps([last.token, rows], separators=(",", ":")).encode() + b"\n")
                return
            except OSError:
                pass  # written whole below
    try:
        paths = "\n".join(table.paths)
        if paths.count("\n") != count - 1 or len(table.lines) != count + 2:
            return  # a folder's name or a cell with a line end: the parts would not split back
        parts = [paths.encode("utf-8", _TEXT_ERRORS), "\n".join(table.keys).encode("ascii"),
                 b"".join(table.lengths), table.text.encode("utf-8", _TEXT_ERRORS)]
        crc = 0
        for part in parts:
            crc = zlib.crc32(part, crc)
        basis = None if table.basis is None else vars(table.basis)
        header = json.dumps({"format": TABLE_FORMAT, "shape": shape, "rows": count, "headers": table.headers,
                             "widths": table.widths, "basis": basis, "sizes": list(map(len, parts)), "crc32": crc,
                             "token": secrets.token_hex(8)}, separators=(",", ":"))
        replace_file(os.path.join(root, TABLE_FILE), b"".join([header.encode(), b"\n", *parts, b"\n"]))
    except (OSError, ValueError):
        pass  # the next listing makes the whole table: the file only saves time
