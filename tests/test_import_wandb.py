"""tracker import wandb: offline runs written in the test by real wandb (a finished one and one whose
script raised), imported and read back, compared field by field with what wandb's own reader
(``wandb leet inspect --json``, run by wandb's Go core) prints from the same ``.wandb`` files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime

import pytest

import tracker
from frameworks import require_framework
from tracker.reader import load_run

require_framework("wandb", extra="wandb")

from tracker.importers.wandb import import_runs  # noqa: E402 (after the skip)

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import wandb

    # the vocabulary, about 90 KB, makes the run record span three of the file's 32 KiB blocks
    config = {"lr": 0.01, "model": {"depth": 3}, "vocab": [f"word{i}" for i in range(10_000)]}
    run = wandb.init(project="mnist", name=sys.argv[1], config=config,
                     tags=["baseline", "cpu"], notes="First **try**.", group="sweep-1", job_type="train")
    for step in range(3):
        values = {"loss": 1.0 / (step + 1), "val": {"acc": step / 10}, "phase": "train"}
        if step == 1:
            pixels = np.arange(8 * 6 * 3, dtype=np.uint8).reshape(8, 6, 3)
            values["samples"] = wandb.Image(pixels, caption="a gradient")
        if step == 2:
            values["grid"] = [wandb.Image(np.zeros((4, 4, 3), np.uint8)), wandb.Image(np.ones((4, 4, 3), np.uint8))]
            values["weights"] = wandb.Histogram([0.1, 0.2, 0.2, 0.9], num_bins=4)
            values["preds"] = wandb.Table(columns=["label", "score"], data=[["cat", 0.9], ["dog", 0.4]])
        wandb.log(values)
    run.summary["best_acc"] = 0.9
    if sys.argv[1] == "diverged":
        raise RuntimeError("loss diverged")
    wandb.finish()
""")
CONFIG = {"lr": 0.01, "model": {"depth": 3}, "vocab": [f"word{i}" for i in range(10_000)]}


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory):
    """The wandb/ folder of two offline runs: "baseline" finished, "diverged" raised before finish()."""
    root = tmp_path_factory.mktemp("wandb-runs")
    (root / "train.py").write_text(SCRIPT)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(root), "WANDB_SILENT": "true"}
    for name, returncode in (("baseline", 0), ("diverged", 1)):
        done = subprocess.run([sys.executable, "train.py", name], cwd=root, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == returncode, done.stderr
    return root / "wandb"


def wandb_reads(run_file) -> tuple[dict, list[dict]]:
    """What wandb's own reader prints of a .wandb file: its summary of the run, and every record."""
    def leet(*options):
        done = subprocess.run([sys.executable, "-m", "wandb", "leet", "inspect", *options, str(run_file)],
                              capture_output=True, text=True, timeout=120, check=True)
        return done.stdout
    return json.loads(leet("--summary", "--json")), [json.loads(line) for line in leet("--json").splitlines()]


def run_files(wandb_dir):
    return sorted(wandb_dir.glob("offline-run-*/run-*.wandb"))


def test_each_offline_run_is_a_run_with_what_wandb_reads_from_it(wandb_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    report = import_runs(wandb_dir, runs_dir)

    assert len(report.created) == 2
    imported = {load_run(run.path).name: load_run(run.path) for run in tracker.runs(runs_dir)}
    for run_file in run_files(wandb_dir):
        summary, records = wandb_reads(run_file)
        run = imported[summary["name"]]
        [init] = [record["run"] for record in records if record["type"] == "run"]
        assert (run.project, run.group, run.notes, run.host) == \
            (summary["project"], init["run_group"], summary["notes"], init["host"])
        assert run.tags == [*summary["tags"], f"job_type:{init['job_type']}"] == ["baseline", "cpu", "job_type:train"]
        assert run.config == summary["config"] == CONFIG
        assert run.created == pytest.approx(datetime.fromisoformat(summary["start_time"]).timestamp(), abs=1e-6)
        assert run.status == summary["state"]
        assert {key: run.summary[key] for key in ("best_acc", "loss")} == \
            {key: summary["summary"][key] for key in ("best_acc", "loss")}
        folder = runs_dir / run.id
        [record] = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()
                    if json.loads(line)["type"] == "run"]
        assert record["imported_from"] == \
            {"source": "wandb", "id": summary["run_id"], "path": str(run_file.parent.resolve())}

        history = [record["history"]["item"] for record in records if record["type"] == "history"]
        assert len(history) == 3
        for key in ("loss", "val.acc"):
            series = run.histories[key]
            assert series.steps == [row["_step"] for row in history]
            assert series.times == [row["_timestamp"] for row in history]
            assert series.values == [row[key] for row in history]
        [row] = [row for row in history if "samples._type" in row]
        [item] = run.media["samples"].items[row["_step"]]
        assert (item.time, item.fields["caption"]) == (row["_timestamp"], row["samples.caption"])
        assert (item.fields["width"], item.fields["height"]) == (row["samples.width"], row["samples.height"])
        assert (folder / item.file).read_bytes() == (run_file.parent / "files" / row["samples.path"]).read_bytes()
        [row] = [row for row in history if "grid._type" in row]
        grid = run.media["grid"].items[row["_step"]]
        assert [(folder / item.file).read_bytes() for item in grid] == \
            [(run_file.parent / "files" / name).read_bytes() for name in row["grid.filenames"]]
        [item] = run.media["weights"].items[row["_step"]]
        assert json.loads((folder / item.file).read_text())["counts"] == row["weights.values"] == [3, 0, 0, 1]
        assert json.loads((folder / item.file).read_text())["edges"] == pytest.approx(row["weights.bins"])
        [item] = run.media["preds"].items[row["_step"]]
        table = json.loads((run_file.parent / "files" / row["preds.path"]).read_text())
        stored = json.loads((folder / item.file).read_text())
        assert (stored["columns"], stored["rows"]) == (table["columns"], table["data"])
        assert f"wandb run {summary['run_id']}: history 'phase': str values (not numbers): 3" in report.skipped
        assert {artifact["name"] for artifact in run.artifacts} >= {"requirements.txt"}

    assert imported["baseline"].status == "finished" and imported["baseline"].error is None
    diverged = imported["diverged"]
    assert diverged.status == "failed"
    assert diverged.error.splitlines()[0] == "Traceback (most recent call last):"
    assert diverged.error.splitlines()[-1] == "RuntimeError: loss diverged"
    assert all(message.startswith(("wandb run ",)) for message in report.skipped)


def test_importing_again_is_the_same_runs(wandb_dir, tmp_path):
    first = import_runs(wandb_dir, tmp_path / "runs")
    again = import_runs(wandb_dir / "..", tmp_path / "runs")  # from the folder above: the same runs

    assert sorted(again.unchanged) == sorted(first.created) and again.created == again.replaced == []
    assert len(os.listdir(tmp_path / "runs")) == 2


def test_a_killed_run_cut_mid_record_keeps_what_was_written_and_is_crashed(wandb_dir, tmp_path):
    [source] = [path for path in run_files(wandb_dir) if wandb_reads(path)[0]["name"] == "baseline"]
    copy = tmp_path / "wandb" / source.parent.name
    shutil.copytree(source.parent, copy)
    cut = copy / source.name
    data = source.read_bytes()
    cut.write_bytes(data[: len(data) - 40])  # the exit record and a little before it, as a SIGKILL leaves

    report = import_runs(tmp_path / "wandb", tmp_path / "runs")
    [folder] = report.created
    # Read a minute on: the fixture made the source run seconds ago, and a run without an end record
    # is running until its last record is older than three heartbeats (a fast machine got here first).
    run = load_run(str(folder), now=time.time() + 60)
    assert run.status == "crashed" and run.config == CONFIG
    assert run.histories["loss"].steps == [0, 1, 2]
    assert any("its writer stopped mid-write" in message for message in report.skipped), report.skipped


def test_a_damaged_chunk_costs_the_rest_of_its_block_and_is_named(wandb_dir, tmp_path):
    [source] = [path for path in run_files(wandb_dir) if wandb_reads(path)[0]["name"] == "baseline"]
    copy = tmp_path / "wandb" / source.parent.name
    shutil.copytree(source.parent, copy)
    data = bytearray(source.read_bytes())
    damaged = data.index(b"a gradient")  # in step 1's summary record, written just before its history row
    data[damaged] ^= 0xFF
    (copy / source.name).write_bytes(bytes(data))

    report = import_runs(tmp_path / "wandb", tmp_path / "runs")
    run = load_run(str(report.created[0]))
    assert run.config == CONFIG  # the run record, split across three blocks, read whole
    assert 0 in run.histories["loss"].steps and 1 not in run.histories["loss"].steps
    assert any("a chunk whose checksum or type is wrong; passed over the rest of its 32 KiB block" in message
               for message in report.skipped), report.skipped


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True, text=True)


