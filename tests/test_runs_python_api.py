"""Reading runs from Python as people analyse them: tracker.runs(filter=, sort=), runs.to_pandas(),
run.history(metric).to_pandas() and run.history_frame(), on runs logged with tracker.init."""
import contextlib
import io
import json
import math
import os
import subprocess
import sys
import warnings

import pandas as pd
import pytest

import tracker
from tracker.cli import main
from tracker.query import QueryError

SWEEP = [  # (name, lr, final valid/acc, tags)
    ("slow", 0.001, 0.70, ["baseline"]),
    ("mid", 0.01, 0.90, []),
    ("fast", 0.1, 0.80, ["fast"]),
]


def log_sweep(root) -> dict:
    """Three finished runs and one failed one: {name: run id}."""
    ids = {}
    for name, lr, acc, tags in SWEEP:
        with tracker.init(project="moons", name=name, config={"lr": lr, "opt": {"momentum": 0.9}},
                          tags=tags, dir=root, capture=False) as run:
            for step in range(3):
                run.log({"loss": 1.0 / (step + 1), "valid/acc": acc - 0.1 * (2 - step)})
            run.log({"lr_now": lr}, step=1)  # a metric logged at one step only
            run.summary["best_acc"] = acc
        ids[name] = run.id
    with pytest.raises(RuntimeError):
        with tracker.init(project="moons", name="broken", config={"lr": 0.5}, dir=root, capture=False) as run:
            run.log({"loss": math.nan})
            raise RuntimeError("diverged")
    ids["broken"] = run.id
    return ids


