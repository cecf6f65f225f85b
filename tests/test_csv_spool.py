"""The CSV spool starts its file only once one metric has more points than the page holds: a run of
many writers, each logging its own short series, makes many records but no file to throw away."""
from __future__ import annotations

import gzip
import os

from sitegen.csv_spool import CsvSpool
from sitegen.metrics_csv import HEADER

BUDGET = 5_000  # points a page holds per series (sitegen/load.py PAGE_POINTS_PER_SERIES)
CREATED = 1_790_000_000.0


def feed_writer(spool: CsvSpool, key: str, steps: range) -> None:
    """One writer's file as load_run passes it: parallel lists of its metrics records."""
    spool(list(steps), [CREATED + step for step in steps], [{key: float(step)} for step in steps])


def files_under(folder) -> list[str]:
    return [os.path.join(parent, name) for parent, _, names in os.walk(folder) for name in names]


def test_many_writers_with_series_that_fit_the_page_write_no_file(tmp_path):
    asked = []  # the creation time is read from the run's events file: only for a file written
    spool = CsvSpool(str(tmp_path), lambda: asked.append(1) or CREATED, str, hold_records=BUDGET)
    for rank in range(64):
        feed_writer(spool, f"rank{rank}/loss", range(1_000))
    assert spool.pending_records == 64_000
    assert files_under(tmp_path) == []
    spool.discard()
    assert files_under(tmp_path) == []
    assert asked == []


def test_a_series_past_the_budget_starts_the_file_and_it_holds_every_point(tmp_path):
    spool = CsvSpool(str(tmp_path), lambda: CREATED, str, hold_records=BUDGET)
    for rank in range(8):
        feed_writer(spool, f"rank{rank}/loss", range(1_000))
    assert files_under(tmp_path) == []
    feed_writer(spool, "rank0/loss", range(1_000, BUDGET + 2_000))  # rank 0's series now exceeds the budget
    assert len(files_under(tmp_path)) == 1
    spool.close("run/metrics.csv.gz")
    with gzip.open(tmp_path / "run" / "metrics.csv.gz", "rt", encoding="utf-8") as handle:
        rows = handle.read().splitlines()
    assert rows[0] == HEADER.strip()
    assert len(rows) == 1 + 8 * 1_000 + BUDGET + 1_000
    assert rows[1] == "rank0/loss,0,0,2026-09-21T14:13:20.000Z,0.0"
    assert rows[-1].startswith(f"rank0/loss,{BUDGET + 1_999},")
    assert files_under(tmp_path) == [str(tmp_path / "run" / "metrics.csv.gz")]


def test_the_same_text_gzips_to_the_same_bytes_whatever_the_staging_name(tmp_path):
    from sitegen.output import open_gzip

    for name in ("9.csv", "17.csv"):
        with open_gzip(str(tmp_path), name) as handle:
            handle.write(b"step,loss\n0,0.5\n")
    first, second = (tmp_path / "9.csv").read_bytes(), (tmp_path / "17.csv").read_bytes()
    assert first == second and gzip.decompress(first) == b"step,loss\n0,0.5\n"


def test_columns_and_dicts_write_the_same_rows(tmp_path):
    """add_columns (a stretch whose records all hold the same keys) gives the CSV the rows that a
    dict per record gives, in the same order, and counts toward the budget alike."""
    steps = list(range(BUDGET + 10))
    times = [CREATED + step / 2 for step in steps]
    losses, accuracies = [1.0 / (step + 1) for step in steps], [step % 7 for step in steps]
    texts = []
    for as_columns in (False, True):
        spool = CsvSpool(str(tmp_path / str(as_columns)), lambda: CREATED, str, hold_records=BUDGET)
        for start in range(0, len(steps), 1_000):
            part = slice(start, start + 1_000)
            if as_columns:
                spool.add_columns(steps[part], times[part], ("loss", "acc"), (losses[part], accuracies[part]))
            else:
                spool(steps[part], times[part], [{"loss": loss, "acc": acc}
                                                 for loss, acc in zip(losses[part], accuracies[part])])
        spool.close("run/metrics.csv.gz")
        texts.append((tmp_path / str(as_columns) / "run" / "metrics.csv.gz").read_bytes())
    assert texts[0] == texts[1]
    rows = gzip.decompress(texts[1]).decode().splitlines()
    assert len(rows) == 1 + 2 * len(steps) and rows[1:3] == ["loss,0,0,2026-09-21T14:13:20.000Z,1.0",
                                                            "acc,0,0,2026-09-21T14:13:20.000Z,0"]
