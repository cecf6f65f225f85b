"""Every logged point of a run's metrics as CSV text, streamed from its metrics records.

For runs whose page holds reduced series (load.PAGE_POINTS_PER_SERIES): the build writes this
beside the run page, gzipped, and the page's "Download CSV" links it. Pure: records in, text out,
a chunk at a time, so memory does not grow with the run. The columns are those of the page's
in-browser CSV (run-csv.js); rows come in logged order, one per metric value:

    metric,step,seconds_since_start,wall_time_utc,value      (value may be NaN / Infinity / -Infinity)
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator

HEADER = "metric,step,seconds_since_start,wall_time_utc,value\n"
RECORDS_PER_CHUNK = 5_000
METRICS_CSV_FILE = "metrics.csv.gz"  # beside the run page's index.html
# gzip level 3: half the time of the default 6 for about 10% more bytes on noisy float values (a
# million-step run of 20 metrics is some 20 million rows: compressing is a good part of its build).
GZIP_LEVEL = 3


class MetricsCsv:
    """Rows of the CSV for batches of ``(step, time, values)`` records, in the order given.

    ``created``: the run's start, which seconds_since_start counts from (the first record's time
    when None); ``clean_name``: how a metric name is shown (the build redacts it as on the page).
    """

    def __init__(self, created: float | None, clean_name: Callable[[str], str]):
        self.origin = created
        self.clean_name = clean_name
        self.cells: dict[str, str] = {}

    def rows(self, records: Iterable[tuple[int, float, dict]]) -> str:
        lines = []
        append = lines.append
        cells = self.cells
        for step, wall_time, values in records:
            if self.origin is None:
                self.origin = wall_time
            middle = f",{step},{_seconds(wall_time - self.origin)},{_iso_utc(wall_time)},"
            for name, value in values.items():
                cell = cells.get(name)
                if cell is None:
                    cell = cells[name] = csv_cell(self.clean_name(name))
                # A row per logged value: the finite float, by far the most common, is formatted inline.
                append(f"{cell}{middle}{value!r}\n" if type(value) is float and value - value == 0.0
                       else f"{cell}{middle}{_value(value)}\n")
        return "".join(lines)


def metrics_csv_chunks(records: Iterable[tuple[int, float, dict]], created: float | None,
                       clean_name: Callable[[str], str]) -> Iterator[str]:
    """The whole CSV text for ``records`` (e.g. tracker.reader.iter_metrics), header first, a chunk
    of RECORDS_PER_CHUNK records at a time."""
    csv = MetricsCsv(created, clean_name)
    yield HEADER
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) == RECORDS_PER_CHUNK:
            yield csv.rows(batch)
            batch = []
    if batch:
        yield csv.rows(batch)


def csv_cell(text: str) -> str:
    """A text cell: never read as a spreadsheet formula, quoted when it holds a separator."""
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if any(char in text for char in ',"\n\r') else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _seconds(seconds: float) -> str:
    """To the millisecond, as the page's data file has it, without trailing zeros."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _iso_utc(unix_s: float) -> str:
    """Like JavaScript's toISOString(): 2026-01-31T12:00:00.250Z."""
    whole = math.floor(unix_s)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((unix_s - whole) * 1000):03d}Z"


def _value(value) -> str:
    if type(value) is float:
        if value - value == 0.0:
            return repr(value)
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return str(int(value))  # ints (booleans were logged as 0/1)
