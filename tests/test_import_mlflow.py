"""tracker import mlflow: runs written by the real mlflow library (a file store and a SQLite
database), imported, then compared field by field with what MlflowClient reads back itself."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.frameworks import require_framework

mlflow = require_framework("mlflow", extra="mlflow")

from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from tracker.importers import NotASourceError  # noqa: E402
from tracker.importers.mlflow import import_runs, param_value, user_tags  # noqa: E402
from tracker.reader import load_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIG_ARTIFACT = b"checkpoint" * 1000


def write_mlflow_runs(folder: Path, tracking_uri: str) -> None:
    """A sweep (a parent and a nested child), a failed run, a killed run and a deleted run, logged
    with MLflow's fluent API as a training script logs them."""
    (folder / "notes.txt").write_text("lr schedule: cosine\n")
    (folder / "model.ckpt").write_bytes(BIG_ARTIFACT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        patch.chdir(folder)  # the SQLite store's artifacts go to ./mlruns
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_experiment("vision")
        with mlflow.start_run(run_name="sweep") as parent:
            mlflow.log_params({"lr": 0.01, "optimizer": "adam"})
            mlflow.set_tags({"team": "vision", "baseline": "", "mlflow.note.content": "Sweep over **lr**."})
            for step, loss in enumerate([2.5, 1.25, float("nan"), 0.5]):
                mlflow.log_metric("train/loss", loss, step=step)
            mlflow.log_metric("val_acc", 0.75, step=10)
            mlflow.log_artifact(str(folder / "notes.txt"), artifact_path="docs")
            mlflow.log_artifact(str(folder / "model.ckpt"))
            with mlflow.start_run(run_name="trial-1", nested=True):
                mlflow.log_param("lr", 0.1)
                mlflow.log_metric("val_acc", 0.5, step=1)
        with pytest.raises(ZeroDivisionError), mlflow.start_run(run_name="diverged"):
            mlflow.log_metric("train/loss", 3.0, step=0)
            1 / 0
        mlflow.start_run(run_name="stopped")
        mlflow.end_run(status="KILLED")
        with mlflow.start_run(run_name="thrown-away") as deleted:
            mlflow.log_metric("train/loss", 9.0)
        MlflowClient(tracking_uri).delete_run(deleted.info.run_id)
    assert parent.info.run_id


BOTH_STORES = pytest.mark.parametrize("source", ["file", "sqlite"], indirect=True)
FILE_STORE = pytest.mark.parametrize("source", ["file"], indirect=True)  # where the store makes no difference


@pytest.fixture(scope="module")
def source(request, tmp_path_factory) -> tuple[str, str]:
    """(the path given to tracker import, MLflow's tracking URI) of a freshly written source."""
    folder = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    if request.param == "file":
        path = str(folder / "mlruns")
        uri = Path(path).as_uri()
    else:
        path = str(folder / "mlflow.db")
        uri = f"sqlite:///{path}"
    write_mlflow_runs(folder, uri)
    return path, uri


def imported_runs(runs_dir: Path) -> dict:
    """source run id -> RunRecord, for every run folder under ``runs_dir``."""
    found = {}
    for folder in runs_dir.iterdir():
        first = json.loads((folder / "events.jsonl").read_text().splitlines()[0])
        found[first["imported_from"]["id"]] = load_run(str(folder))
    return found


def artifact_files(client, run_id: str, folder: str | None = None) -> list[str]:
    found = []
    for entry in client.list_artifacts(run_id, folder):
        found.extend(artifact_files(client, run_id, entry.path) if entry.is_dir else [entry.path])
    return found


def same_number(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@BOTH_STORES
def test_every_field_as_mlflow_reads_it_back(source, tmp_path, monkeypatch):
    path, uri = source
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    [experiment] = [one for one in client.search_experiments() if one.name == "vision"]
    mlflow_runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ACTIVE_ONLY)

    report = import_runs(path, tmp_path / "runs")

    assert len(mlflow_runs) == 4 and len(report.created) == 4
    assert report.skipped == ["experiment 'vision': 1 deleted run not imported"]
    runs = imported_runs(tmp_path / "runs")
    assert set(runs) == {run.info.run_id for run in mlflow_runs}
    for mlflow_run in mlflow_runs:
        info, data, run = mlflow_run.info, mlflow_run.data, runs[mlflow_run.info.run_id]
        assert (run.project, run.name, run.user) == ("vision", info.run_name, info.user_id)
        assert run.config == {key: param_value(text) for key, text in data.params.items()}
        assert run.tags == user_tags(data.tags) and run.notes == data.tags.get("mlflow.note.content", "")
        assert run.created == info.start_time / 1000 and run.ended == info.end_time / 1000
        assert run.status == {"FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted"}[info.status]
        assert sorted(run.histories) == sorted(data.metrics)
        for key in data.metrics:
            expected = sorted((point.step, point.timestamp / 1000, point.value)
                              for point in client.get_metric_history(info.run_id, key))
            series = run.histories[key]
            got = sorted(zip(series.steps, series.times, series.values))
            assert [point[:2] for point in got] == [point[:2] for point in expected]
            assert all(same_number(a[2], b[2]) for a, b in zip(got, expected))
        names = artifact_files(client, info.run_id)
        assert sorted(artifact["name"] for artifact in run.artifacts) == sorted(names)
        for name in names:
            local = mlflow.artifacts.download_artifacts(run_id=info.run_id, artifact_path=name,
                                                        dst_path=str(tmp_path / "check"), tracking_uri=uri)
            assert (Path(run.path) / "artifacts" / name).read_bytes() == Path(local).read_bytes()
    by_name = {run.name: run for run in runs.values()}
    assert by_name["sweep"].tags == ["baseline", "team=vision"]
    assert by_name["trial-1"].group == "sweep"  # a nested run: in its parent's group, named after it
    assert by_name["sweep"].group is None and by_name["diverged"].group is None
    assert math.isnan(by_name["sweep"].histories["train/loss"].values[2])


@BOTH_STORES
def test_importing_again_is_one_run_and_a_grown_source_run_replaces_it(source, tmp_path, monkeypatch):
    path, uri = source
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    copy = tmp_path / "source"
    original = Path(path).parent
    shutil.copytree(original, copy)  # artifact locations still name the original: only metrics grow here
    path = str(copy / Path(path).name)
    uri = Path(path).as_uri() if uri.startswith("file:") else f"sqlite:///{path}"

    first = import_runs(path, tmp_path / "runs")
    again = import_runs(path, tmp_path / "runs")
    client = MlflowClient(tracking_uri=uri)
    [experiment] = [one for one in client.search_experiments() if one.name == "vision"]
    [stopped] = client.search_runs([experiment.experiment_id], filter_string="attributes.run_name = 'stopped'")
    client.log_metric(stopped.info.run_id, "epochs", 3.0, step=3)
    grown = import_runs(path, tmp_path / "runs")

    assert (len(first.created), len(again.unchanged), len(again.created), len(again.replaced)) == (4, 4, 0, 0)
    assert len(list((tmp_path / "runs").iterdir())) == 4
    assert (len(grown.replaced), len(grown.unchanged)) == (1, 3)
    assert load_run(str(grown.replaced[0])).histories["epochs"].steps == [3]


@FILE_STORE
def test_artifacts_past_the_cap_are_named_in_the_report_not_copied(source, tmp_path):
    path, _ = source
    report = import_runs(path, tmp_path / "runs", artifact_cap_bytes=1000)
    [sweep] = [run for run in imported_runs(tmp_path / "runs").values() if run.name == "sweep"]
    assert [artifact["name"] for artifact in sweep.artifacts] == ["docs/notes.txt"]
    [message] = [message for message in report.skipped if "model.ckpt" in message]
    assert message.endswith(f"artifact 'model.ckpt' ({len(BIG_ARTIFACT):,} bytes) not copied: the run's "
                            "artifacts would pass the cap of 1,000 bytes")


def tracker_command(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "tracker.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@FILE_STORE
def test_tracker_import_mlflow_prints_its_report(source, tmp_path):
    path, _ = source
    runs_dir = tmp_path / "runs"
    done = tracker_command("import", "mlflow", path, "--runs", str(runs_dir), "--project", "legacy")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"imported 4 mlflow runs from {path} into {runs_dir}: 4 created, 0 replaced, 0 unchanged",
        "skipped (1):", "  experiment 'vision': 1 deleted run not imported"]
    assert {run.project for run in imported_runs(runs_dir).values()} == {"legacy"}


def test_a_path_that_is_no_mlflow_source_exits_2_naming_it(tmp_path):
    (tmp_path / "empty.db").write_bytes(b"")
    for path in (str(tmp_path / "nothing-here"), str(tmp_path / "empty.db"), str(tmp_path)):
        done = tracker_command("import", "mlflow", path, "--runs", str(tmp_path / "runs"))
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"tracker: error: {NotASourceError('mlflow', path, '').path} is not a mlflow source: " \
            "expected an mlruns folder (experiment folders with meta.yaml), a SQLite tracking database " \
            "(sqlite:///PATH or a .db file)\n"
    assert sorted(os.listdir(tmp_path)) == ["empty.db"]  # nothing created where there was no source


def test_without_mlflow_installed_the_command_exits_2_naming_the_extra(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "meta.yaml").write_text("name: Default\n")  # an mlruns folder, as far as a glance tells
    blocked = "import sys; sys.modules['mlflow'] = None; from tracker.cli import main; sys.exit(main(sys.argv[1:]))"
    done = tracker_command("import", "mlflow", str(tmp_path), code=blocked)
    assert done.returncode == 2
    assert done.stderr.startswith("tracker: error: importing from mlflow needs the mlflow package, not installed")
    assert done.stderr.endswith("pip install 'serverless-ml-tracker[mlflow]'\n")


@FILE_STORE
def test_params_read_back_as_the_values_mlflow_printed_so_filters_work(source, tmp_path):
    path, _uri = source
    import_runs(path, tmp_path / "runs")
    import tracker
    lr_runs = tracker.runs(tmp_path / "runs", filter="lr>=0.01")
    assert lr_runs and all(isinstance(run.config["lr"], float) for run in lr_runs)
    assert {run.config["optimizer"] for run in lr_runs if "optimizer" in run.config} <= {"adam"}


@pytest.mark.parametrize("text, value", [
    ("0.01", 0.01), ("1e-05", 1e-05), ("32", 32), ("-3", -3), ("True", True), ("False", False), ("None", None),
    ("007", "007"), ("1.50", "1.50"), ("nan", "nan"), ("inf", "inf"), ("[1, 2]", "[1, 2]"), ("adam", "adam"),
    ("", ""), (" 1", " 1"), ("1_000", "1_000"),
])
def test_param_value_reads_only_what_str_of_a_value_prints(text, value):
    assert param_value(text) == value and type(param_value(text)) is type(value)
