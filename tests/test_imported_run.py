"""write_imported_run: an ImportedRun written as a run folder, read back by the reader and the
listing as any run; written again, the same folder (unchanged, or replaced when the source grew)."""
from __future__ import annotations

import json
import math
import os
import re

import numpy as np

import tracker
from tracker.ids import RANDOM_CHARS
from tracker.importers.imported_run import ImportedRun, ImportReport, imported_run_id, write_imported_run
from tracker.reader import load_run
from tracker.tail_reading import load_from_ends

START = 1_764_000_000.25  # 2025-11-24 16:00:00.25 UTC


def sample_run(tmp_path, **changes) -> ImportedRun:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"\x00weights\xff" * 100)
    fields = dict(
        source="mlflow", source_id="9f8e7d6c5b4a", source_path=str(tmp_path / "mlruns"), start_time=START,
        name="baseline", project="mnist", group="sweep-1", end_time=START + 60.0, status="failed",
        error="RuntimeError: loss diverged",
        config={"lr": "0.01", "optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "api_token": "hunter2"},
        summary={"best_acc": 0.91},
        tags=["baseline", "team:vision", "baseline"], notes="First **try**.",
        metrics={"loss": [(0, START + 1, 2.5), (1, START + 2, 1.5), (2, START + 3, math.nan)],
                 "acc": [(np.int64(0), START + 1, np.float32(0.5)), (2, START + 3.5, 0.9), (3, START + 4, "n/a")]},
        media=[("samples", 1, START + 2, tracker.Image(np.zeros((4, 5, 3), dtype=np.uint8))),
               ("samples", 1, START + 2, tracker.Image(np.full((4, 5, 3), 255, dtype=np.uint8)))],
        artifacts=[("model/model.bin", weights)],
        skipped=["2 audio records: no reader"], user="ada", host="gpu-7")
    fields.update(changes)
    return ImportedRun(**fields)


def events(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def test_an_imported_run_reads_back_as_the_source_said(tmp_path):
    runs_dir = tmp_path / "runs"
    folder, created = write_imported_run(sample_run(tmp_path), runs_dir)

    assert created and folder.parent == runs_dir
    assert re.fullmatch(rf"20251124-160000-[0-9a-z]{{{RANDOM_CHARS}}}", folder.name)
    run = load_run(str(folder))
    assert (run.id, run.name, run.project, run.group) == (folder.name, "baseline", "mnist", "sweep-1")
    assert (run.created, run.ended, run.status) == (START, START + 60.0, "failed")
    assert run.error == "RuntimeError: loss diverged"
    assert (run.user, run.host) == ("ada", "gpu-7")
    assert run.config == {"lr": "0.01", "optimizer": {"name": "adam", "betas": [0.9, 0.999]},
                          "api_token": "[REDACTED]"}
    assert run.summary["best_acc"] == 0.91 and run.tags == ["baseline", "team:vision"]
    assert run.notes == "First **try**."
    loss, acc = run.histories["loss"], run.histories["acc"]
    assert (loss.steps, loss.times, loss.values[:2]) == ([0, 1, 2], [START + 1, START + 2, START + 3], [2.5, 1.5])
    assert math.isnan(loss.values[2])
    assert (acc.steps, acc.times, acc.values) == ([0, 2], [START + 1, START + 3.5], [0.5, 0.9])
    items = run.media["samples"].items[1]
    assert [(item.step, item.index, item.time) for item in items] == [(1, 0, START + 2), (1, 1, START + 2)]
    assert all((folder / item.file).is_file() for item in items) and items[0].file != items[1].file
    [artifact] = run.artifacts
    assert artifact["path"] == "artifacts/model/model.bin"
    assert (folder / "artifacts/model/model.bin").read_bytes() == b"\x00weights\xff" * 100
    assert run.warnings == []
    [record] = [record for record in events(folder) if record["type"] == "run"]
    assert record["imported_from"] == {"source": "mlflow", "id": "9f8e7d6c5b4a", "path": str(tmp_path / "mlruns")}


def test_a_listing_reads_an_imported_run_from_its_end_record_as_a_full_read_does(tmp_path):
    folder, _ = write_imported_run(sample_run(tmp_path, status="finished", error=None), tmp_path / "runs")

    from_ends, whole = load_from_ends(str(folder)), load_run(str(folder))
    assert from_ends is not None, "the end record's state should describe the file"
    assert (from_ends.status, from_ends.config, from_ends.tags, from_ends.notes) == \
        (whole.status, whole.config, whole.tags, whole.notes)
    assert from_ends.summary["acc"] == whole.summary["acc"] == 0.9
    [listed] = tracker.runs(tmp_path / "runs", filter="status:finished acc>0.8")
    assert listed.id == folder.name


def test_importing_again_is_the_same_run_unchanged_or_replaced_when_the_source_grew(tmp_path):
    runs_dir = tmp_path / "runs"
    report = ImportReport("mlflow", "mlruns", runs_dir)
    first = report.write(sample_run(tmp_path))
    # a resume of the imported run, by a script: its files must survive a re-import
    (first / "events-abc12345.jsonl").write_text('{"type":"start","writer":"abc12345","time":1764000100}\n')
    again = report.write(sample_run(tmp_path))
    grown = sample_run(tmp_path)
    grown.metrics["loss"].append((3, START + 4, 0.5))
    replaced = report.write(grown)

    assert first == again == replaced and os.listdir(runs_dir) == [first.name]
    assert (report.created, report.unchanged, report.replaced) == ([first], [first], [first])
    assert load_run(str(first)).histories["loss"].steps == [0, 1, 2, 3]
    assert (first / "events-abc12345.jsonl").is_file()
    skipped = ["  mlflow run 9f8e7d6c5b4a: 2 audio records: no reader",
               "  mlflow run 9f8e7d6c5b4a: metric 'acc': 1 point with a step or value that is not a number"]
    assert report.lines() == [
        f"imported 3 mlflow runs from mlruns into {runs_dir}: 1 created, 1 replaced, 1 unchanged",
        "skipped (6):", *skipped * 3]


def test_a_project_given_to_the_report_overrides_the_sources(tmp_path):
    report = ImportReport("mlflow", "mlruns", tmp_path / "runs", project="legacy")
    folder = report.write(sample_run(tmp_path))
    assert load_run(str(folder)).project == "legacy"


def test_a_running_source_run_has_no_end_record_and_its_id_is_the_sources(tmp_path):
    folder, _ = write_imported_run(sample_run(tmp_path, status="running", end_time=None, media=[], artifacts=[]),
                                   tmp_path / "runs")
    assert "end" not in [record["type"] for record in events(folder)]
    assert load_run(str(folder), now=START + 3.5).status == "running"
    assert load_run(str(folder)).status == "crashed"  # long after its last record: it stopped
    assert folder.name == imported_run_id("mlflow", "9f8e7d6c5b4a", START)
    assert imported_run_id("mlflow", "other", START) != folder.name


def test_the_source_and_its_run_id_are_shown_by_tracker_show_and_on_the_page_but_not_the_path(tmp_path):
    from test_site_support import run_cli

    runs_dir = tmp_path / "runs"
    source_path = str(tmp_path / "mlruns")
    folder, _ = write_imported_run(sample_run(tmp_path, status="finished", error=None), runs_dir)
    expected = {"source": "mlflow", "id": "9f8e7d6c5b4a", "path": source_path}
    assert load_run(str(folder)).imported_from == expected
    assert load_from_ends(str(folder)).imported_from == expected

    code, out, _ = run_cli("show", "baseline", "--runs", str(runs_dir))
    assert code == 0 and f"  imported  from mlflow run 9f8e7d6c5b4a ({source_path})" in out.splitlines()

    assert run_cli("build", "--runs", str(runs_dir), "--out", str(tmp_path / "site"))[0] == 0
    page = (tmp_path / "site" / "runs" / os.path.basename(folder) / "index.html").read_text(encoding="utf-8")
    assert "<dt>Imported from</dt><dd>mlflow run <code>9f8e7d6c5b4a</code></dd>" in page
    assert source_path not in page  # a path of the machine that imported it
