"""The framework examples in examples/ run as a user runs them and log the runs they say they log.

Each example is a subprocess on a fresh runs folder; the runs are read back with tracker.runs().
A missing framework skips on a developer's machine and fails under CI=true (tests/frameworks.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from frameworks import require_framework

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(script: str, runs: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    env.pop("TRACKER_DIR", None)
    done = subprocess.run([sys.executable, str(EXAMPLES / script), "--runs", str(runs), *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=runs.parent)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def finished_runs(runs: Path) -> dict[str, tracker.Run]:
    found = tracker.runs(runs)
    assert all(run.status == "finished" for run in found), [(run.name, run.status) for run in found]
    return {run.name: run for run in found}


def test_xgboost_example_logs_every_round_and_the_best_iteration(tmp_path):
    require_framework("xgboost", extra="xgboost")
    out = run_example("xgboost_example.py", tmp_path / "runs", "--rounds", "40")
    run = finished_runs(tmp_path / "runs")["xgboost-breast-cancer"]
    best = run.summary["best_iteration"]
    assert f"best iteration {best}," in out
    points = run.history("valid/auc").steps
    assert points == list(range(len(points))) and len(points) >= best + 1
    assert run.config["eta"] == pytest.approx(0.1)


def test_lightgbm_example_logs_the_training_and_the_cv_run(tmp_path):
    require_framework("lightgbm", extra="lightgbm")
    run_example("lightgbm_example.py", tmp_path / "runs", "--rounds", "30")
    runs = finished_runs(tmp_path / "runs")
    assert set(runs) == {"lightgbm-diabetes", "lightgbm-diabetes-cv"}
    assert len(runs["lightgbm-diabetes-cv"].history("valid/l2-mean").steps) == 30
    trained = runs["lightgbm-diabetes"]
    assert trained.history("valid/l1").steps[0] == 1  # LightGBM counts iterations from 1, as it prints them
    assert trained.summary["best_iteration"] in trained.history("valid/l1").steps


def test_optuna_example_makes_a_run_per_trial_in_the_study_group(tmp_path):
    require_framework("optuna", extra="optuna")
    run_example("optuna_example.py", tmp_path / "runs", "--trials", "4")
    runs = finished_runs(tmp_path / "runs")
    assert sorted(runs) == [f"wine-logreg-trial-{n}" for n in range(4)]
    assert {run.group for run in runs.values()} == {"wine-logreg"}
    assert all("C" in run.config for run in runs.values())


def test_sklearn_autolog_example_records_a_search_and_its_candidates(tmp_path):
    require_framework("sklearn", extra="dev")
    run_example("sklearn_autolog_example.py", tmp_path / "runs")
    runs = finished_runs(tmp_path / "runs")
    candidates = [name for name in runs if name.startswith("GridSearchCV-candidate-")]
    assert len(candidates) == 6 and "GridSearchCV" in runs
    assert runs["GridSearchCV"].summary["best_params"] == {"C": 1, "kernel": "linear"}


def test_mlflow_compat_example_runs_unchanged_but_for_its_import(tmp_path):
    run_example("mlflow_compat_example.py", tmp_path / "runs", "--epochs", "5")
    run = finished_runs(tmp_path / "runs")["mlflow-compat-sgd"]
    assert run.history("val_accuracy").steps == [0, 1, 2, 3, 4]
    assert run.config["epochs"] == 5 and run.project == "examples"
    assert (Path(run.path) / "artifacts" / "model.pkl").stat().st_size > 0


def test_wandb_compat_example_runs_unchanged_but_for_its_import(tmp_path):
    run_example("wandb_compat_example.py", tmp_path / "runs", "--steps", "20")
    run = finished_runs(tmp_path / "runs")["wandb-compat-regression"]
    assert len(run.history("loss").steps) == 20
    assert run.summary["final_loss"] < run.history("loss").values[0]
    assert run.tags == ["example"]


def test_ray_tune_example_makes_a_run_per_trial_with_its_config_and_iterations(tmp_path):
    require_framework("ray", extra="ray")
    out = run_example("ray_tune_sweep.py", tmp_path / "runs", "--quick")
    runs = tracker.runs(tmp_path / "runs")
    assert len(runs) == 3 and all(run.status == "finished" for run in runs), [(run.name, run.status) for run in runs]
    assert {run.project for run in runs} == {"ray-tune-example"}
    assert sorted(run.config["lr"] for run in runs) == [0.01, 0.3, 3.0]
    for run in runs:
        steps = run.history("val_loss").steps
        assert steps and steps == sorted(steps) and len(steps) <= 20  # ASHA may stop a trial early
        assert run.history("weights/norm").steps == steps
    best = max(runs, key=lambda run: run.summary["val_acc"])
    assert f"best lr {best.config['lr']}:" in out
