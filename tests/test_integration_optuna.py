"""The Optuna callback on real studies, the runs read back with load_run: one run per trial in the
study's group with its parameters, value and intermediate values; pruned and failed trials with
their state and status; trials in threads; the script's run as the study's parent; and the tracker
failing inside the callback while the study goes on."""
from __future__ import annotations

import math
import pathlib

import pytest

from tests.frameworks import require_framework

optuna = require_framework("optuna", extra="optuna")

import tracker  # noqa: E402
from tracker.integrations.optuna import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
STEPS = 4


def runs_in(folder) -> list:
    return [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir()) if path.is_dir()]


def objective(trial):
    x = trial.suggest_float("x", -4.0, 4.0)
    depth = trial.suggest_int("depth", 1, 5)
    for step in range(STEPS):
        trial.report(x * x + depth / (step + 1), step)
    if trial.number == 1:
        raise optuna.TrialPruned()
    if trial.number == 2:
        raise ValueError("diverged")
    if trial.number == 3:
        return math.nan  # Optuna fails a trial that returns no valid number
    return x * x + depth


def sampler():
    return optuna.samplers.RandomSampler(seed=0)


def test_each_trial_is_a_run_in_the_studys_group_with_its_state(tmp_path):
    study = optuna.create_study(study_name="tune", sampler=sampler())
    study.optimize(objective, n_trials=7, catch=(ValueError,), callbacks=[TrackerCallback(dir=tmp_path, project="p")])
    runs = {run.config["trial"]: run for run in runs_in(tmp_path)}
    assert sorted(runs) == [trial.number for trial in study.trials] == list(range(7))
    for trial in study.trials:
        run = runs[trial.number]
        assert (run.project, run.group, run.name) == ("p", "tune", f"tune-trial-{trial.number}")
        assert {key: run.config[key] for key in trial.params} == trial.params
        history = run.history("intermediate_value")
        assert history.steps == list(range(STEPS))
        assert history.values == [trial.intermediate_values[step] for step in range(STEPS)]
    pruned, raised, nan = runs[1], runs[2], runs[3]
    assert (pruned.status, pruned.summary["state"], pruned.tags) == ("finished", "pruned", ["optuna", "pruned"])
    for failed in (raised, nan):
        assert (failed.status, failed.summary["state"]) == ("failed", "fail")
        assert "Optuna trial" in failed.error and "value" not in failed.explicit_summary
    complete = [runs[number] for number in (0, 4, 5, 6)]
    assert all(run.status == "finished" and run.summary["state"] == "complete" for run in complete)
    assert {run.config["trial"]: run.summary["value"] for run in complete} == {
        trial.number: trial.value for trial in study.trials if trial.state.name == "COMPLETE"}


def test_trials_in_threads_are_each_one_run(tmp_path):
    study = optuna.create_study(study_name="threads", sampler=sampler())
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1) ** 2, n_trials=12, n_jobs=3,
                   callbacks=[TrackerCallback(dir=tmp_path)])
    runs = runs_in(tmp_path)
    assert sorted(run.config["trial"] for run in runs) == list(range(12))
    assert {run.config["trial"]: run.summary["value"] for run in runs} == {t.number: t.value for t in study.trials}
    assert active_run() is None


def test_a_multi_objective_study_records_each_value(tmp_path):
    study = optuna.create_study(study_name="pareto", directions=["minimize", "maximize"], sampler=sampler())
    study.set_metric_names(["loss", "accuracy"])
    study.optimize(lambda trial: (trial.suggest_float("x", 0, 1), 1 - trial.suggest_float("y", 0, 1)),
                   n_trials=3, callbacks=[TrackerCallback(dir=tmp_path)])
    for run in runs_in(tmp_path):
        trial = study.trials[run.config["trial"]]
        assert run.summary["values"] == trial.values
        assert (run.summary["loss"], run.summary["accuracy"]) == tuple(trial.values)


def test_the_scripts_run_is_the_studys_parent_and_keeps_the_best(tmp_path):
    parent = tracker.init(dir=tmp_path, name="study", capture=False)
    study = optuna.create_study(study_name="nested", sampler=sampler())
    study.optimize(objective, n_trials=6, catch=(ValueError,), callbacks=[TrackerCallback()])
    assert active_run() is parent
    parent.finish()
    runs = runs_in(tmp_path)
    [read_parent] = [run for run in runs if run.id == parent.id]
    trials = {run.config["trial"]: run for run in runs if run.id != parent.id}
    assert len(trials) == 6 and {run.config["parent_run"] for run in trials.values()} == {parent.id}
    summary = read_parent.summary
    assert (summary["best_value"], summary["best_params"], summary["best_trial"]) == (
        study.best_value, study.best_params, study.best_trial.number)
    assert summary["best_run"] == trials[study.best_trial.number].id and summary["trials"] == 6


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_the_study_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    study = optuna.create_study(sampler=sampler())
    with pytest.warns(RuntimeWarning, match=r"tracker.integrations.optuna: recording a trial failed "
                                            r"\(RunDirError: .*\); training goes on") as caught:
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=5,
                       callbacks=[TrackerCallback(dir=blocker / "runs")])
    assert len([w for w in caught if "tracker" in str(w.message)]) == 1
    assert len(study.trials) == 5 and all(trial.state.name == "COMPLETE" for trial in study.trials)
