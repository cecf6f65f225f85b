"""The LightGBM callback on real (tiny) trainings, the runs read back with load_run: one step per
iteration for every data set and metric, the parameters, early stopping's best iteration and score
as the booster holds them, lgb.cv's mean and stdv, and the tracker failing inside the callback
while training goes on."""
from __future__ import annotations

import pathlib
import pickle
import warnings

import pytest
from sklearn.datasets import make_regression

from tests.frameworks import require_framework

lgb = require_framework("lightgbm", extra="lightgbm")

import tracker  # noqa: E402
from tracker.integrations.lightgbm import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

X, Y = make_regression(n_samples=300, n_features=5, noise=10.0, random_state=0)
PARAMS = {"metric": ["l2", "l1"], "learning_rate": 0.3, "num_leaves": 7, "verbose": -1, "num_threads": 1}


def datasets():
    train = lgb.Dataset(X[:200], Y[:200])
    return train, lgb.Dataset(X[200:], Y[200:], reference=train)


def runs_in(folder) -> list:
    return [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir()) if path.is_dir()]


def counts(run) -> dict:
    return {name: series.count for name, series in run.histories.items()}


def test_every_data_set_and_metric_at_each_iteration_and_the_params(tmp_path):
    train, valid = datasets()
    booster = lgb.train(PARAMS, train, 12, valid_sets=[train, valid], valid_names=["train", "valid"],
                        callbacks=[TrackerCallback(dir=tmp_path, project="boost", capture=False)])
    [run] = runs_in(tmp_path)
    assert (run.project, run.status, run.tags) == ("boost", "finished", ["lightgbm"])
    assert counts(run) == {"train/l2": 12, "train/l1": 12, "valid/l2": 12, "valid/l1": 12}
    assert run.history("valid/l2").steps == list(range(1, 13))  # LightGBM's own count: [1] ... [12]
    assert run.summary["valid/l2"] == booster.best_score["valid"]["l2"]  # without early stopping: the last
    assert {key: run.config[key] for key in ("learning_rate", "num_leaves", "metric")} == {
        "learning_rate": 0.3, "num_leaves": 7, "metric": ["l2", "l1"]}
    assert run.summary["iterations"] == 12 and "best_iteration" not in run.summary
    assert type(booster) is lgb.Booster and not hasattr(booster, "_tracker_callback")
    assert pickle.loads(pickle.dumps(booster)).num_trees() == 12


def test_early_stopping_puts_the_boosters_best_iteration_and_score_in_the_summary(tmp_path):
    train, valid = datasets()
    booster = lgb.train(PARAMS, train, 500, valid_sets=[valid], valid_names=["valid"],
                        callbacks=[TrackerCallback(dir=tmp_path, capture=False), lgb.early_stopping(3, verbose=False)])
    [run] = runs_in(tmp_path)
    iterations = booster.best_iteration + 3  # early stopping ran 3 past the best (the booster keeps the best)
    assert iterations < 500
    assert set(counts(run).values()) == {iterations} and run.summary["iterations"] == iterations
    assert run.summary["best_iteration"] == booster.best_iteration
    assert run.summary["best_score"] == {name: dict(scores) for name, scores in booster.best_score.items()}
    assert run.history("valid/l2").values[booster.best_iteration - 1] == booster.best_score["valid"]["l2"]


def test_cv_records_mean_and_stdv_per_metric_and_its_best_iteration(tmp_path):
    train, _ = datasets()
    results = lgb.cv(PARAMS, train, 500, nfold=3, stratified=False, return_cvbooster=True,
                     callbacks=[TrackerCallback(dir=tmp_path, capture=False), lgb.early_stopping(3, verbose=False)])
    [run] = runs_in(tmp_path)
    best = results["cvbooster"].best_iteration
    assert run.status == "finished" and run.summary["best_iteration"] == best
    iterations = run.summary["iterations"]
    assert iterations > best  # the iterations after the best ran too; lgb.cv keeps the first `best` only
    assert counts(run) == {f"valid/{metric}-{stat}": iterations for metric in ("l2", "l1") for stat in ("mean", "stdv")}
    assert run.history("valid/l2-mean").values[:best] == results["valid l2-mean"]
    assert run.history("valid/l1-stdv").values[:best] == results["valid l1-stdv"]
    assert run.summary["best_score"]["valid"]["l2-mean"] == results["valid l2-mean"][-1]


