"""The logger report: what a reader sees for given numbers (made up here, nothing is timed)."""
from logger_report import render_report


def results(**changes):
    base = {
        "command": "python bench/bench_logger.py --peers",
        "date": "2026-01-02",
        "revision": "abc1234",
        "machine": "Test CPU, 2 cores, Python 3.11.7, Linux",
        "settings": {"calls": 100_000, "long_calls": 1_000_000, "repeats": 5, "startup_repeats": 7,
                     "peer_calls": 5_000},
        "per_call": {
            "1 scalar": {"calls": 100_000, "baseline_s": 4e-6, "ours_s": 4.4e-6, "ratio": 1.1},
            "10 scalars": {"calls": 100_000, "baseline_s": 10e-6, "ours_s": 13e-6, "ratio": 1.3},
        },
        "flatness": {"workload": "10 scalars", "calls": 1_000_000, "tenths_s": [2e-6] * 10, "ratio": 1.0,
                     "finish_s": 0.5},
        "startup": {"repeats": 7, "python_s": 0.03, "imports_s": {"tracker": 0.04, "wandb": "failed: exit 1: boom"},
                    "init_s": 0.006, "finish_s": 0.2},
        "peers": [
            {"peer": "trackio", "workload": "1 scalar", "calls": 5_000, "result": {"start_s": 0.5, "per_call_s": 44e-6}},
            {"peer": "W&B offline", "workload": "1 scalar", "calls": 5_000, "result": "failed: timed out after 300 s"},
        ],
        "problems": [],
    }
    base.update(changes)
    return base


def test_targets_say_which_are_met():
    report = render_report(results())
    assert "| `run.log()` per call, 1 scalar | 1.10x baseline (4.40 vs 4.00 µs) | ≤ 1.2x | yes |" in report
    assert "| `run.log()` per call, 10 scalars | 1.30x baseline (13.00 vs 10.00 µs) | ≤ 1.2x | **no** |" in report
    assert "| cheaper than the fastest peer, 1 scalar | 10x (trackio) | ≥ 6x | yes |" in report
    assert "| `import tracker` | 40.0 ms | < 100 ms | yes |" in report
    assert "| `tracker.init()` | 6.0 ms | < 50 ms | yes |" in report


def test_a_metric_named_like_inf_is_a_row_and_a_ratio_to_loss():
    measured = results()
    measured["per_call"]["1 scalar named inference_ms"] = {"calls": 100_000, "baseline_s": 4e-6, "ours_s": 4.84e-6,
                                                           "ratio": 1.21, "loss_s": 4.4e-6, "to_loss_ratio": 1.1}
    report = render_report(measured)
    assert "| 1 scalar named inference_ms | 100,000 | 4.00 | 4.84 | 1.21x |" in report
    assert "| `run.log()` per call, 1 scalar named inference_ms | 1.21x baseline (4.84 vs 4.00 µs) | ≤ 1.2x | **no** |" in report
    assert "`inference_ms` costs 1.10x `loss` (4.84 vs 4.40 µs/call, the two loops interleaved" in report
    assert "costs" not in render_report(results()).split("### Per call")[1].split("###")[0]


def test_a_failed_peer_is_a_row_that_says_why():
    report = render_report(results())
    assert "| W&B offline | 1 scalar | 5,000 | failed: timed out after 300 s |" in report
    assert "| `import wandb` (timed inside the child) | failed: exit 1: boom |" in report


def test_without_peers_there_is_no_peer_section():
    without = results()
    del without["peers"]
    report = render_report(without)
    assert "### Peers" not in report and "fastest peer" not in report


def test_lost_records_are_shown_first():
    report = render_report(results(problems=["5 of 10 records were not on disk when finish() returned"]))
    assert report.index("**Problem:** 5 of 10 records") < report.index("### Targets")


def durability_results(**changes):
    base = {
        "command": "python bench/bench_logger.py --durability",
        "date": "2026-01-02",
        "revision": "abc1234",
        "machine": "Test CPU, 2 cores, Python 3.11.7, Linux",
        "settings": {"calls": 100_000, "long_calls": 1_000_000, "repeats": 5, "startup_repeats": 7,
                     "peer_calls": 5_000},
        "lag_bound": {
            "20 scalars": {"calls": 400_000, "baseline_s": 10e-6, "on_s": 12e-6, "off_s": 11e-6,
                           "on_ratio": 1.2, "off_ratio": 1.1, "on_lag_s": 0.4, "off_lag_s": 4.8},
        },
        "full_disk": {"workload": "10 scalars", "calls": 500_000, "working_s": 10e-6, "full_s": 10.5e-6,
                      "ratio": 1.05, "held_bytes": 33_000_000, "bound_bytes": 33_554_432},
        "problems": [],
    }
    base.update(changes)
    return base


def test_durability_report_states_the_cost_of_the_bound_and_of_a_full_disk():
    from logger_report import render_durability_report

    report = render_durability_report(durability_results())
    assert "| tight loop with the time bound over without, 20 scalars | 1.09x | ≤ 1.15x | yes |" in report
    assert "| loop while the disk is full over a working disk, 10 scalars | 1.05x | ≤ 1.1x | yes |" in report
    assert "| bytes held for retry while the disk is full | 33,000,000 | ≤ 33,554,432 | yes |" in report
    assert "| 20 scalars | 400,000 | 10.00 | 12.00 | 11.00 | 1.20x | 1.10x | 0.40 | 4.80 |" in report


def test_full_disk_row_shows_loop_and_finish_apart_when_measured():
    from logger_report import render_durability_report

    results = durability_results()
    results["full_disk"].update(flush_interval_s=1.0, working_loop_s=9e-6, full_loop_s=10e-6, loop_ratio=1.11,
                                working_finish_s=0.5, full_finish_s=0.01)
    report = render_durability_report(results)
    assert "| 10 scalars | 500,000 | 10.00 | 10.50 | 1.05x | 9.00 | 10.00 | 1.11x | 0.50 | 0.01 | 33,000,000 |" in report
    assert "not timed" not in report
