"""The site benchmark's report and its synthetic runs: what a reader sees, what the build reads."""
import warnings

from site_report import render_report
from synthetic_runs import run_records, write_runs

from tracker.reader import scan


def size_row(runs, **changes):
    row = {"runs": runs, "steps": 1000, "metrics": 5, "floor_s": 1.0, "lines": runs * 1007, "cold_s": 4.0,
           "cold_peak_bytes": 150e6, "rebuild_s": 0.3, "scan_floor_s": 0.1, "rebuild_peak_bytes": 50e6, "site_bytes": 80e6,
           "site_files": runs * 3 + 18,
           "page": {"ready_ms": 300.0, "blank_ms": 100.0, "search_ms": 20.0, "sort_ms": 30.0, "rows_in_dom": 100},
           "listing": {"first_s": 12.0, "changed_s": 0.4, "scan_floor_s": 0.1}}
    row.update(changes)
    return row


def results(*rows):
    return {"command": "python bench/bench_site.py", "date": "2026-01-02", "revision": "abc1234",
            "machine": "Test CPU, 2 cores", "cores": 2, "sizes": list(rows)}


def test_targets_say_which_are_met():
    report = render_report(results(size_row(1000, cold_s=16.0),
                                   size_row(10000, cold_s=60.0, rebuild_s=1.2, cold_peak_bytes=180e6,
                                            site_bytes=812e6, page={"ready_ms": 450.0, "blank_ms": 150.0,
                                                                    "search_ms": 40.0, "sort_ms": 60.0,
                                                                    "rows_in_dom": 100})))
    assert "| 1,000 runs, cold build | 16.0 s | < 15 s | **no** |" in report
    assert "| 1,000 runs, one changed run rebuilt | 0.30 s | < 1 s | yes |" in report
    assert "| 10,000 runs, one changed run rebuilt | 1.20 s | < 1 s | **no** |" in report
    assert "| 10,000 runs, peak memory of the build | 180 MB | < 400 MB | yes |" in report
    assert "| 10,000 runs, site size | 812 MB | < 1,000 MB | yes |" in report
    assert "| 10,000 runs, index interactive | 450 ms | < 1000 ms | yes |" in report


def test_build_and_page_tables_show_ratios_to_their_floors():
    report = render_report(results(size_row(100)))
    assert "| 100 | 100,700 | 1.00 | 4.00 | 4.0x | 150 MB | 0.10 | 0.30 | 3.0x | 50 MB | 80 MB | 318 |" in report
    assert "| 100 | 100 | 300 | 3.0x | 20 | 30 | 100 |" in report
    assert "| 100 | 12.00 | 0.10 | 0.40 | 4.0x |" in report
    assert "1,000 runs, cold build" not in report  # no target row for a size that was not measured


def test_synthetic_runs_read_back_as_finished_runs_with_their_steps(tmp_path):
    write_runs(str(tmp_path), 3, steps=20, metrics=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a malformed record would warn
        result = scan(str(tmp_path))
    assert result.errors == []
    assert [run.name for run in result.runs] == ["sweep-0", "sweep-1", "sweep-2"]
    for run in result.runs:
        assert run.status == "finished"
        assert sorted(run.histories) == sorted(["train/loss", "valid/loss", "valid/acc", "lr", "grad_norm"])
        assert len(run.history("valid/acc")) == 20
        assert run.config["seed"] == int(run.name.split("-")[1])


def test_synthetic_runs_are_the_same_every_time():
    assert run_records(5, 10, 5) == run_records(5, 10, 5)
    assert run_records(5, 10, 5) != run_records(6, 10, 5)
