"""Encoded records on their way to the events file: written exactly once, held within a byte bound.

Each flush adds one batch of bytes. Writing tracks how many bytes reached the file, so after a
partial write (a disk that fills mid-write) the next attempt writes only the rest: nothing is
written twice and no line is torn. While the disk refuses, batches wait here, encoded once and
never joined again, so a retry costs one failing ``write``.

The bound is in bytes. Past it, the oldest ``metrics`` and ``system`` lines go first, line by
line, only as many as the excess: a run keeps its head, config, summary, tags, notes, datasets, artifacts, capture and
``end`` records and its newest metrics. Only if those kept records alone exceed the bound are the
oldest batches dropped whole.
"""
from __future__ import annotations

import collections
import os

DROPPABLE_PREFIXES = (b'{"type":"metrics"', b'{"type":"system"')


class _Batch:
    __slots__ = ("data", "thinned")

    def __init__(self, data: bytes):
        self.data = data
        self.thinned = False  # its droppable lines are already gone


class UnwrittenRecords:
    """Batches of encoded JSON lines not yet (completely) in the events file."""

    def __init__(self):
        self._batches: collections.deque[_Batch] = collections.deque()
        self._offset = 0  # bytes of the first batch already in the file
        self.size_bytes = 0  # bytes still to write

    def __bool__(self) -> bool:
        return bool(self._batches)

    def add(self, data: bytes) -> None:
        if data:
            self._batches.append(_Batch(data))
            self.size_bytes += len(data)

    def add_first(self, data: bytes) -> None:
        """Queue ``data`` ahead of everything else (the run's head records in a recreated file)."""
        self.restart_line()
        self._batches.appendleft(_Batch(data))
        self.size_bytes += len(data)

    def write_to(self, fd: int) -> None:
        """Write everything to ``fd``; an OSError leaves exactly the bytes that did not land."""
        batches = self._batches
        while batches:
            view = memoryview(batches[0].data)[self._offset:]
            while view:
                written = os.write(fd, view)
                self._offset += written
                self.size_bytes -= written
                view = view[written:]
            batches.popleft()
            self._offset = 0

    def restart_line(self) -> None:
        """Forget that a line was partly written: its start went with a file that is gone."""
        if self._offset:
            first = self._batches[0]
            start = first.data.rfind(b"\n", 0, self._offset) + 1
            first.data = first.data[start:]
            self.size_bytes += self._offset - start
            self._offset = 0

    def count_records(self) -> int:
        return sum(batch.data.count(b"\n") for batch in self._batches) - self._offset_lines()

    def _offset_lines(self) -> int:
        return self._batches[0].data.count(b"\n", 0, self._offset) if self._batches else 0

    def shed(self, max_bytes: int) -> int:
        """Drop the oldest droppable lines, then the oldest batches, until within ``max_bytes``.

        Returns the number of records dropped. The batch being written (partly on disk) is kept.
        """
        if self.size_bytes <= max_bytes:
            return 0
        dropped = 0
        first_is_partial = self._offset > 0
        for index, batch in enumerate(self._batches):
            if self.size_bytes <= max_bytes:
                break
            if batch.thinned or (index == 0 and first_is_partial):
                continue
            # Only as many of its oldest droppable lines as the excess: one batch may be most of the
            # bound (the loop runs ahead while writes fail), and its newest metrics must stay.
            excess = self.size_bytes - max_bytes
            kept, removed = [], 0
            for line in batch.data.split(b"\n")[:-1]:
                if removed < excess and line.startswith(DROPPABLE_PREFIXES):
                    removed += len(line) + 1
                    dropped += 1
                else:
                    kept.append(line)
            data = b"".join(line + b"\n" for line in kept)
            self.size_bytes -= len(batch.data) - len(data)
            batch.data, batch.thinned = data, removed < excess  # thinned: no droppable line left
        while self.size_bytes > max_bytes and len(self._batches) > first_is_partial:
            oldest = self._batches[int(first_is_partial)]
            del self._batches[int(first_is_partial)]
            dropped += oldest.data.count(b"\n")
            self.size_bytes -= len(oldest.data)
        self._batches = collections.deque(batch for batch in self._batches if batch.data)
        return dropped
