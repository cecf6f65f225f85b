"""``tracker diff`` and ``tracker.rundiff``: exit codes and the exact tables, then the pure comparison."""
import math
import os
import subprocess
import sys

import pytest

import tracker
from tracker.listing import find_run
from tracker.reader import RunRecord, load_run
from tracker.rundiff import IMPROVED, REGRESSED, compare, lower_is_better, render_markdown

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
ID_A = "20260101-090000-aaaa1111"
ID_B = "20260102-090000-bbbb2222"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A baseline in one runs folder and a candidate in another, as from main's CI and a branch's."""
    main_runs, branch_runs = tmp_path_factory.mktemp("main-runs"), tmp_path_factory.mktemp("branch-runs")
    with tracker.init(project="p", name="base", id=ID_A, dir=main_runs, capture=False,
                      config={"lr": 0.1, "opt": {"name": "adam"}, "epochs": 3}) as run:
        run.log({"train/loss": 0.5, "val/acc": 0.8})
        run.summary["ppl"] = float("nan")
    with tracker.init(project="p", name="cand", id=ID_B, dir=branch_runs, capture=False,
                      config={"lr": 0.01, "opt": {"name": "sgd|x"}, "epochs": 3, "batch": 32}) as run:
        run.log({"train/loss": 0.4, "val/acc": 0.75})
        run.summary["ppl"] = 3.0
    return main_runs, branch_runs


def test_markdown_table_for_a_run_path_from_another_folder(two_runs):
    main_runs, branch_runs = two_runs
    result = cli("diff", str(main_runs / ID_A), "cand", "--runs", str(branch_runs))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "**A** `base` (`aaaa1111`, finished, no git) → **B** `cand` (`bbbb2222`, finished, no git)",
        "",
        "#### Config",
        "",
        "| key | A | B |",
        "|---|---|---|",
        "| `lr` | 0.1 | 0.01 |",
        "| `opt.name` | adam | sgd\\|x |",
        "| `batch` | — | 32 |",
        "",
        "#### Metrics",
        "",
        "| metric | A | B | B−A | % |  |",
        "|---|---|---|---|---|---|",
        "| `train/loss` | 0.5 | 0.4 | -0.1 | -20.0% | ✅ improved |",
        "| `val/acc` | 0.8 | 0.75 | -0.05 | -6.3% | ❌ regressed |",
        "| `ppl` | NaN | 3 | — | — | ✅ improved |",
    ]


def test_text_format_with_all_config_keys(two_runs):
    main_runs, branch_runs = two_runs
    result = cli("diff", "20260101", ID_B, "--runs", str(main_runs), "--runs", str(branch_runs), "--format", "text", "--all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "A: base (aaaa1111, finished, no git)  →  B: cand (bbbb2222, finished, no git)",
        "",
        "Config:",
        "key       A     B",
        "--------  ----  -----",
        "lr        0.1   0.01",
        "opt.name  adam  sgd|x",
        "epochs    3     3",
        "batch     —     32",
        "",
        "Metrics:",
        "metric      A    B     B-A    %",
        "----------  ---  ----  -----  ------  ---------",
        "train/loss  0.5  0.4   -0.1   -20.0%  improved",
        "val/acc     0.8  0.75  -0.05  -6.3%   regressed",
        "ppl         NaN  3     —      —       improved",
    ]


def test_unknown_run_is_one_error_line(two_runs):
    main_runs, _ = two_runs
    result = cli("diff", "base", "nope", "--runs", str(main_runs))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"tracker: error: no run with id, id prefix or name 'nope' in {main_runs}\n"


def test_folder_that_is_not_a_run_is_one_error_line(two_runs, tmp_path):
    main_runs, _ = two_runs
    result = cli("diff", str(tmp_path), "base", "--runs", str(main_runs))
    assert result.returncode == 2
    assert result.stderr == f"tracker: error: {tmp_path}: no events*.jsonl file\n"


def test_direction_of_improvement():
    for name in ("loss", "val/loss", "train_mse", "rmse", "test-error", "cer", "wer", "val/ppl"):
        assert lower_is_better(name), name
    for name in ("acc", "best_val_acc", "f1", "power", "precision", "lossless_ratio"):
        assert not lower_is_better(name), name


def record(run_id, summary, **fields):
    return RunRecord(id=run_id, path=f"/runs/{run_id}", name=run_id, status="finished",
                     explicit_summary=summary, **fields)


def test_verdicts_with_non_finite_values():
    a = record("a", {"loss": 0.3, "acc": 0.9, "val/loss": 1.0, "same": 2.0})
    b = record("b", {"loss": math.inf, "acc": math.nan, "val/loss": 0.5, "same": 2.0, "new": 1})
    rows = {row.name: row for row in compare(a, b).metrics}
    assert (rows["loss"].verdict, rows["loss"].change, rows["loss"].relative_pct) == (REGRESSED, math.inf, None)
    assert (rows["acc"].verdict, rows["acc"].change) == (REGRESSED, None)
    assert (rows["val/loss"].verdict, rows["val/loss"].relative_pct) == (IMPROVED, -50.0)
    assert rows["same"].verdict is None and rows["same"].change == 0.0
    assert rows["new"].verdict is None and rows["new"].change is None
    table = render_markdown(compare(a, b))
    assert "| `loss` | 0.3 | Infinity | +Infinity | — | ❌ regressed |" in table
    assert "| `new` | — | 1 | — | — |  |" in table
    assert "No config differences." in table


def test_note_names_git_dataset_and_package_changes():
    a = record("a", {}, git={"commit": "1111111aaaa", "branch": "main"},
               datasets=[{"name": "train", "sha256": "x"}, {"name": "val", "sha256": "v"}],
               environment={"packages": {"numpy": "1.26.4", "torch": "2.2.0", "six": "1.16"}})
    b = record("b", {}, git={"commit": "2222222bbbb", "branch": "fix", "dirty": True},
               datasets=[{"name": "train", "sha256": "y"}, {"name": "val", "sha256": "v"}],
               environment={"packages": {"numpy": "2.0.0", "torch": "2.2.0", "jax": "0.4"}})
    diff = compare(a, b)
    assert diff.notes == ["git commit 1111111 → 2222222", "1 dataset (train)",
                          "3 packages (jax — → 0.4, numpy 1.26.4 → 2.0.0, six 1.16 → —)"]
    lines = render_markdown(diff).splitlines()
    assert lines[0] == "**A** `a` (`a`, finished, 1111111 on main) → **B** `b` (`b`, finished, 2222222+dirty on fix)"
    assert lines[-1] == ("**Also differs:** git commit 1111111 → 2222222; 1 dataset (train); "
                         "3 packages (jax — → 0.4, numpy 1.26.4 → 2.0.0, six 1.16 → —)")


def test_example_sweep_records_finished_runs(tmp_path):
    runs_dir = tmp_path / "runs"
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "sweep.py"), "--quick", "--runs", str(runs_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    runs = tracker.runs(runs_dir)
    assert [run.name for run in runs] == ["baseline", "lr1.0-h32"]
    for run in runs:
        assert run.status == "finished"
        assert run.summary["best_val_acc"] > 0.5
        assert [artifact["name"] for artifact in run.artifacts] == ["weights.npy"]
        assert os.path.getsize(os.path.join(run.path, run.artifacts[0]["path"])) > 0
        assert [dataset["name"] for dataset in run.datasets] == ["spirals"]
        assert "train.py" in run.code["command_line"]
        assert len(run.history("val/acc")) == run.config["epochs"]
    assert find_run("baseline", runs_dir).config["hidden"] == 32
    assert load_run(runs[1].path).config["lr"] == 1.0
