"""The XGBoost callback on real (tiny) trainings, the runs read back with load_run: one step per
iteration for every eval set and metric, the booster's parameters, early stopping's best iteration,
the scikit-learn wrapper, xgb.cv, and the tracker failing inside the callback while training goes on."""
from __future__ import annotations

import pathlib
import warnings

import pytest
from sklearn.datasets import make_regression

from tests.frameworks import require_framework

xgb = require_framework("xgboost", extra="xgboost")

import tracker  # noqa: E402
from tracker.integrations.xgboost import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

X, Y = make_regression(n_samples=300, n_features=5, noise=10.0, random_state=0)
TRAIN, VALID = xgb.DMatrix(X[:200], Y[:200]), xgb.DMatrix(X[200:], Y[200:])
PARAMS = {"max_depth": 3, "eta": 0.3, "eval_metric": ["rmse", "mae"], "nthread": 1}


def runs_in(folder) -> list:
    return [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir()) if path.is_dir()]


def counts(run) -> dict:
    return {name: series.count for name, series in run.histories.items()}


def test_every_eval_set_and_metric_at_each_iteration_and_the_params(tmp_path):
    booster = xgb.train(PARAMS, TRAIN, 12, evals=[(TRAIN, "train"), (VALID, "valid")], verbose_eval=False,
                        callbacks=[TrackerCallback(dir=tmp_path, project="boost", capture=False)])
    [run] = runs_in(tmp_path)
    assert (run.project, run.status, run.tags) == ("boost", "finished", ["xgboost"])
    assert counts(run) == {"train/rmse": 12, "train/mae": 12, "valid/rmse": 12, "valid/mae": 12}
    assert run.history("valid/rmse").steps == list(range(12))
    final = booster.eval(VALID, "valid")  # "[0]\tvalid-rmse:...\tvalid-mae:..."
    assert run.summary["valid/rmse"] == pytest.approx(float(final.split("valid-rmse:")[1].split()[0]))
    assert {key: run.config[key] for key in ("eta", "max_depth", "objective", "eval_metric")} == {
        "eta": 0.3, "max_depth": 3, "objective": "reg:squarederror", "eval_metric": ["rmse", "mae"]}
    assert run.summary["iterations"] == 12 and "best_iteration" not in run.summary


def test_early_stopping_puts_the_boosters_best_iteration_and_score_in_the_summary(tmp_path):
    booster = xgb.train({**PARAMS, "eta": 0.5}, TRAIN, 500, evals=[(TRAIN, "train"), (VALID, "valid")],
                        early_stopping_rounds=3, verbose_eval=False,
                        callbacks=[TrackerCallback(dir=tmp_path, capture=False)])
    [run] = runs_in(tmp_path)
    iterations = booster.num_boosted_rounds()
    assert iterations < 500  # it did stop early
    assert set(counts(run).values()) == {iterations} and run.summary["iterations"] == iterations
    assert run.summary["best_iteration"] == booster.best_iteration
    assert run.summary["best_score"] == booster.best_score
    # best_score is the last metric of the last eval set (what early stopping watched) at that step
    history = run.history("valid/mae")
    assert history.values[history.steps.index(booster.best_iteration)] == pytest.approx(booster.best_score)


def test_the_scikit_learn_wrapper_and_its_copies(tmp_path):
    model = xgb.XGBRegressor(n_estimators=8, max_depth=2, n_jobs=1,
                             callbacks=[TrackerCallback(dir=tmp_path, capture=False)])
    model.fit(X, Y, eval_set=[(X[:200], Y[:200]), (X[200:], Y[200:])], verbose=False)
    [run] = runs_in(tmp_path)
    assert counts(run) == {"validation_0/rmse": 8, "validation_1/rmse": 8}
    assert run.config["max_depth"] == 2 and run.status == "finished"


def test_cv_records_mean_and_std_per_metric(tmp_path):
    results = xgb.cv(PARAMS, TRAIN, 6, nfold=3, callbacks=[TrackerCallback(dir=tmp_path, capture=False)])
    [run] = runs_in(tmp_path)
    assert counts(run) == {f"{data}/{metric}-{stat}": 6 for data in ("train", "test")
                           for metric in ("rmse", "mae") for stat in ("mean", "std")}
    assert run.history("test/rmse-mean").values == pytest.approx(list(results["test-rmse-mean"]))


def test_inside_the_scripts_run_the_run_is_used_and_left_open(tmp_path):
    run = tracker.init(dir=tmp_path, name="mine", capture=False)
    xgb.train(PARAMS, TRAIN, 5, evals=[(VALID, "valid")], verbose_eval=False, callbacks=[TrackerCallback()])
    assert active_run() is run
    run.log({"after": 1.0})
    run.finish()
    [read] = runs_in(tmp_path)
    assert read.name == "mine" and read.history("valid/rmse").count == 5 and read.config["max_depth"] == 3


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_training_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    with pytest.warns(RuntimeWarning, match=r"tracker.integrations.xgboost: starting the run failed "
                                            r"\(RunDirError: .*\); training goes on") as caught:
        booster = xgb.train(PARAMS, TRAIN, 10, evals=[(VALID, "valid")], verbose_eval=False,
                            callbacks=[TrackerCallback(dir=blocker / "runs", capture=False)])
    assert len([w for w in caught if "tracker" in str(w.message)]) == 1
    plain = xgb.train(PARAMS, TRAIN, 10)
    assert booster.num_boosted_rounds() == 10
    assert (booster.predict(VALID) == plain.predict(VALID)).all()


class FinishesTheRun(xgb.callback.TrainingCallback):
    """The script's own callback finishing its run mid-training: every later log of ours fails for real."""

    def __init__(self, run, at: int):
        super().__init__()
        self.run, self.at = run, at

    def after_iteration(self, model, epoch, evals_log):
        if epoch == self.at:
            self.run.finish()
        return False


def test_a_run_finished_mid_training_is_one_warning_and_every_iteration_still_runs(tmp_path):
    run = tracker.init(dir=tmp_path, capture=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        booster = xgb.train(PARAMS, TRAIN, 10, evals=[(VALID, "valid")], verbose_eval=False,
                            callbacks=[FinishesTheRun(run, at=3), TrackerCallback()])
    ours = [str(w.message) for w in caught if "tracker.integrations" in str(w.message)]
    assert len(ours) == 1, ours  # for the 6 iterations after the finish
    assert ours[0].startswith("tracker.integrations.xgboost: logging metrics failed (RunFinishedError")
    assert booster.num_boosted_rounds() == 10
    [read] = runs_in(tmp_path)
    assert read.history("valid/rmse").count == 3 and read.status == "finished"


class Raises(xgb.callback.TrainingCallback):
    def after_iteration(self, model, epoch, evals_log):
        if epoch == 2:
            raise KeyError("a bug in the script's own callback")
        return False


def test_a_training_that_raises_is_failed_when_the_callback_trains_again(tmp_path):
    callback = TrackerCallback(dir=tmp_path, capture=False)
    with pytest.raises(KeyError, match="a bug in the script's own callback"):
        xgb.train(PARAMS, TRAIN, 10, evals=[(VALID, "valid")], verbose_eval=False, callbacks=[callback, Raises()])
    xgb.train(PARAMS, TRAIN, 4, evals=[(VALID, "valid")], verbose_eval=False, callbacks=[callback])
    first, second = sorted(runs_in(tmp_path), key=lambda run: run.created)
    assert (first.status, first.history("valid/rmse").count) == ("failed", 3)
    assert first.error == "XGBoost training stopped before its end"
    assert (second.status, second.history("valid/rmse").count) == ("finished", 4)
