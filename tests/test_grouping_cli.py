"""`tracker ls --group-by` and `tracker.runs().group_by()`: the aggregated numbers equal NumPy's over
the runs, NaN skipped and counted; bands aligned and interpolated as documented (docs/site.md)."""
from __future__ import annotations

import json
import math

import numpy
import pytest

import tracker
from frameworks import require_framework
from grouping_runs import OPTIMIZERS, band_at, log_runs, summary_values
from test_site_support import run_cli


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    log_runs(root)
    return root


def test_ls_group_by_prints_the_aggregated_table(runs_dir):
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "optimizer", "--agg", "mean,std,min,max",
                             "--columns", "val_loss")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split("  ")[:2] == ["optimizer", "runs"]
    assert [part.strip() for part in lines[0].split("  ") if part.strip()] == [
        "optimizer", "runs", "val_loss mean", "val_loss std", "val_loss min", "val_loss max", "val_loss skipped"]
    rows = [line.split() for line in lines[2:]]
    assert [row[:2] for row in rows] == [["adam", "5"], ["sgd", "5"]]
    for row, optimizer in zip(rows, OPTIMIZERS):
        values = summary_values(optimizer, "val_loss")
        expected = [numpy.mean(values), numpy.std(values), values.min(), values.max()]
        assert [float(cell) for cell in row[2:6]] == pytest.approx(expected, rel=1e-5)  # printed to 6 digits
    assert [row[6] for row in rows] == ["1", "0"]  # adam seed 3's NaN


def test_ls_group_by_json_holds_every_aggregate(runs_dir):
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "optimizer", "--json", "--columns", "loss,val_loss")
    assert (code, err) == (0, "")
    groups = [json.loads(line) for line in out.splitlines()]
    assert [(group["key"], group["runs"]) for group in groups] == [({"optimizer": "adam"}, 5), ({"optimizer": "sgd"}, 5)]
    for group, optimizer in zip(groups, OPTIMIZERS):
        for metric in ("loss", "val_loss"):
            found, values = group["aggregates"][metric], summary_values(optimizer, metric)
            assert found["count"] == len(values) and found["skipped"] == 5 - len(values)
            assert found["mean"] == pytest.approx(numpy.mean(values), rel=1e-12)
            assert found["std"] == pytest.approx(numpy.std(values), rel=1e-12)
            assert found["stderr"] == pytest.approx(numpy.std(values) / math.sqrt(len(values)), rel=1e-12)


def test_ls_group_by_two_nested_keys_and_a_missing_one(runs_dir):
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "lr,optimizer", "--agg", "count",
                             "--columns", "val_loss")
    assert (code, err) == (0, "")
    assert [line.split() for line in out.splitlines()[2:]] == [["0.01", "adam", "5", "4", "1"], ["0.01", "sgd", "5", "5", "0"]]
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "config.momentum", "--columns", "val_loss")
    assert code == 0 and out.splitlines()[2].split()[:2] == ["(none)", "10"]


def test_ls_group_by_usage_errors_name_the_flag(runs_dir):
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "optimizer", "--agg", "mean,avg")
    assert (code, out) == (2, "")
    assert err == "tracker: error: --agg: unknown aggregate 'avg'; choose from mean, std, min, max, count, stderr\n"
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--group-by", "a,b,c")
    assert code == 2 and err.startswith("tracker: error: --group-by: give one or two keys")
    code, out, err = run_cli("ls", "--runs", str(runs_dir), "--agg", "mean")
    assert (code, err) == (2, "tracker: error: --agg: aggregates are of groups; add --group-by KEY\n")


def test_ls_and_runs_group_by_a_datasets_hash(tmp_path):
    """The listing keeps no dataset hashes: ls reads them from the runs it groups."""
    for index, text in enumerate(["a,b\n1,2\n", "a,b\n1,2\n", "a,b\n3,4\n"]):
        data = tmp_path / f"train-{index}.csv"
        data.write_text(text)
        run = tracker.init(name=f"d{index}", dir=str(tmp_path / "runs"), capture=False, config={"seed": index})
        run.log_dataset(str(data), name="train")
        run.log({"loss": float(index)})
        run.finish()
    code, out, err = run_cli("ls", "--runs", str(tmp_path / "runs"), "--group-by", "dataset.train", "--agg", "count,mean")
    assert (code, err) == (0, "")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert sorted(row[1:] for row in rows) == [["1", "1", "2"], ["2", "2", "0.5"]]
    groups = tracker.runs(tmp_path / "runs").group_by("dataset.train")
    assert sorted((len(group.runs), group.aggregates["loss"]["mean"]) for group in groups) == [(1, 2.0), (2, 0.5)]
    assert {len(group.key["dataset.train"]) for group in groups} == {64}  # sha256 hex


def test_runs_group_by_gives_groups_with_runs_and_numpy_aggregates(runs_dir):
    groups = tracker.runs(runs_dir).group_by("optimizer")
    assert [(group.key, len(group.runs)) for group in groups] == [({"optimizer": "adam"}, 5), ({"optimizer": "sgd"}, 5)]
    assert {run.config["optimizer"] for run in groups[1].runs} == {"sgd"}
    for group, optimizer in zip(groups, OPTIMIZERS):
        values = summary_values(optimizer, "val_loss")
        found = group.aggregates["val_loss"]
        assert (found["count"], found["skipped"]) == (len(values), 5 - len(values))
        assert [found[name] for name in ("mean", "std", "min", "max")] == pytest.approx(
            [numpy.mean(values), numpy.std(values), values.min(), values.max()], rel=1e-12)


def test_a_groups_band_is_numpy_over_the_interpolated_runs(runs_dir):
    adam, sgd = tracker.runs(runs_dir).group_by("optimizer")
    for group, optimizer in ((adam, "adam"), (sgd, "sgd")):
        result = group.band("loss")
        assert result["steps"] == list(range(10))
        for index, step in enumerate(result["steps"]):
            values = band_at(optimizer, step)
            assert result["count"][index] == len(values)
            assert result["mean"][index] == pytest.approx(numpy.mean(values), rel=1e-12)
            assert result["std"][index] == pytest.approx(numpy.std(values), rel=1e-12)
    assert adam.band("loss")["skipped"] == 1 and sgd.band("loss")["skipped"] == 0
    # seed 4 stops at step 5 (not extrapolated); seed 1's NaN at step 7 is bridged from steps 6 and 8
    assert adam.band("loss")["count"] == [5] * 6 + [4] * 4


def test_group_by_to_pandas(runs_dir):
    pandas = require_framework("pandas", extra="dev")  # a failure under CI=true, never a skip
    frame = tracker.runs(runs_dir).group_by("optimizer", metrics=["val_loss"]).to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns)[:4] == ["optimizer", "runs", "val_loss.count", "val_loss.skipped"]
    assert frame["val_loss.mean"].tolist() == pytest.approx([numpy.mean(summary_values(o, "val_loss")) for o in OPTIMIZERS])
