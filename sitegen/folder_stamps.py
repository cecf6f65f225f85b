"""Each run folder's stat record from the last build: a rebuild finds unchanged folders by a stat per file.

A folder's key (discover.py, tracker/run_keys.py) hashes the names, sizes and modification times
of all its files, which takes a directory read of every run folder: most of a rebuild's time at
100,000 runs. A scan also stamps the folder (run_keys.scan_folder(stamped=True): its and its
sub-folders' change times, its files' sizes and modification times; a folder changed too
recently for its times to be trusted is not stamped), and while a stamp holds
(run_keys.stamp_holds: a stat per entry, two for the usual run) the folder's key is the one made
with it. This module keeps the stamps from build to build.

The file (STAMPS_FILE in the site folder) holds each runs folder's stamps by position in --runs,
by folder name: no build-machine path, and a moved runs folder keeps its stamps (mv keeps the
times). A folder with a name that is not UTF-8 or holds a token shape (redaction.py: the file is
published with the site) is not stamped. With an unreadable file every folder is read.

It is JSON lines: ``{"format":3}``, then the usual stamps of a whole write (a folder's own change
time and the files in it, no sub-folder) as columns on one line: for each runs folder, a group for
each number of files, ``[names, keys, change times, [[file names, sizes, modification times], ...]]``
(a triple for each file's place): decoded in one call into few objects, where the stamps as lines
were 0.17 s of every rebuild of 100,000 runs, before its stamp checks can start. Then a line a
stamp, ``[root, name, key, folders, files]``: the other stamps of the whole
write, then those a rebuild appends, or ``[root, name, null, [], []]`` for a folder no longer
stamped; a later line of a folder supersedes what came before. A rebuild appends the lines of the
folders it stamped anew or lost, in one write (write_stamps): at 100,000 runs the file is 13 MB,
written whole by every rebuild before. It is written whole when superseded lines pass an eighth
of the live ones, and on a full build. A build killed while appending leaves a last line cut
short, which the reader skips (the folder is read again) and the next append cuts first. Format 2
(the lines alone) is still read and appended to; format 1 (one JSON object) is still read, and the
first rebuild after an upgrade writes the file whole.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import compress, repeat
from operator import countOf, itemgetter, not_

from msgspec import DecodeError, Struct
from msgspec.json import Decoder, encode

from tracker.atomic_file import replace_file
from tracker.run_keys import FolderStamp, stamp_holds

from .output import append_at
from .redaction import redact_tokens

STAMPS_FILE = ".tracker-folders.json"
STAMPS_FORMAT = 3
HEADER = b'{"format":%d}\n' % STAMPS_FORMAT
FORMAT_2_HEADER = b'{"format":2}\n'
FORMAT_1_START = b'{"format":1,'
DEAD_LINES_PER_LIVE = 1 / 8  # superseded lines past this share of the live ones: the file is rewritten
MAX_ROOTS = 4096  # a line naming a later runs folder is damaged: the file is not used

# Its line: [runs folder position, name, key, [[sub-folder, ctime ns], ...], [[file, size, mtime ns], ...]],
# the key and run_keys.FolderStamp; kept as the line decodes (tuples throughout: the columns' stamps are
# made as tuples in C), so that reading makes no other object a folder
Stamp = tuple[int, str, str | None, tuple[tuple[str, int], ...], tuple[tuple[str, int, int], ...]]
# A runs folder's usual stamps of one number of files as columns: names, keys, the folders' change
# times, and for each file's place its names, sizes and modification times (ns)
_Group = tuple[list[str], list[str], list[int], list[tuple[list[str], list[int], list[int]]]]
_NO_STAMP = (None, None, None)  # a folder without one: its key None


@dataclass
class StoredStamps:
    """Where the stamps file read stands: what a rebuild needs to append to it."""

    end: int   # bytes up to its last whole line: appended lines follow
    dead: int  # lines superseded by a later one of the same folder (or saying it is no longer stamped)


class FolderStamps:
    """The stamps of the last build (``previous``) and those this build takes (``current``)."""

    def __init__(self, previous: list[dict[str, Stamp]] | None = None, stored: StoredStamps | None = None):
        self.previous = previous or []
        self.current: list[dict[str, Stamp]] = []
        self.renewed: list[tuple[int, str]] = []  # (runs folder position, name) of each stamp taken by this build
        self.stored = stored  # None: there is no file in this format to append to

    def known_keys(self, root_index: int, paths: list[str], names: list[str],
                   verdicts: bytes | None = None) -> list[str | None]:
        """The key of each folder (``paths``, named ``names`` in runs folder ``root_index``) whose
        stamp holds, every time and size in it as it was; None for the others. ``verdicts``: whether
        each stamp of the runs folder holds, checked already (stamp_checks.py: a byte a stamp, in
        their order), else each is checked here. The stamps that hold are kept, in their order."""
        previous = self.previous[root_index] if root_index < len(self.previous) else {}
        if verdicts is None:  # each listed folder with a stamp checked here
            holding = {name for path, name in zip(paths, names) if name in previous and stamp_holds(path, previous[name][3:])}
            verdicts = bytes(map(holding.__contains__, previous))
        current = self._current(root_index)
        # in C, from a copy of the last build's stamps less those that no longer hold (a rebuild:
        # a few of 100,000), where a Python step a folder was a tenth of a second
        held = dict(previous)
        for name in compress(previous, map(not_, verdicts)):
            del held[name]
        keys = list(map(itemgetter(2), map(held.get, names, repeat(_NO_STAMP))))
        if len(keys) - keys.count(None) != len(held):  # a stamp that holds of a folder not among ``names``
            held = dict(compress(held.items(), map(set(names).__contains__, held)))
        if current:
            current.update(held)
        else:
            self.current[root_index] = held
        return keys

    def keep(self, root_index: int, name: str, key: str, stamp: FolderStamp) -> None:
        """Keep a folder's key with the stamp its scan took, unless a name in it must not be published."""
        folders, files = stamp
        if all(map(_publishable, [name, *(relative for relative, _ in folders), *(relative for relative, _, _ in files)])):
            # as tuples, as Stamp decodes them (run_keys makes lists, as its JSON lines decode them)
            self._current(root_index)[name] = (root_index, name, key, tuple(map(tuple, folders)), tuple(map(tuple, files)))
            self.renewed.append((root_index, name))

    def _current(self, root_index: int) -> dict[str, Stamp]:
        while len(self.current) <= root_index:
            self.current.append({})
        return self.current[root_index]

    def to_text(self) -> str:
        """The whole file: the format line, the usual stamps as columns, a line for each other stamp."""
        columns, lines = [], []
        for stamps in self.current:
            groups: dict[int, list[Stamp]] = {}
            for stamp in stamps.values():
                if _is_usual(stamp):
                    groups.setdefault(len(stamp[4]), []).append(stamp)
                else:
                    lines.append(_line(stamp))
            columns.append([(list(map(itemgetter(1), usual)), list(map(itemgetter(2), usual)),
                             [stamp[3][0][1] for stamp in usual],
                             [tuple([stamp[4][place][part] for stamp in usual] for part in range(3))
                              for place in range(count)])
                            for count, usual in sorted(groups.items())])
        return (HEADER + encode(columns) + b"\n" + b"".join(lines)).decode()

    def changed_lines(self) -> tuple[bytes, int]:
        """The lines that bring the last build's stamps to this build's (a stamp taken anew, a folder
        no longer stamped), and how many lines of the file, old or these, they leave superseded."""
        lines = [_line(self.current[root_index][name]) for root_index, name in self.renewed]
        superseded = sum(root_index < len(self.previous) and name in self.previous[root_index]
                         for root_index, name in self.renewed)
        for root_index, previous in enumerate(self.previous):
            lost = sorted(previous.keys() - (self.current[root_index] if root_index < len(self.current) else {}).keys())
            lines += [_line((root_index, name, None, [], [])) for name in lost]  # no longer stamped
            superseded += 2 * len(lost)  # its stamp's line and this one
        return b"".join(lines), superseded


