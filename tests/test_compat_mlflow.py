"""MLflow scripts through ``import tracker.compat.mlflow as mlflow``, each run as a real script and
its runs read back with tracker.reader.load_run: the five-step workflow of MLflow's docs, nested
runs, tags, dict and text artifacts, media, statuses, and what does not map."""
from __future__ import annotations

import json
import os
import pathlib

from tests.scripts import run_script
from tracker.reader import load_run


def runs_in(folder) -> dict:
    """Every run under ``folder``, by name."""
    runs = [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir())
            if path.is_dir() and not path.name.startswith(".")]
    return {run.name: run for run in runs}


def media_records(run) -> list[dict]:
    lines = pathlib.Path(run.path, "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["type"] == "media"]


def test_the_five_step_workflow_of_mlflows_docs_works_unchanged(tmp_path):
    done = run_script(tmp_path, """
        import pickle
        import tracker.compat.mlflow as mlflow

        with open("model.pkl", "wb") as handle:
            pickle.dump({"weights": [1, 2, 3]}, handle)
        mlflow.set_tracking_uri("file:./mlruns-here")
        mlflow.set_experiment("churn")
        mlflow.start_run()
        mlflow.log_param("lr", 0.001)
        for epoch in range(3):
            mlflow.log_metric("val_accuracy", 0.90 + epoch / 100, step=epoch)
        mlflow.log_artifact("model.pkl")
        mlflow.end_run()
        print(mlflow.get_tracking_uri())
    """)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "mlruns-here"
    assert done.stdout.strip() == f"file://{folder}"
    [run] = runs_in(folder).values()
    assert (run.project, run.status, run.error) == ("churn", "finished", None)
    assert run.config == {"lr": 0.001}
    history = run.history("val_accuracy")
    assert history.steps == [0, 1, 2] and history.values == [0.90, 0.91, 0.92]
    assert [artifact["name"] for artifact in run.artifacts] == ["model.pkl"]
    assert pathlib.Path(run.path, "artifacts", "model.pkl").read_bytes() == (tmp_path / "model.pkl").read_bytes()


def test_a_run_that_raises_inside_start_run_is_failed_with_its_error(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.mlflow as mlflow

        mlflow.set_tracking_uri("runs")
        with mlflow.start_run(run_name="diverged"):
            mlflow.log_metric("loss", 1.0)
            raise FloatingPointError("loss is NaN at epoch 3")
    """)
    assert done.returncode == 1 and "FloatingPointError" in done.stderr
    run = runs_in(tmp_path / "runs")["diverged"]
    assert run.status == "failed"
    assert "FloatingPointError: loss is NaN at epoch 3" in run.error
    assert run.history("loss").steps == [0]


def test_a_script_that_raises_without_ending_its_run_is_failed(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.mlflow as mlflow

        mlflow.set_tracking_uri("runs")
        mlflow.start_run(run_name="crashes")
        mlflow.log_param("lr", 0.1)
        raise RuntimeError("out of memory")
    """)
    assert done.returncode == 1
    run = runs_in(tmp_path / "runs")["crashes"]
    assert run.status == "failed" and "RuntimeError: out of memory" in run.error


def test_nested_runs_are_children_in_the_parents_group_and_the_parent_is_active_again(tmp_path):
    done = run_script(tmp_path, """
        import tracker
        import tracker.compat.mlflow as mlflow

        mlflow.set_tracking_uri("runs")
        with mlflow.start_run(run_name="sweep") as parent:
            for lr in (0.1, 0.01):
                with mlflow.start_run(run_name=f"lr-{lr}", nested=True) as child:
                    mlflow.log_param("lr", lr)
                    mlflow.log_metric("loss", lr * 10, step=1)
                assert mlflow.active_run() is parent
            mlflow.log_metric("best_loss", 0.1)
            tracker.log({"from_tracker": 1.0})  # tracker's own calls act on the parent again too
        assert mlflow.active_run() is None
        print(parent.info.run_id)
    """)
    assert done.returncode == 0, done.stderr
    runs = runs_in(tmp_path / "runs")
    parent_id = done.stdout.strip()
    assert set(runs) == {"sweep", "lr-0.1", "lr-0.01"}
    for name, lr in (("lr-0.1", 0.1), ("lr-0.01", 0.01)):
        child = runs[name]
        assert (child.group, child.status, child.config) == ("sweep", "finished", {"lr": lr})
        assert child.tags == [f"mlflow.parentRunId={parent_id}"]
        assert child.history("loss").steps == [1]
    assert runs["sweep"].id == parent_id
    assert set(runs["sweep"].histories) == {"best_loss", "from_tracker"}


def test_tags_notes_params_dicts_text_and_images_land_where_a_reader_finds_them(tmp_path):
    done = run_script(tmp_path, """
        import numpy as np
        import tracker.compat.mlflow as mlflow

        mlflow.set_tracking_uri(str(__import__("pathlib").Path("runs").absolute()))
        mlflow.start_run(run_name="full", tags={"team": "vision"}, description="first **try**")
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
        mlflow.set_tags({"stage": "dev", "seed": 7})
        mlflow.log_metrics({"loss": 0.5, "acc": 0.8})            # no step: MLflow's step 0
        mlflow.log_metrics({"loss": 0.25, "acc": 0.9}, step=1)
        mlflow.log_dict({"classes": ["cat", "dog"]}, "meta/labels.json")
        mlflow.log_text("all good", "report.txt")
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), key="sample", step=1)
        mlflow.log_image(np.ones((4, 4), dtype=np.uint8) * 255, "white.png")
        mlflow.end_run(status="KILLED")
    """)
    assert done.returncode == 0, done.stderr
    run = runs_in(tmp_path / "runs")["full"]
    assert run.status == "interrupted"
    assert run.notes == "first **try**"
    assert run.tags == ["team=vision", "stage=dev", "seed=7"]
    assert run.config == {"layers": 3, "optimizer": "adam"}
    assert run.history("loss").steps == [0, 1] and run.history("acc").values == [0.8, 0.9]
    assert sorted(artifact["name"] for artifact in run.artifacts) == ["meta/labels.json", "report.txt"]
    assert json.loads(pathlib.Path(run.path, "artifacts", "meta", "labels.json").read_text()) == {
        "classes": ["cat", "dog"]}
    assert pathlib.Path(run.path, "artifacts", "report.txt").read_text() == "all good"
    media = media_records(run)
    assert [(record["key"], record["step"], record["kind"]) for record in media] == [
        ("sample", 1, "image"), ("white.png", 1, "image")]
    assert all(pathlib.Path(run.path, record["file"]).is_file() for record in media)


def test_what_does_not_map_is_an_error_or_one_warning_naming_the_call(tmp_path):
    done = run_script(tmp_path, """
        import warnings
        import tracker.compat.mlflow as mlflow
        from tracker.compat.unmapped import NotMappedError

        warnings.simplefilter("always")
        try:
            mlflow.set_tracking_uri("http://mlflow.internal:5000")
        except Exception as exc:
            print("uri:", exc)
        mlflow.set_tracking_uri("runs")
        try:
            mlflow.sklearn
        except NotMappedError as exc:
            print("name:", exc)
        print("hasattr:", hasattr(mlflow, "log_model"))
        with warnings.catch_warnings(record=True) as caught:
            with mlflow.start_run(run_name="stamped"):
                for step in range(3):
                    mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
                try:
                    mlflow.start_run()
                except Exception as exc:
                    print("second:", exc)
        print("warnings:", [str(w.message) for w in caught if "tracker.compat" in str(w.message)])
    """)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["uri"] == ("set_tracking_uri('http://mlflow.internal:5000'): tracker writes runs to a folder and "
                            "has no tracking server or database; pass a folder path (e.g. 'tracker-runs') or a "
                            "file: URI")
    assert lines["name"].startswith("mlflow.sklearn is not provided by tracker's drop-in API")
    assert lines["hasattr"] == "False"
    assert "is already active" in lines["second"] and "nested=True" in lines["second"]
    assert lines["warnings"] == repr(["tracker.compat: log_metric(timestamp=...): each point is stamped with the "
                                      "time of the call; the given timestamp is not kept"])
    run = runs_in(tmp_path / "runs")["stamped"]
    assert run.history("loss").steps == [0, 1, 2] and run.status == "finished"


def test_start_run_with_a_run_id_resumes_that_run(tmp_path):
    code = """
        import sys
        import tracker.compat.mlflow as mlflow

        mlflow.set_tracking_uri("runs")
        given = sys.argv[1] if len(sys.argv) > 1 else None
        with mlflow.start_run(run_id=given, run_name="long") as run:
            mlflow.log_metric("loss", 1.0 if given is None else 0.5, step=0 if given is None else 1)
        print(run.info.run_id)
    """
    first = run_script(tmp_path, code)
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.strip()
    second = run_script(tmp_path, code, run_id)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == run_id
    assert [name for name in os.listdir(tmp_path / "runs") if not name.startswith(".")] == [run_id]
    run = load_run(str(tmp_path / "runs" / run_id))
    assert run.history("loss").steps == [0, 1] and run.status == "finished"
