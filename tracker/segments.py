"""Runs in object storage: the names of a run's objects and its events files as segments (docs/format.md).

Object stores cannot append, so an events file goes to the store as *segments*: the bytes of the
local file cut at line ends, each stored once under its start offset and never changed, plus one
*open* segment, the bytes after the last closed one, replaced as the file grows:

    <store>/<run id>/<events file>.segments/<offset:016d>        closed: immutable
    <store>/<run id>/<events file>.segments/<offset:016d>.open   open: replaced, deleted once closed

Every other file of the run folder is one object under the same relative path. This module is the
format both sides share and does no I/O: the uploader (tracker/store_upload.py) names and cuts
segments with it, and a reader plans which objects to fetch and rebuilds the local events file,
byte for byte, with ``plan_segments`` and ``assemble``; the reader then reads that folder as usual.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .run_keys import is_events_file

SEGMENTS_SUFFIX = ".segments"  # <events file>.segments/ holds that file's segments
OPEN_SUFFIX = ".open"
OFFSET_DIGITS = 16  # zero-padded, so the names sort in offset order
_SEGMENT_NAME = re.compile(r"^(\d{16})(\.open)?$")


def is_segmented(name: str) -> bool:
    """Whether a file of a run folder (by its path relative to the folder) goes to the store as
    segments: the events files at the folder's top; every other file is one object."""
    return "/" not in name and is_events_file(name)


def segments_folder(events_file: str) -> str:
    """The folder of an events file's segments, relative to the run: ``events.jsonl.segments``."""
    return events_file + SEGMENTS_SUFFIX


def events_file_of(folder: str) -> str | None:
    """The events file whose segments a folder of the run holds, or None for any other folder."""
    if not folder.endswith(SEGMENTS_SUFFIX):
        return None
    name = folder[: -len(SEGMENTS_SUFFIX)]
    return name if is_segmented(name) else None


def closed_segment_name(offset: int) -> str:
    return f"{offset:0{OFFSET_DIGITS}d}"


def open_segment_name(offset: int) -> str:
    return closed_segment_name(offset) + OPEN_SUFFIX


@dataclass(frozen=True)
class Segment:
    """One object of a ``.segments`` folder: its name there, start offset, size in bytes, and
    whether it is the open segment."""
    name: str
    offset: int
    size: int
    open: bool

    @property
    def end(self) -> int:
        return self.offset + self.size


def parse_segment(name: str, size: int) -> Segment | None:
    """The segment an object name (its last part) and size describe; None for a name that is no
    segment's (an object a person left there), which readers ignore."""
    match = _SEGMENT_NAME.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    return Segment(match.group(0), int(match.group(1)), int(size), match.group(2) is not None)


@dataclass
class SegmentPlan:
    """What a reader appends to a local events file that already holds ``start`` bytes of closed
    segments: ``closed`` in order, then the bytes of ``open`` (if any) after them."""
    start: int
    closed: list[Segment] = field(default_factory=list)
    open: Segment | None = None
    problems: list[str] = field(default_factory=list)  # each names the object at fault

    @property
    def closed_end(self) -> int:
        """Where the closed segments end: the local file's size before the open bytes are added."""
        return self.closed[-1].end if self.closed else self.start


def plan_segments(segments, start: int = 0, where: str = "") -> SegmentPlan:
    """Which of an events file's segments (``Segment``s from ``parse_segment``) follow the first
    ``start`` bytes. ``where`` names the ``.segments`` folder in problems.

    Closed segments are taken in offset order while each starts where the one before ends. A
    segment that starts later (one before it is missing) or inside another (written by two
    writers) stops the chain, as a problem naming it: what follows it cannot be placed. An open
    segment counts only where the chain ends; one that starts earlier is stale (its bytes were
    closed after the listing was made, or its deletion failed) and is ignored.
    """
    plan = SegmentPlan(start)
    closed = sorted((s for s in segments if not s.open), key=lambda s: s.offset)
    end = start
    for segment in closed:
        if segment.end <= start:
            continue  # already in the local file
        if segment.offset != end:
            plan.problems.append(_misplaced(where, segment, end))
            break
        plan.closed.append(segment)
        end = segment.end
    else:
        opens = [s for s in segments if s.open and s.offset >= end]
        for segment in sorted(opens, key=lambda s: s.offset):
            if segment.offset == end:
                plan.open = segment
            else:
                plan.problems.append(_misplaced(where, segment, end))
            break
    return plan


def _misplaced(where: str, segment: Segment, end: int) -> str:
    place = f"{where.rstrip('/')}/{segment.name}" if where else segment.name
    if segment.offset > end:
        return (f"{place}: starts at byte {segment.offset:,} but the segments before it end at byte {end:,}: "
                f"a segment is missing, and what follows cannot be read")
    return f"{place}: starts at byte {segment.offset:,}, inside the segment that ends at byte {end:,}"


class SegmentGapError(ValueError):
    """Raised by ``assemble`` when a piece does not start where the one before it ends."""

    def __init__(self, name: str, offset: int, expected: int):
        self.name = name
        self.offset = offset
        self.expected = expected
        what = "a segment before it is missing" if offset > expected else "it overlaps the one before it"
        super().__init__(f"{name}: starts at byte {offset:,}, expected {expected:,}: {what}")


def assemble(pieces, start: int = 0) -> bytes:
    """The bytes of an events file from ``start`` on, from ``(Segment, bytes)`` pairs in order
    (as ``plan_segments`` lists them, each with its downloaded bytes).

    Raises SegmentGapError naming the first piece that does not start where the one before ends.
    The bytes of an open segment may be longer than its listed size (it grew between listing and
    download): the segment's own bytes are what count.
    """
    parts = []
    expected = start
    for segment, data in pieces:
        if segment.offset != expected:
            raise SegmentGapError(segment.name, segment.offset, expected)
        parts.append(data)
        expected = segment.offset + len(data)
    return b"".join(parts)


# -- the writer's side -----------------------------------------------------------------------


def whole_lines(data: bytes) -> int:
    """How many bytes of ``data`` are whole lines: a segment never ends inside one."""
    return data.rfind(b"\n") + 1


def cut_at_lines(offset: int, data: bytes, max_bytes: int) -> list[tuple[int, bytes]]:
    """``data`` (whole lines, starting at byte ``offset`` of its file) cut into pieces of at most
    ``max_bytes`` each at line ends, as ``(offset, bytes)``; a single longer line is one piece."""
    pieces = []
    position = 0
    while position < len(data):
        limit = position + max_bytes
        if limit >= len(data):
            cut = len(data)
        else:
            cut = data.rfind(b"\n", position, limit) + 1
            if cut <= position:  # one line longer than max_bytes: it goes whole
                cut = data.find(b"\n", limit) + 1 or len(data)
        pieces.append((offset + position, data[position:cut]))
        position = cut
    return pieces