def test_cv_without_early_stopping_ends_at_its_last_iteration(tmp_path):
    train, _ = datasets()
    lgb.cv(PARAMS, train, 7, nfold=3, stratified=False, callbacks=[TrackerCallback(dir=tmp_path, capture=False)])
    [run] = runs_in(tmp_path)
    assert run.status == "finished" and set(counts(run).values()) == {7} and run.summary["iterations"] == 7


@pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated")  # eval_X is LightGBM 4.7's only
def test_the_scikit_learn_api_and_the_scripts_own_run(tmp_path):
    run = tracker.init(dir=tmp_path, name="mine", capture=False)
    model = lgb.LGBMRegressor(n_estimators=6, num_leaves=5, verbose=-1, n_jobs=1)
    model.fit(X, Y, eval_set=[(X[200:], Y[200:])], callbacks=[TrackerCallback()])
    assert active_run() is run
    run.finish()
    [read] = runs_in(tmp_path)
    assert read.name == "mine" and read.history("valid_0/l2").count == 6 and read.config["num_leaves"] == 5


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_training_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    train, valid = datasets()
    with pytest.warns(RuntimeWarning, match=r"tracker.integrations.lightgbm: starting the run failed "
                                            r"\(RunDirError: .*\); training goes on") as caught:
        booster = lgb.train(PARAMS, train, 10, valid_sets=[valid],
                            callbacks=[TrackerCallback(dir=blocker / "runs", capture=False)])
    assert len([w for w in caught if "tracker" in str(w.message)]) == 1
    plain = lgb.train(PARAMS, datasets()[0], 10)
    assert booster.current_iteration() == 10 and (booster.predict(X) == plain.predict(X)).all()


def test_a_run_finished_mid_training_is_one_warning_and_every_iteration_still_runs(tmp_path):
    run = tracker.init(dir=tmp_path, capture=False)

    def finish_at_third(env):  # the script's own callback finishing its run: every later log fails for real
        if env.iteration == 2:
            run.finish()

    finish_at_third.order = 1
    train, valid = datasets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        booster = lgb.train(PARAMS, train, 10, valid_sets=[valid], callbacks=[finish_at_third, TrackerCallback()])
    ours = [str(w.message) for w in caught if "tracker.integrations" in str(w.message)]
    assert len(ours) == 1 and "logging metrics failed (RunFinishedError" in ours[0], ours
    assert booster.current_iteration() == 10
    [read] = runs_in(tmp_path)
    assert read.history("valid_0/l2").count == 2 and read.status == "finished"


def test_a_training_that_raises_is_failed_when_the_callback_trains_again(tmp_path):
    def raises_at_third(env):
        if env.iteration == 2:
            raise KeyError("a bug in the script's own callback")

    raises_at_third.order = 40
    callback = TrackerCallback(dir=tmp_path, capture=False)
    train, valid = datasets()
    with pytest.raises(KeyError, match="a bug in the script's own callback"):
        lgb.train(PARAMS, train, 10, valid_sets=[valid], callbacks=[callback, raises_at_third])
    lgb.train(PARAMS, datasets()[0], 4, valid_sets=[datasets()[1]], callbacks=[callback])
    first, second = sorted(runs_in(tmp_path), key=lambda run: run.created)
    assert (first.status, first.history("valid_0/l2").count) == ("failed", 3)
    assert first.error == "LightGBM training stopped before its end"
    assert (second.status, second.history("valid_0/l2").count) == ("finished", 4)
