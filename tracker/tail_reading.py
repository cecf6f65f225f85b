"""A run whose writers all ended, read from the head and tail of each events file, not every line.

Each writer's end record carries the state of its file (end_state.py): every metric's last point,
min, max and count, and the config, summary, tags and notes with the time and line that set each
value. When every events file of a run ends with such a record, and holds exactly the bytes its
writer says it wrote before it, a listing needs only each file's head (its leading ``run`` and
``start`` records) and that last line: a few kilobytes per run, whatever its length. The files'
states merge as the files' records would (run_state.py: the later write wins by time; the last
point is the highest step, then the latest time, then the later file; min of mins, max of maxes).

The result is the RunRecord that ``load_run(path, last_only=True)`` gives, for what a listing
shows: as_filterable(), each metric's last point and count. Datasets, artifacts, captured records
and system metrics are left out, and heartbeats are not read (a writer that ended has its status
and end time). Anything else gives None, and the caller reads the run whole (reader.load_run),
which also reports what is wrong: a running or crashed run, a torn last line, an end record
without a state (an older writer), a file appended to or changed since its end record, a line
that does not parse.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter, itemgetter

from .event_lines import parse_lines
from .problems import Problems
from .reader import RunRecord
from .record_schema import MAX_NESTING_DEPTH, EndStateError, check_end_state, check_record, is_bounded
from .run_keys import events_files
from .run_reading import RunReading, writer_of_file
from .run_state import RunState
from .series import History
from .values import decode_number

try:  # msgspec decodes and checks the usual run's records in one call; a light install has none
    from .typed_ends import decode_usual
except ImportError:
    decode_usual = None

HEAD_BYTES = 4096  # the run and start records fit in this, and the first line after them
TAIL_BYTES = 4096  # an end record with a few dozen metrics and config keys fits in this
MAX_ENDS_BYTES = 64 << 20  # a head or an end record longer than this: the file is read whole
_HEAD_TYPES = ("run", "start")  # a tuple: a type that is no string (a list, by hand) is simply not in it
_RUN_START, _START_START = b'{"type":"run"', b'{"type":"start"'
_HEAD_STARTS = (_RUN_START, _START_START)
_TYPED_START = b'{"type":"'
_STATE_FIELD = b'"state":'  # a last line without it has no state: no need to parse it
_FIRST = itemgetter(0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_CONTAINERS = (dict, list)


@dataclass
class FileEnds:
    """What a run's reading takes from one events file: its head records and its end record."""

    head: list[dict]       # the leading run and start records
    head_lines: list[int]  # their line numbers
    end: dict              # the end record without its state
    state: dict            # the end record's state, checked (record_schema.check_end_state)


@dataclass
class MetricEnds:
    """One metric over a run's files: last point, min and max (NaN left out; None if all NaN), count."""

    step: int
    value: float
    time: float
    min: float | None
    max: float | None
    count: int

    def add(self, state: dict) -> None:
        """A later file's state of the metric (load_run's LastPoint rule: a later file wins ties)."""
        step, value, wall_time = state["last"]
        if (step, wall_time) >= (self.step, self.time):
            self.step, self.value, self.time = step, value, wall_time
        if state["min"] is not None:
            self.min = state["min"] if self.min is None else min(self.min, state["min"])
            self.max = state["max"] if self.max is None else max(self.max, state["max"])
        self.count += state["count"]

    def finish(self, by_time: bool = False) -> History:
        """The series as load_run(last_only=True) keeps it: the last point and the count."""
        return History([self.step], [self.value], [self.time], self.count)


def load_from_ends(path: str, now: float | None = None) -> RunRecord | None:
    """The run in ``path`` read from its files' heads and end records; None when any file lacks
    what that needs (then read it with load_run)."""
    ends = run_ends(path)
    return None if ends is None else run_from_ends(path, ends, now)