def ls_json(*argv: str) -> list[dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["ls", "--json", *argv]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def sweep(tmp_path):
    root = tmp_path / "runs"
    return root, log_sweep(root)


def test_filter_and_sort_use_the_grammar_of_tracker_ls(sweep):
    root, ids = sweep
    found = tracker.runs(root, filter="lr>=0.01 status:finished", sort="-valid/acc")
    assert [run.name for run in found] == ["mid", "fast"]
    assert [run.id for run in found] == [row["id"] for row in ls_json(
        "--runs", str(root), "--filter", "lr>=0.01 status:finished", "--sort=-valid/acc")]
    assert [run.name for run in tracker.runs(root, filter="tag:baseline")] == ["slow"]
    assert [run.name for run in tracker.runs(root, filter="status:failed")] == ["broken"]


def test_todays_signature_still_reads_every_run_oldest_first(sweep):
    root, ids = sweep
    assert [run.name for run in tracker.runs(root)] == ["slow", "mid", "fast", "broken"]
    assert [run.name for run in tracker.runs(str(root), project="other")] == []
    moons = tracker.runs(root, project="moons", sort="lr")
    assert [run.name for run in moons] == ["slow", "mid", "fast", "broken"]
    assert moons[0].history("loss").values == [1.0, 0.5, 1.0 / 3]  # loaded in full, not the listing's last point


def test_a_bad_filter_fails_before_reading_naming_the_position(tmp_path):
    with pytest.raises(QueryError) as caught:
        tracker.runs(tmp_path / "nowhere", filter="lr>=")
    assert "lr>=" in str(caught.value)
    assert not (tmp_path / "nowhere").exists()


def test_only_matching_runs_are_read_past_the_listing_cache(sweep):
    root, ids = sweep
    assert len(tracker.runs(root)) == 4  # fills the listing cache
    # Break the "slow" run's file without changing its size or time: the cache still holds its row,
    # so a filter that excludes it never opens it, while reading it would fail loudly.
    events = root / ids["slow"] / "events.jsonl"
    stat = events.stat()
    events.write_bytes(b"x" * stat.st_size)
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [run.name for run in tracker.runs(root, filter="lr>=0.01 status:finished")] == ["mid", "fast"]
    with pytest.warns(UserWarning, match=f"skipped unreadable run .*{ids['slow']}"):
        assert "slow" not in [run.name for run in tracker.runs(root, filter="lr<0.01")]


def test_runs_to_pandas_has_one_row_per_run_with_config_summary_tags_status_times(sweep):
    root, ids = sweep
    found = tracker.runs(root)
    frame = found.to_pandas()
    assert list(frame["id"]) == [ids[name] for name in ("slow", "mid", "fast", "broken")]
    assert list(frame.columns[:12]) == ["id", "name", "project", "group", "status", "tags", "user", "host",
                                        "created", "ended", "duration_s", "error"]
    slow = frame.set_index("name").loc["slow"]
    assert (slow["status"], slow["tags"], slow["config.lr"], slow["config.opt.momentum"]) == \
           ("finished", ["baseline"], 0.001, 0.9)
    assert slow["summary.best_acc"] == 0.70
    assert slow["summary.valid/acc"] == pytest.approx(0.70)
    assert slow["summary.lr_now"] == 0.001
    assert str(frame["created"].dt.tz) == "UTC"
    assert slow["created"] == pd.Timestamp(found[0].created, unit="s", tz="UTC")
    assert slow["ended"] >= slow["created"]
    broken = frame.set_index("name").loc["broken"]
    assert broken["status"] == "failed" and "diverged" in broken["error"]
    assert math.isnan(broken["summary.loss"]) and math.isnan(broken["summary.best_acc"])
    filtered = tracker.runs(root, filter="lr>=0.01 status:finished", sort="-valid/acc").to_pandas()
    assert list(filtered["name"]) == ["mid", "fast"]


def test_an_empty_run_list_is_an_empty_frame_with_the_run_columns(tmp_path):
    frame = tracker.runs(tmp_path, filter="status:finished").to_pandas()
    assert frame.empty and list(frame.columns)[:3] == ["id", "name", "project"]


def test_history_to_pandas_gives_step_time_value(sweep):
    root, _ = sweep
    [run] = tracker.runs(root, filter="name:mid")
    frame = run.history("valid/acc").to_pandas()
    assert list(frame.columns) == ["step", "time", "value"]
    assert list(frame["step"]) == [0, 1, 2]
    assert list(frame["value"]) == pytest.approx([0.70, 0.80, 0.90])
    assert list(frame["time"]) == [pd.Timestamp(t, unit="s", tz="UTC") for t in run.history("valid/acc").times]
    assert run.history("never_logged").to_pandas().empty


def test_history_frame_has_one_row_per_step_and_a_column_per_metric(sweep):
    root, _ = sweep
    [run] = tracker.runs(root, filter="name:fast")
    frame = run.history_frame()
    assert list(frame.columns) == ["step", "time", "loss", "valid/acc", "lr_now"]
    assert list(frame["step"]) == [0, 1, 2]
    assert list(frame["loss"]) == pytest.approx([1.0, 0.5, 1.0 / 3])
    assert frame["lr_now"].isna().tolist() == [True, False, True]
    assert frame.loc[1, "lr_now"] == 0.1
    # the time of a step is the first time anything was logged at it
    assert frame.loc[1, "time"] == pd.Timestamp(min(run.history("loss").times[1], run.history("lr_now").times[0]),
                                                unit="s", tz="UTC")
    [broken] = tracker.runs(root, filter="status:failed")
    assert math.isnan(broken.history_frame().loc[0, "loss"])


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_import_tracker_imports_neither_pandas_nor_the_read_path():
    modules = ["pandas", "tracker.run_list", "tracker.listing", "tracker.query", "tracker.frames"]
    result = run_python(f"import sys, tracker; print([name for name in {modules!r} if name in sys.modules])\n"
                        "from tracker import runs; print(runs.__module__, 'pandas' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "tracker.run_list False"]


@pytest.mark.parametrize("call, wanted", [
    ("tracker.runs(root).to_pandas()", "runs.to_pandas()"),
    ("run.history('loss').to_pandas()", "history.to_pandas()"),
    ("run.history_frame()", "run.history_frame()"),
])
def test_without_pandas_each_frame_says_how_to_install_it(sweep, call, wanted):
    root, _ = sweep
    code = ("import sys; sys.modules['pandas'] = None\n"  # makes `import pandas` fail as if not installed
            "import tracker\n"
            f"root = {str(root)!r}\n"
            "run = tracker.runs(root)[0]\n"
            "try:\n"
            f"    {call}\n"
            "except ImportError as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"PandasMissingError {wanted} needs pandas, which is not installed; "
                                     "install it with: pip install pandas")
