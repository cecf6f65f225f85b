"""examples/digits_sklearn.py, run as a user runs it (a subprocess on a temp runs folder): each
epoch's confusion matrix, ROC and PR curves and worst-predictions table of digit images, checked by
reading the run folder and against the scikit-learn numbers the example logs beside them."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from frameworks import require_framework
from scripts import script_env

require_framework("sklearn", extra="dev")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_sklearn.py"
EPOCHS = 3
VALIDATION_DIGITS = 450  # a quarter of the 1,797 digits, stratified
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> tuple[Path, dict, dict]:
    """The run folder, the metrics by step, and the media records by (key, step)."""
    runs = tmp_path_factory.mktemp("runs")
    result = subprocess.run([sys.executable, str(EXAMPLE), "--runs", str(runs), "--epochs", str(EPOCHS)],
                            capture_output=True, text=True, env=script_env(), timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("val_acc 0.")
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    logged = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    metrics = {record["step"]: record["values"] for record in logged if record["type"] == "metrics"}
    media = defaultdict(list)
    for record in logged:
        if record["type"] == "media":
            media[(record["key"], record["step"])].append(record)
    return folder, metrics, media


def test_every_epoch_logs_the_four_media_keys(digits_run):
    _, metrics, media = digits_run
    assert sorted(metrics) == list(range(EPOCHS))
    kinds = {key: [record["kind"] for record in records] for key, records in media.items()}
    assert kinds == {(key, step): [kind] for step in range(EPOCHS) for key, kind in
                     [("val/worst", "table"), ("val/confusion", "confusion_matrix"),
                      ("val/roc", "roc_curve"), ("val/pr", "pr_curve")]}


def test_the_charts_numbers_equal_scikit_learns(digits_run):
    folder, metrics, media = digits_run
    for step in range(EPOCHS):
        (matrix,) = media[("val/confusion", step)]
        cells = json.loads((folder / matrix["file"]).read_text())
        assert cells["labels"] == list(range(10)) and matrix["samples"] == VALIDATION_DIGITS
        trace = sum(cells["matrix"][i][i] for i in range(10))
        assert trace / VALIDATION_DIGITS == pytest.approx(metrics[step]["val/acc"], abs=1e-12)
        (roc,) = media[("val/roc", step)]
        (pr,) = media[("val/pr", step)]
        assert roc["classes"] == pr["classes"] == 10
        assert roc["auc"] == pytest.approx(metrics[step]["val/auc"], abs=1e-9)  # sklearn's roc_auc_score, ovr
        assert pr["average_precision"] == pytest.approx(metrics[step]["val/ap"], abs=1e-9)


def test_the_worst_predictions_are_a_table_of_digit_images(digits_run):
    folder, _, media = digits_run
    (table,) = media[("val/worst", EPOCHS - 1)]
    document = json.loads((folder / table["file"]).read_text())
    assert document["columns"] == ["digit", "true", "predicted", "p(true)", "p(predicted)"]
    assert document["column_types"][0] == "image" and len(document["rows"]) == 12
    probabilities = [row[3] for row in document["rows"]]
    assert probabilities == sorted(probabilities)  # the most wrong first
    for image, true, predicted, *_ in document["rows"]:
        assert (image["width"], image["height"]) == (32, 32) and image["caption"] == f"{true} → {predicted}"
        assert image["image"] in table["attachments"]
        assert (folder / image["image"]).read_bytes().startswith(PNG_SIGNATURE)
