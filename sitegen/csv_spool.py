"""The full-data CSV of a run, written while the run is read for its page (load_run's on_metrics).

A run page links a CSV file only when its series were reduced (load.PAGE_POINTS_PER_SERIES), and
that is known only once the run is read. Reading a long run twice, once reduced for the page and
once for the CSV, doubled its build; so the spool takes every metrics record as the page's read
passes it, holds the first ones in memory, and starts the gzipped file once one metric has more
points than the page's budget (fewer cannot make a reduced series, and the page holds that many
points of each series anyway). Counting points, not records, matters for a run of many writers: 64
ranks logging 1,000 steps each make 64,000 records but series of 1,000 points, and formatting and
gzipping their CSV only to remove it doubled that run's build. Small runs never touch a file; a
long run whose series all fit its page has its file removed.
"""
from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable

from .metrics_csv import GZIP_LEVEL, HEADER, RECORDS_PER_CHUNK, MetricsCsv
from .output import open_gzip, remove_file, remove_folder_if_empty, rename_file

SPOOL_FOLDER = ".csv-spool-{pid}"  # in the staging folder, one per process, removed when empty: the
                                    # page folder is named after the run's id, known once the run is read


_spool_numbers = itertools.count()


class CsvSpool:
    """Call it with ``(steps, times, values)``, parallel lists of metrics records (load_run's
    on_metrics), or ``add_columns(steps, times, keys, columns)`` for a stretch of records that all
    hold ``keys``; then ``close(relative)`` or ``discard()``. ``created()`` gives the run's creation
    time, the CSV's origin: it is asked only once a file is started, so a run whose series fit its
    page costs no second open of its events file."""

    def __init__(self, staging: str, created: Callable[[], float | None], clean_name: Callable[[str], str],
                 hold_records: int):
        self.staging = staging
        self.relative = f"{SPOOL_FOLDER.format(pid=os.getpid())}/{next(_spool_numbers)}.csv.gz"
        self.created = created
        self.clean_name = clean_name
        self.csv: MetricsCsv | None = None  # made with the file
        self.hold_records = hold_records
        # Held stretches, in the order read: (steps, times, values dicts) or (steps, times, keys,
        # columns); kept as they came, so a run whose series fit its page costs no copy of them.
        self.pending: list[tuple] = []
        self.pending_records = 0
        self.handle = None
        self.points_per_key: Counter = Counter()  # of the first self.counted held stretches
        self.counted = 0
        self.next_check = RECORDS_PER_CHUNK  # counted once per chunk of records, never in a short run

    def __call__(self, steps: list, times: list, values: list) -> None:
        self._hold((steps, times, values))

    def add_columns(self, steps: list, times: list, keys: tuple, columns: tuple) -> None:
        """Records ``(step, time, dict(zip(keys, values)))``, given as a column of values per key."""
        self._hold((steps, times, keys, columns))

    def close(self, relative: str) -> None:
        """Write what is held and put the file at ``relative`` in the staging folder."""
        self._write()
        self.handle.close()
        self.handle = None
        rename_file(self.staging, self.relative, relative)
        remove_folder_if_empty(self.staging, os.path.dirname(self.relative))

    def discard(self) -> None:
        """Drop what was held or written (the run's series fit its page)."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None
            remove_file(self.staging, self.relative)
            remove_folder_if_empty(self.staging, os.path.dirname(self.relative))
        self.pending = []

    def _hold(self, stretch: tuple) -> None:
        self.pending.append(stretch)
        self.pending_records += len(stretch[0])
        if self.handle is not None:
            if self.pending_records >= RECORDS_PER_CHUNK:
                self._write()
            return
        if self.pending_records >= self.next_check:
            if self._most_points() > self.hold_records:
                self._write()
            else:
                self.next_check = self.pending_records + RECORDS_PER_CHUNK

    def _most_points(self) -> int:
        """The most points any metric has among the held records."""
        for stretch in self.pending[self.counted:]:
            if len(stretch) == 3:  # a dict per record: its keys, counted in C
                self.points_per_key.update(itertools.chain.from_iterable(stretch[2]))
            else:
                for key in stretch[2]:
                    self.points_per_key[key] += len(stretch[0])
        self.counted = len(self.pending)
        return max(self.points_per_key.values(), default=0)

    def _write(self) -> None:
        if self.handle is None:
            self.csv = MetricsCsv(self.created(), self.clean_name)
            self.handle = open_gzip(self.staging, self.relative, GZIP_LEVEL)
            self.handle.write(HEADER.encode("utf-8"))
        for stretch in self.pending:
            if len(stretch) == 3:
                records = zip(*stretch)
            else:
                steps, times, keys, columns = stretch
                records = zip(steps, times, [dict(zip(keys, row)) for row in zip(*columns)])
            self.handle.write(self.csv.rows(records).encode("utf-8"))
        self.pending, self.pending_records, self.counted = [], 0, 0