def test_tracker_import_wandb_prints_what_it_did(wandb_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    done = cli("import", "wandb", str(wandb_dir), "--runs", str(runs_dir))

    assert (done.returncode, done.stderr) == (0, "")
    first, *rest = done.stdout.splitlines()
    assert first == f"imported 2 wandb runs from {wandb_dir} into {runs_dir}: 2 created, 0 replaced, 0 unchanged"
    assert all(line.startswith(("skipped (", "  wandb run ")) for line in rest)
    assert sorted(run.name for run in tracker.runs(runs_dir)) == ["baseline", "diverged"]

    refused = cli("import", "wandb", str(tmp_path / "runs"), "--runs", str(runs_dir))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == f"tracker: error: {runs_dir} is not a wandb source: expected a W&B run folder " \
                             "(wandb/offline-run-*, holding a run-*.wandb file) at or below it; found none\n"


def test_tracker_import_wandb_without_wandb_installed_names_the_extra(tmp_path):
    arguments = ["import", "wandb", str(tmp_path), "--runs", str(tmp_path / "runs")]
    script = f"import sys; sys.modules['wandb'] = None; from tracker.cli import main; sys.exit(main({arguments!r}))"
    hidden = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (hidden.returncode, hidden.stdout) == (2, "")
    assert hidden.stderr.startswith("tracker: error: importing from wandb needs the wandb package, not installed")
    assert hidden.stderr.endswith(": pip install 'serverless-ml-tracker[wandb]'\n")
    assert not (tmp_path / "runs").exists()
