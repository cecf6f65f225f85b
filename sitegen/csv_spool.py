"""The full-data CSV of a run, written while the run is read for its page (load_run's on_metrics).

A run page links a CSV file only when its series were reduced (load.PAGE_POINTS_PER_SERIES), and
that is known only once the run is read. Reading a long run twice, once reduced for the page and
once for the CSV, doubled its build; so the spool takes every metrics record as the page's read
passes it, holds the first ones in memory, and starts the gzipped file once there are more than
the page's budget of them (fewer records cannot make a reduced series). Small runs never touch a
file; a long run whose series all fit its page has its file removed.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable

from .metrics_csv import GZIP_LEVEL, HEADER, RECORDS_PER_CHUNK, MetricsCsv
from .output import open_gzip, remove_file, remove_folder_if_empty, rename_file

SPOOL_FOLDER = ".csv-spool-{pid}"  # in the staging folder, one per process, removed when empty: the
                                    # page folder is named after the run's id, known once the run is read


_spool_numbers = itertools.count()


class CsvSpool:
    """Call it with ``(steps, times, values)``, parallel lists of metrics records (load_run's
    on_metrics); then ``close(relative)`` or ``discard()``."""

    def __init__(self, staging: str, created: float | None, clean_name: Callable[[str], str], hold_records: int):
        self.staging = staging
        self.relative = f"{SPOOL_FOLDER.format(pid=os.getpid())}/{next(_spool_numbers)}.csv.gz"
        self.csv = MetricsCsv(created, clean_name)
        self.hold_records = hold_records
        self.pending: list[tuple] = []
        self.handle = None

    def __call__(self, steps: list, times: list, values: list) -> None:
        pending = self.pending
        pending += zip(steps, times, values)
        if len(pending) >= RECORDS_PER_CHUNK and (self.handle is not None or len(pending) > self.hold_records):
            self._write()

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

    def _write(self) -> None:
        if self.handle is None:
            self.handle = open_gzip(self.staging, self.relative, GZIP_LEVEL)
            self.handle.write(HEADER.encode("utf-8"))
        self.handle.write(self.csv.rows(self.pending).encode("utf-8"))
        self.pending = []
