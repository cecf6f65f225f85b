"""`tracker demo`'s runs log media per epoch (demo_media.py), read back from the run folder: each
epoch's boundary images, confusion matrix, ROC and PR curves and worst predictions; none, and no
failure, where NumPy is missing."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from scripts import script_env
from tracker.cli.demo import PACKAGE_PARENT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EPOCHS = 3


def demo_run(runs: Path, *args: str, block_numpy: bool = False) -> subprocess.CompletedProcess:
    """One run of the demo's sweep, as `tracker demo` starts it (`python -m tracker.cli.demo`)."""
    if block_numpy:  # a light install: importing numpy fails as it would there
        command = [sys.executable, "-c", "import sys; sys.modules['numpy'] = None; "
                   "from tracker.cli.demo import train_main; train_main(sys.argv[1:])"]
    else:
        command = [sys.executable, "-m", "tracker.cli.demo"]
    return subprocess.run([*command, "--runs", str(runs), "--epochs", str(EPOCHS), *args], capture_output=True,
                          text=True, env=script_env(), cwd=PACKAGE_PARENT, timeout=120)


def records(runs: Path) -> tuple[Path, list[dict]]:
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return folder, [json.loads(line) for line in lines]


def test_each_epoch_logs_images_charts_and_a_table_beside_its_metrics(tmp_path):
    result = demo_run(tmp_path, "--name", "media")
    assert result.returncode == 0, result.stderr
    folder, logged = records(tmp_path)
    accuracy = {record["step"]: record["values"]["valid/acc"] for record in logged if record["type"] == "metrics"}
    assert sorted(accuracy) == list(range(EPOCHS))
    media = defaultdict(list)
    for record in logged:
        if record["type"] == "media":
            media[(record["key"], record["kind"])].append(record)
    assert sorted(media) == [("valid/boundary", "image"), ("valid/confusion", "confusion_matrix"),
                             ("valid/pr", "pr_curve"), ("valid/roc", "roc_curve"), ("valid/worst", "table")]
    images = media[("valid/boundary", "image")]
    assert [(image["step"], image["index"]) for image in images] == [(s, i) for s in range(EPOCHS) for i in (0, 1)]
    for image in images:
        data = (folder / image["file"]).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and (image["width"], image["height"]) == (64, 64)
        assert image["caption"].startswith(f"epoch {image['step']}: ")
    for matrix in media[("valid/confusion", "confusion_matrix")]:
        cells = json.loads((folder / matrix["file"]).read_text())
        assert cells["labels"] == [0, 1] and sum(map(sum, cells["matrix"])) == 80  # 20% of 400 points
        # the chart's accuracy is the metric the loop logged at that step, counted another way
        assert matrix["accuracy"] == accuracy[matrix["step"]]
    for curve in media[("valid/roc", "roc_curve")] + media[("valid/pr", "pr_curve")]:
        assert curve["classes"] == 1 and 0.5 < (curve.get("auc") or curve.get("average_precision")) <= 1
    for table in media[("valid/worst", "table")]:
        document = json.loads((folder / table["file"]).read_text())
        assert document["columns"] == ["x", "y", "label", "p(moon 1)", "loss"] and len(document["rows"]) == 8
        losses = [row[4] for row in document["rows"]]
        assert losses == sorted(losses, reverse=True)


def test_a_run_failing_on_purpose_keeps_the_media_of_its_epochs_before(tmp_path):
    result = demo_run(tmp_path, "--fail-at", "2")
    assert result.returncode != 0 and "simulated failure at epoch 2" in result.stderr
    _, logged = records(tmp_path)
    steps = {record["step"] for record in logged if record["type"] == "media"}
    assert steps == {0, 1}


def test_without_numpy_the_demo_logs_its_metrics_and_no_media(tmp_path):
    result = demo_run(tmp_path, block_numpy=True)
    assert result.returncode == 0, result.stderr
    folder, logged = records(tmp_path)
    assert [record["step"] for record in logged if record["type"] == "metrics"] == list(range(EPOCHS))
    assert not [record for record in logged if record["type"] == "media"] and not (folder / "media").exists()