def run_from_ends(path: str, ends: list[tuple[str, FileEnds]], now: float | None = None) -> RunRecord | None:
    """The run in ``path`` from its files' ends (run_ends); None when they hold a problem that a
    full read reports."""
    run = RunRecord(id=os.path.basename(os.path.normpath(path)), path=path)
    problems = Problems(warn=False)
    reading = RunReading(run, problems, None, last_only=True)
    for rank, (file, found) in enumerate(ends):
        reading.file_time = 0.0
        reading.read_records(found.head, found.head_lines, file, rank)
        reading.read_records([found.end], [found.state["lines"] + 1], file, rank)  # its state is applied below
        apply_state(reading.state, found.state, rank)
    if problems or not reading.identified:
        return None  # a full read reports what is wrong
    reading.metrics = merged_metrics(ends)
    reading.finish(time.time() if now is None else now, heartbeats=False)
    return run


def row_from_ends(path: str, ends: list[tuple[str, FileEnds]], now: float | None = None) -> dict | None:
    """``run_from_ends(path, ends, now).as_filterable()``, the listing's row; None as run_from_ends
    gives it. The usual run (one file, one writer, records a check leaves as they are) has its row
    built straight from its records (plain_row), a few times faster; tests/test_listing_fast_path.py
    pins the two to the same row."""
    row = plain_row(path, ends)
    if row is None:
        run = run_from_ends(path, ends, now)
        row = None if run is None else run.as_filterable()
    return row


def row_from_files(path: str, files: list[str], now: float | None = None) -> dict | None:
    """``row_from_ends(path, run_ends(path, files), now)``: the listing's row of the run whose
    events files are ``files`` (run_keys.RunFolders.events), None when a file lacks what a read
    from its ends needs. The usual run (one file whose records msgspec's types take as they are:
    typed_row) skips the record checks in Python; any other goes through row_from_ends."""
    if len(files) != 1 or decode_usual is None:
        ends = run_ends(path, files)
        return None if ends is None else row_from_ends(path, ends, now)
    file = files[0]
    read = _file_bytes(file)
    if read is None:
        return None
    row = typed_row(path, file, *read)
    if row is not None:
        return row
    found = _parsed_ends(*read, file)
    return None if found is None else row_from_ends(path, [(file, found)], now)


def run_ends(path: str, files: list[str] | None = None) -> list[tuple[str, FileEnds]] | None:
    """(file, its ends) for each events file of the run, in load_run's order (``files`` when the
    caller listed them already: run_keys.RunFolders.events); None when any file does not end with
    an end record carrying a state that matches it."""
    if files is None:
        try:
            files = events_files(path)
        except OSError:
            return None
    ends = []
    for file in files:
        found = file_ends(file)
        if found is None:
            return None
        ends.append((file, found))
    return ends or None


def merged_metrics(ends: list[tuple[str, FileEnds]]) -> dict[str, MetricEnds]:
    """Every metric's last point, min, max and count over the files, as a full read finds them."""
    merged: dict[str, MetricEnds] = {}
    for _, found in ends:
        for name, state in found.state["metrics"].items():
            held = merged.get(name)
            if held is None:
                step, value, wall_time = state["last"]
                merged[name] = MetricEnds(step, value, wall_time, state["min"], state["max"], state["count"])
            else:
                held.add(state)
    return merged


def apply_state(state: RunState, end_state: dict, rank: int) -> None:
    """Set ``state`` from one file's end state, each value with the order of the record that set
    it, (time, file rank, line): as if those records had been read. Consecutive keys set by one
    record (a config given to init) are applied as one record, in their order."""
    for kind in ("config", "summary"):
        for (wall_time, line), entries in groupby(end_state[kind].items(), _set_by):
            state.apply(kind, {"values": {key: entry[2] for key, entry in entries}}, (wall_time, rank, line))
    for (wall_time, line), entries in groupby(end_state["tags"].items(), _set_by):
        for tag, entry in entries:
            state.apply("tags", {"add": [tag]} if entry[2] else {"remove": [tag]}, (wall_time, rank, line))
    if end_state["notes"] is not None:
        wall_time, line, text = end_state["notes"]
        state.apply("notes", {"text": text}, (wall_time, rank, line))


