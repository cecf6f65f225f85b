"""The run-page benchmark's report: every figure beside the baseline's, as a reader sees it."""
from bench_run_pages import render


def result(steps, metrics, **changes):
    row = {"steps": steps, "metrics": metrics, "build_s": 0.5, "build_rss": 30 * 2**20, "data_bytes": 2**19,
           "csv_bytes": 0, "first_chart_ms": 400.0, "drawn": 4, "heap_bytes": 10 * 2**20}
    row.update(changes)
    return row


def test_report_gives_each_run_beside_the_baseline():
    report = render([result(1_000, 20), result(1_000_000, 20, build_s=50.0, build_rss=75 * 2**20, data_bytes=3 * 2**20,
                                                csv_bytes=125 * 2**20, first_chart_ms=600.0, heap_bytes=15 * 2**20),
                     result(3, 5_000, first_chart_ms=800.0, drawn=6)])
    rows = [line for line in report.splitlines() if line.startswith("| ")][1:]
    assert rows == [
        "| 1,000 steps x 20 metrics (baseline) | 0.5 | 1.0 | 30 | 1.0 | 0.50 | 0.0 | 400 | 1.0 | 4 | 10 | 1.0 |",
        "| 1,000,000 steps x 20 metrics | 50.0 | 100.0 | 75 | 2.5 | 3.00 | 125.0 | 600 | 1.5 | 4 | 15 | 1.5 |",
        "| 3 steps x 5,000 metrics | 0.5 | 1.0 | 30 | 1.0 | 0.50 | 0.0 | 800 | 2.0 | 6 | 10 | 1.0 |",
    ]
    assert "bench/bench_run_pages.py" in report