def _line(stamp: Stamp) -> bytes:
    return encode(stamp) + b"\n"


def _is_usual(stamp: Stamp) -> bool:
    """A stamp the columns hold: of a folder's own change time and one file or more, no sub-folder."""
    return stamp[2] is not None and len(stamp[3]) == 1 and stamp[3][0][0] == "" and len(stamp[4]) > 0


def write_stamps(out: str, stamps: FolderStamps) -> None:
    """Bring ``out``'s stamps file from the one read (``stamps.stored``) to ``stamps.current``: the
    changed lines appended in one write, or the file replaced whole (atomic_file.py) when there is
    none to append to or superseded lines would pass DEAD_LINES_PER_LIVE of the live ones."""
    if stamps.stored is not None:
        lines, superseded = stamps.changed_lines()
        dead = stamps.stored.dead + superseded
        if dead <= sum(map(len, stamps.current)) * DEAD_LINES_PER_LIVE:
            try:
                append_at(out, STAMPS_FILE, stamps.stored.end, lines)
                return
            except FileNotFoundError:
                pass  # removed since it was read: written whole below
    replace_file(os.path.join(out, STAMPS_FILE), stamps.to_text())


def _publishable(name: str) -> bool:
    """Whether a name may be in the stamps file: UTF-8 (JSON holds it) and no token shape (it is published)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return redact_tokens(name) == name


class _StampsFile(Struct):  # format 1: [key, folders, files] by name
    format: int
    roots: list[dict[str, tuple[str, tuple[tuple[str, int], ...], tuple[tuple[str, int, int], ...]]]]


_DECODER = Decoder(_StampsFile)  # checks every type as it decodes: a damaged file is not used
# [root, name, key or None, folders, files]: checked as it decodes, as the format-1 file was
_decode_lines = Decoder(list[Stamp]).decode
_decode_columns = Decoder(list[list[_Group]]).decode


def read_stamps(out: str) -> FolderStamps:
    """The stamps the last build left in ``out`` (none when it left none or they are unreadable)."""
    try:
        with open(os.path.join(out, STAMPS_FILE), "rb") as handle:
            data = handle.read()
        if data.startswith(FORMAT_1_START):
            return FolderStamps([{name: (index, name, *stamp) for name, stamp in stamps.items()}
                                 for index, stamps in enumerate(_DECODER.decode(data).roots)])
        if data.startswith(HEADER):
            start = data.index(b"\n", len(HEADER)) + 1
            base = _base_of(_decode_columns(data[len(HEADER):start]))
        elif data.startswith(FORMAT_2_HEADER):
            start, base = len(FORMAT_2_HEADER), []
        else:
            return FolderStamps()
        end = max(data.rfind(b"\n") + 1, start)  # what follows is a line a killed build cut short
        # one call, checked as it decodes: the lines made one JSON array by a replace (a split and a join
        # of 100,000 lines took twice as long)
        records = _decode_lines(b"[" + data[start:max(end - 1, start)].replace(b"\n", b",") + b"]")
    except (OSError, DecodeError, ValueError):
        return FolderStamps()
    if base is None:
        return FolderStamps()
    written = sum(map(len, base)) + len(records)
    roots = _roots_of(records, base)
    return FolderStamps(roots, StoredStamps(end, written - sum(map(len, roots)))) if roots is not None \
        else FolderStamps()


def _base_of(columns: list[list[_Group]]) -> list[dict[str, Stamp]] | None:
    """Each runs folder's usual stamps by name, as tuples made in C (as its lines decode); None when
    a group's columns are not of one length or has no file, or there are more runs folders than MAX_ROOTS."""
    if len(columns) > MAX_ROOTS:
        return None
    roots = []
    for index, groups in enumerate(columns):
        stamps: dict[str, Stamp] = {}
        for names, keys, changed, files in groups:
            if not files or len({len(names), len(keys), len(changed), *(len(part) for place in files for part in place)}) > 1:
                return None
            file_stamps = zip(*(zip(*place) for place in files))  # each stamp's files: (name, size, mtime) a place
            stamps.update(zip(names, zip(repeat(index), names, keys, zip(zip(repeat(""), changed)), file_stamps)))
        roots.append(stamps)
    return roots


def _roots_of(records: list[tuple], base: list[dict[str, Stamp]]) -> list[dict[str, Stamp]] | None:
    """Each runs folder's stamps by name: the ``base`` ones (the columns of a whole write), then
    those of the lines in order (a later one of a name wins, a null key removes it); None when a
    line names a runs folder past MAX_ROOTS. The usual file, of one runs folder, in C but for the
    folders no longer stamped."""
    positions = set(map(itemgetter(0), records))
    if positions and not 0 <= min(positions) <= max(positions) <= MAX_ROOTS:
        return None
    roots: list[dict[str, Stamp]] = base + [{} for _ in range(max(positions, default=-1) + 1 - len(base))]
    if len(roots) == 1:
        roots[0].update(zip(map(itemgetter(1), records), records))
    else:
        for line in records:
            roots[line[0]][line[1]] = line
    if countOf(map(itemgetter(2), records), None):  # folders no longer stamped
        for stamps in roots:
            for name in [name for name, stamp in stamps.items() if stamp[2] is None]:
                del stamps[name]
    return roots