def _set_by(item: tuple) -> tuple:
    """(time, line) of a state entry: which record set it."""
    entry = item[1]
    return entry[0], entry[1]


def file_ends(file: str) -> FileEnds | None:
    """The head records and the end record of one events file; None unless its last line is an
    end record whose state says the bytes before it are exactly those in the file."""
    read = _file_bytes(file)
    return None if read is None else _parsed_ends(*read, file)


def _file_bytes(file: str) -> tuple[bytes, bytes, int] | None:
    """The head lines of one events file, its last line (with its state) and where that starts;
    None when the file does not end with such a line."""
    try:
        fd = os.open(file, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        # the size by lseek, not fstat (half the time: no stat result to build); a FIFO named
        # like an events file fails here (ESPIPE, by POSIX) and is never waited on
        return _ends_bytes(fd, os.lseek(fd, 0, os.SEEK_END), file)
    except OSError:
        return None
    finally:
        os.close(fd)


def _ends_bytes(fd: int, size: int, file: str) -> tuple[bytes, bytes, int] | None:
    last = _last_line(fd, size)
    if last is None:
        return None
    line, start, tail = last
    if line.find(_STATE_FIELD) < 0:  # find, not in: ``in`` first tries the text as an int, and clears that error
        return None
    head = _head(fd, start, tail if size <= len(tail) else None, file)
    return None if head is None else (head, line, start)


def _parsed_ends(head: bytes, line: bytes, start: int, file: str) -> FileEnds | None:
    """The file's ends parsed and checked (check_end_state); None when they are not as the format
    says or the state does not match the bytes before it."""
    problems = Problems(warn=False)
    records, _ = parse_lines(head + line, 1, file, problems)  # one parse of the head and the end record
    count = head.count(b"\n")
    if problems or len(records) != count + 1:
        return None
    end = records.pop()
    if not all(record.get("type") in _HEAD_TYPES for record in records):
        return None
    if end.get("type") != "end" or type(end.get("state")) is not dict:
        return None
    # a lone surrogate is written as a \u escape, or (by hand) as the UTF-8 bytes of one: 0xED ...
    try:
        state = check_end_state(end["state"], escapes=_has_escape(line) or b"\xed" in line)
    except EndStateError:
        return None  # not as the format says: a full read of the file does not need it
    if state["bytes"] != start:
        return None  # lines were added, lost or changed before the end record
    del end["state"]  # kept apart: the records of a full read have none
    return FileEnds(records, list(range(1, count + 1)), end, state)


def _has_escape(data: bytes) -> bool:
    """Whether ``data`` holds a ``\\u`` escape. A search for the two bytes took 2.3 us a kilobyte,
    one for the backslash alone 0.3 us, and most lines hold no backslash at all. (bytes.find, not
    ``in``, which first tries its operand as an int and clears the TypeError: 0.2 us a test.)"""
    return data.find(b"\\") >= 0 and data.find(b"\\u") >= 0


def _last_line(fd: int, size: int) -> tuple[bytes, int, bytes] | None:
    """The file's last line, where it starts, and the tail read; None if the file does not end
    with a newline (a torn last line, or an empty file)."""
    window = TAIL_BYTES
    while True:
        start = size - window if size > window else 0
        tail = os.pread(fd, size - start, start)
        if len(tail) != size - start or tail[-1:] != b"\n":
            return None
        cut = tail.rfind(b"\n", 0, -1)
        if cut >= 0:
            return tail[cut + 1:], start + cut + 1, tail
        if start == 0:
            return tail, 0, tail
        if window >= MAX_ENDS_BYTES:
            return None
        window *= 16


def _head(fd: int, region: int, whole: bytes | None, file: str) -> bytes | None:
    """The lines of the leading run and start records among the first ``region`` bytes (those
    before the end record); ``whole`` is the file when the tail read held all of it."""
    data = whole[:region] if whole is not None else os.pread(fd, min(HEAD_BYTES, region), 0)
    usual = _usual_head(data)
    return usual if usual is not None else _head_by_lines(fd, region, data, file)


def _usual_head(data: bytes) -> bytes | None:
    """The usual head, a run and a start record before a record of another type, found without
    _head_by_lines' loop (which ends the head at the same byte); None for any other."""
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    if second >= 0 and data.startswith(_RUN_START) and data.startswith(_START_START, first + 1) \
            and data.startswith(_TYPED_START, second + 1) and not data.startswith(_HEAD_STARTS, second + 1):
        return data[:second + 1]
    return None


def _head_by_lines(fd: int, region: int, data: bytes, file: str) -> bytes | None:
    """_head line by line, from ``data`` (the file's first bytes), reading more while the head
    may go on past it.

    Lines are told apart before parsing: one that starts ``{"type":"run"`` or ``{"type":"start"``
    may belong to the head, one that starts ``{"type":"`` with another type does not (it ends the
    head), any other is parsed to see. The caller parses the head lines, with the end record."""
    window = HEAD_BYTES  # what data holds, or all of the region
    while True:
        end, position = None, 0
        while True:
            cut = data.find(b"\n", position)
            if cut < 0:
                break
            if not data.startswith(_HEAD_STARTS, position):
                if data.startswith(_TYPED_START, position) or not _is_head_line(data[position:cut + 1], file):
                    end = position
                    break
            position = cut + 1
        if end is None and len(data) < region:
            if window >= MAX_ENDS_BYTES:
                return None
            window *= 16
            data = os.pread(fd, min(window, region), 0)
            continue
        end = position if end is None else end  # the file may be its head and its end record
        return data[:end]


def _is_head_line(line: bytes, file: str) -> bool:
    problems = Problems(warn=False)
    records, _ = parse_lines(line, 1, file, problems)
    return len(records) == 1 and records[0].get("type") in _HEAD_TYPES


# -- the usual run, straight to its row --------------------------------------------------------
# A listing of 10,000 finished runs spent most of its time folding each run's few records through
# RunReading and RunState as a full read does. The usual run (one file, one writer, records that
# the record check leaves as they are) needs none of that: its row is read off its records.
# Anything else goes the general way (run_from_ends), so these take only what they can prove.
# typed_row goes one step further for the listing: msgspec checks the records' types as it decodes
# them (typed_ends.py), where plain_row runs check_record and check_end_state in Python.

# The fields a row takes from each of the usual run's records, in the order usual_row unpacks them
RUN_FIELDS = ("id", "name", "project", "group", "time")
START_FIELDS = ("writer", "time", "user", "host")
END_FIELDS = ("status", "writer", "time")
STATE_FIELDS = ("config", "summary", "tags", "notes")  # and of the end record's state
# ... got from msgspec's Structs in C (typed_row), where dicts of the records took three copies
_run_fields, _start_fields, _end_fields = attrgetter(*RUN_FIELDS), attrgetter(*START_FIELDS), attrgetter(*END_FIELDS)
_state_fields = attrgetter(*STATE_FIELDS)


def plain_row(path: str, ends: list[tuple[str, FileEnds]]) -> dict | None:
    """``run_from_ends(path, ends).as_filterable()`` for a run of one events file whose head is its
    run and start records and whose end record is its start's writer's, ended and not before it
    started, each record passing check_record unchanged; None for any other run."""
    if len(ends) != 1:
        return None
    file, found = ends[0]
    if len(found.head) != 2:
        return None
    run, start = found.head
    end = found.end
    if run["type"] != "run" or start["type"] != "start":
        return None
    problems = Problems(warn=False)
    for record in (run, start, end):
        if check_record(record, file, problems) is not record or problems:
            return None  # a field dropped or cleaned: the general way gives what a full read does
    state = found.state
    lasts = {name: metric["last"][1] for name, metric in state["metrics"].items()}
    return usual_row(path, file, tuple(map(run.get, RUN_FIELDS)), tuple(map(start.get, START_FIELDS)),
                     tuple(map(end.get, END_FIELDS)), lasts, tuple(map(state.get, STATE_FIELDS)))


def typed_row(path: str, file: str, head: bytes, line: bytes, start: int) -> dict | None:
    """plain_row of a run whose one events file has ``head`` and the end record ``line`` starting
    at byte ``start`` (_file_bytes), its records decoded and checked by msgspec's types
    (typed_ends.decode_usual) instead of check_record and check_end_state; None unless those
    types take them as they are, in ASCII without ``\\u`` escapes (no text to escape). Then the
    Python checks would take them unchanged too: tests/test_typed_ends.py pins the two."""
    first = head.find(b"\n")  # find, where count took three times as long
    if first < 0 or head.find(b"\n", first + 1) != len(head) - 1:
        return None  # not exactly a run and a start record before the others
    data = b"[" + head.replace(b"\n", b",") + line + b"]"
    if not data.isascii() or _has_escape(data):
        return None
    records = decode_usual(data)
    if records is None:
        return None
    run, start_record, end = records
    state = end.state
    if state.bytes != start:
        return None  # lines were added, lost or changed before the end record
    if line.count(b"[") + line.count(b"{") >= MAX_NESTING_DEPTH:  # else no value can nest that deep
        for table in (state.config, state.summary):
            for entry in table.values():
                if type(entry[2]) in _CONTAINERS and not is_bounded(entry[2]):
                    return None
    lasts = {name: metric.last[1] for name, metric in state.metrics.items()}
    return usual_row(path, file, _run_fields(run), _start_fields(start_record), _end_fields(end), lasts,
                     _state_fields(state))


def usual_row(path: str, file: str, run: tuple, start: tuple, end: tuple, lasts: dict,
              state: tuple) -> dict | None:
    """The row of a run of one events file from the fields of its run, start and end records
    (RUN_FIELDS, START_FIELDS, END_FIELDS: None where absent), each metric's last value (a new
    dict, which becomes the row's summary) and the parts of the end record's state (STATE_FIELDS),
    each as the record check leaves it; None when its writers or times hold what only the general
    way settles."""
    run_id, name, project, group, run_time = run
    started_by, started, user, host = start
    status, ended_by, ended = end
    config, set_summary, tags, notes = state
    status = status or "finished"
    if not (started_by and ended_by):  # a record that names no writer is the file's writer's
        started_by = started_by or writer_of_file(file)
        ended_by = ended_by or writer_of_file(file)
    if started_by != ended_by or status == "running":
        return None  # two writers, or an end record that says it is still running
    if ended is not None and started is not None and ended < started:
        return None  # a problem a full read reports
    # the writer as RunReading settles it: seen from the run record's time, ended at its end record's
    last_seen = max(run_time or 0.0, started or 0.0)
    end_time = max(ended or last_seen or 0.0, started or 0.0)
    created = run_time if run_time is not None else started
    run_id = run_id or os.path.basename(os.path.normpath(path))
    summary = lasts
    if set_summary:
        summary.update((key, decode_number(entry[2])) for key, entry in set_summary.items())
    # present tags by the (time, line) that set them; tags one record added keep their order
    tags = [((entry[0], entry[1]), tag) for tag, entry in tags.items() if entry[2]]
    if len(tags) > 1:
        tags.sort(key=_FIRST)
    return {"id": run_id, "name": name or run_id, "project": project or "default",
            "group": group, "status": status, "tags": [tag for _, tag in tags],
            "user": user or None, "host": host or None,
            "notes": notes[2] if notes is not None else "", "created": created,
            "duration_s": None if created is None else max(0.0, (end_time or last_seen or created) - created),
            "config": {key: entry[2] for key, entry in config.items()}, "summary": summary}
