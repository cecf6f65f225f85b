"""The state a writer's end record carries: what a reader would fold from the file's lines before it.

Each metric's last point, min, max and count, and the config, summary, tags and notes with the
time and line that set each value, folded on the writer thread as batches are encoded
(docs/format.md, "The end record's state").

A listing reads a run whose writers all ended from the head and tail of its files
(tail_reading.py) instead of every line: this state stands for the lines in between, so it
follows the reader's rules exactly (run_reading.py, run_state.py):
- a value is set by the record with the latest time, the later line on equal times; a record
  with no time of its own (tags, notes) takes the time of the record before it in the file;
- a metric's last point is the one of the highest step, the later line on equal steps (a step
  logged again is the later write); min and max leave NaN out (an infinity counts: a diverged
  loss's max is Infinity).
``bytes`` is what the writer wrote before its end record, so a reader can tell that the file
holds exactly that. A writer that can no longer vouch for its file (a record dropped or
escaped by the encoder, metrics shed while the disk was full, the folder created again) writes
its end record without a state, and readers read that file whole.

The work is per batch, not per call: consecutive metrics with one key set are taken a column per
key, and each column's min and max in C, so ``log()`` pays nothing and the writer thread little
(0.43 us a record of 10 scalars, where encoding it costs 4.5 us).
"""
from __future__ import annotations

from itertools import groupby
from operator import itemgetter

from .record_schema import MAX_UNIX_TIME_S
from .values import encode_line

_STEP, _KEYS = itemgetter(0), itemgetter(-1)


class FileState:
    """The state of one writer's events file, folded from the items it encodes, in file order."""

    def __init__(self) -> None:
        self.valid = True
        self.bytes = 0          # written to the file so far (its head included)
        self.lines = 0
        self.file_time = 0.0    # time of the latest record with one: the order of those without
        self.metrics: dict[str, list] = {}  # name -> [last step, last time, last value, min, max, count]
        self.config: dict[str, list] = {}   # key -> [time, line, value] of the record that set it
        self.summary: dict[str, list] = {}
        self.tags: dict[str, list] = {}     # tag -> [time, line, present]
        self.notes: list | None = None      # [time, line, text]

    def invalidate(self) -> None:
        """The file no longer holds what was folded: the end record goes without a state."""
        self.valid = False
        self.metrics, self.config, self.summary, self.tags, self.notes = {}, {}, {}, {}, None

    def add_head(self, records: list[dict]) -> None:
        """The records written before the writer's first batch (``run``, ``start``), as
        session.init writes them: one encode_line each."""
        try:
            data = "".join(encode_line(record) + "\n" for record in records).encode("utf-8")
        except Exception:
            self.invalidate()
            return
        self.fold(records)
        self.bytes += len(data)

    def fold(self, items: list) -> int | None:
        """Fold ``items`` (metrics tuples ``(step, time, *numbers, keys)`` and record dicts, in file order)
        up to the first ``end`` record; return its index, or None when there is none. The bytes
        are the caller's to add (``wrote``), once the items are encoded."""
        if not self.valid:
            return None
        position = 0
        for kind, group in groupby(items, type):
            if kind is tuple:
                points = list(group)
                self._fold_points(points)
                position += len(points)
                continue
            for record in group:
                if kind is dict and record.get("type") == "end":
                    return position
                self._fold_record(record)
                position += 1
        return None

    def wrote(self, size: int) -> None:
        self.bytes += size

    def end_record(self, record: dict) -> dict:
        """``record`` (an ``end`` record) with the state of the file before it, when valid; the
        end record itself is folded (a record may still follow it: a late background thread)."""
        if self.valid:
            record = {**record, "state": self.fields()}
        self._fold_record(record)
        return record

    def fields(self) -> dict:
        """The ``state`` field of the end record (docs/format.md)."""
        fields = {"bytes": self.bytes, "lines": self.lines,
                  "metrics": {name: {"last": [step, value, wall_time], "min": low, "max": high, "count": count}
                              for name, (step, wall_time, value, low, high, count) in self.metrics.items()},
                  "config": self.config, "summary": self.summary, "tags": self.tags}
        if self.notes is not None:
            fields["notes"] = self.notes
        return fields

    # -- folding ---------------------------------------------------------------------------

    def _fold_record(self, record) -> None:
        self.lines += 1
        if type(record) is not dict:
            self.invalidate()  # not a record a reader accepts: no state can stand for it
            return
        wall_time = record.get("time")
        if type(wall_time) in (int, float) and 0 <= wall_time <= MAX_UNIX_TIME_S:  # one readers keep
            self.file_time = wall_time
        kind = record.get("type")
        if kind not in ("config", "summary", "tags", "notes"):
            return
        order_time, line = self.file_time, self.lines
        if kind == "config" or kind == "summary":
            table = self.config if kind == "config" else self.summary
            for key, value in record["values"].items():
                _set(table, key, [order_time, line, value])
        elif kind == "tags":
            for tag in record.get("add") or ():
                _set(self.tags, tag, [order_time, line, True])
            for tag in record.get("remove") or ():
                _set(self.tags, tag, [order_time, line, False])
        elif self.notes is None or order_time >= self.notes[0]:
            self.notes = [order_time, line, record["text"]]

    def _fold_points(self, points: list) -> None:
        self.lines += len(points)
        self.file_time = points[-1][1]
        key_sets = list(map(_KEYS, points))
        keys = key_sets[0]
        if key_sets.count(keys) == len(key_sets):  # the usual batch: one key set
            self._fold_stretch(keys, points, _columns(points, len(keys)))
            return
        for keys, group in groupby(points, _KEYS):
            stretch = list(group)
            self._fold_stretch(keys, stretch, _columns(stretch, len(keys)))

    def _fold_stretch(self, keys: tuple, points: list, columns: list) -> None:
        """Consecutive metrics with the same keys in the same order and their values, a column per
        key: min and max in C."""
        if not keys:
            return  # log({}): a line, but no point of any metric
        steps = list(map(_STEP, points))
        top = max(steps)
        last = len(steps) - 1
        if steps[last] != top:  # rare: steps not increasing
            last -= steps[::-1].index(top)
        last_step, last_time = top, points[last][1]
        count = len(points)
        metrics = self.metrics
        for key, column in zip(keys, columns):
            # min and max pass over a NaN (every comparison with it is false) unless it comes first
            low, high = min(column), max(column)
            if low != low or high != high:
                numbers = [value for value in column if value == value]
                low, high = (min(numbers), max(numbers)) if numbers else (None, None)
            entry = metrics.get(key)
            if entry is None:
                metrics[key] = [last_step, last_time, column[last], low, high, count]
                continue
            if last_step >= entry[0]:
                entry[0], entry[1], entry[2] = last_step, last_time, column[last]
            if low is not None:
                if entry[3] is None or low < entry[3]:
                    entry[3] = low
                if entry[4] is None or high > entry[4]:
                    entry[4] = high
            entry[5] += count


def _columns(points: list, width: int) -> list[list]:
    """The points' numbers a column per key, one pass over the points a key: zip(*rows) would make
    an iterator per row, tens of thousands of objects for the cycle collector to walk."""
    return [list(map(itemgetter(index), points)) for index in range(2, width + 2)]


def _set(table: dict, key, entry: list) -> None:
    """The later record wins; on equal times too, as the reader's (time, file, line) order says."""
    held = table.get(key)
    if held is None or entry[0] >= held[0]:
        table[key] = entry
