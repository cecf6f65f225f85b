"""tracker.autolog() on real scikit-learn fits and searches, the runs read back with load_run:
what each fit records, a search as a parent and its candidates, the patches put back, and
failures inside the recording that leave the fit running."""
from __future__ import annotations

import pathlib
import warnings

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tracker
from tracker.reader import load_run

X, Y = make_classification(n_samples=120, n_features=6, random_state=0)


def runs_in(folder) -> list:
    return [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir())
            if path.is_dir() and not path.name.startswith(".")]


class ParamsFail(LogisticRegression):
    """An estimator whose deep get_params raises, as a buggy third-party estimator's would
    (scikit-learn itself calls get_params(deep=False) while fitting)."""

    def get_params(self, deep=True):
        if deep:
            raise RuntimeError("get_params is broken")
        return super().get_params(deep=False)


class ScoreFails(DecisionTreeClassifier):
    def score(self, X, y, sample_weight=None):
        raise ValueError("cannot score")


def test_each_fit_is_a_run_with_params_training_score_fit_time_and_repr(tmp_path):
    original = LogisticRegression.fit
    with tracker.autolog(dir=tmp_path, project="sk"):
        model = LogisticRegression(C=0.5, max_iter=300).fit(X, Y)
    assert LogisticRegression.fit is original
    [run] = runs_in(tmp_path)
    assert (run.project, run.name, run.status, run.tags) == ("sk", "LogisticRegression", "finished", ["autolog"])
    params = model.get_params()
    assert {key: run.config[key] for key in params} == params
    assert run.config["estimator"] == "LogisticRegression"
    assert run.config["estimator_repr"] == repr(model)
    assert run.summary["training_score"] == model.score(X, Y)
    assert 0 < run.summary["fit_time_s"] < 60


def test_a_pipeline_is_one_run_not_one_per_step(tmp_path):
    with tracker.autolog(dir=tmp_path):
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)
    [run] = runs_in(tmp_path)
    assert run.name == "Pipeline" and run.config["logisticregression__C"] == 1.0


def test_a_grid_search_is_a_parent_with_one_child_per_candidate(tmp_path):
    grid = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}
    with tracker.autolog(dir=tmp_path, project="search"):
        search = GridSearchCV(LogisticRegression(max_iter=300), grid, cv=3).fit(X, Y)
    runs = runs_in(tmp_path)
    [parent] = [run for run in runs if "search" in run.tags]
    children = [run for run in runs if "candidate" in run.tags]
    assert len(runs) == 1 + len(children)  # the candidates' and the refit's inner fits are no runs
    assert len(children) == len(search.cv_results_["params"]) == 6
    assert parent.group and {child.group for child in children} == {parent.group}
    assert {child.config["parent_run"] for child in children} == {parent.id}
    assert parent.summary["best_score"] == search.best_score_
    assert parent.summary["best_params"] == search.best_params_
    assert parent.summary["candidates"] == 6
    assert parent.summary["training_score"] == search.score(X, Y)
    best = next(child for child in children if child.id == parent.summary["best_run"])
    assert {key: best.config[key] for key in search.best_params_} == search.best_params_
    assert best.summary["mean_test_score"] == search.best_score_ and best.summary["rank_test_score"] == 1
    for child in children:
        index = child.config["candidate"]
        assert child.summary["mean_test_score"] == search.cv_results_["mean_test_score"][index]
        assert child.status == "finished"


def test_a_randomized_search_records_its_sampled_candidates(tmp_path):
    with tracker.autolog(dir=tmp_path):
        search = RandomizedSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4, 5]},
                                    n_iter=3, cv=2, random_state=0).fit(X, Y)
    children = [run for run in runs_in(tmp_path) if "candidate" in run.tags]
    assert sorted(child.config["max_depth"] for child in children) == sorted(
        params["max_depth"] for params in search.cv_results_["params"])


def test_a_get_params_that_raises_is_a_warning_and_the_fit_goes_on(tmp_path):
    with tracker.autolog(dir=tmp_path):
        with pytest.warns(RuntimeWarning, match=r"tracker.autolog: starting the record of a fit failed "
                                                r"\(RuntimeError: get_params is broken\); the fit goes on"):
            model = ParamsFail(max_iter=300).fit(X, Y)
    assert model.coef_.shape == (1, 6) and model.score(X, Y) > 0.5
    assert runs_in(tmp_path) == []


def test_a_score_that_raises_is_a_warning_and_the_run_keeps_the_rest(tmp_path):
    with tracker.autolog(dir=tmp_path):
        with pytest.warns(RuntimeWarning, match="recording a fit's results failed .ValueError: cannot score"):
            model = ScoreFails(max_depth=2).fit(X, Y)
    assert model.tree_.max_depth == 2
    [run] = runs_in(tmp_path)
    assert run.status == "finished" and "training_score" not in run.summary and run.summary["fit_time_s"] > 0


def test_a_fit_that_raises_fails_its_run_and_the_error_reaches_the_script(tmp_path):
    with tracker.autolog(dir=tmp_path):
        with pytest.raises(ValueError, match="Unknown label type"):
            LogisticRegression().fit(X, [0.5] * len(X))
    [run] = runs_in(tmp_path)
    assert run.status == "failed" and "Unknown label type" in run.error


def test_a_fit_inside_an_active_run_records_into_it_and_leaves_it_active(tmp_path):
    with tracker.autolog(dir=tmp_path):
        with tracker.init(dir=tmp_path, name="mine", capture=False):
            model = DecisionTreeClassifier(max_depth=3).fit(X, Y)
            GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2).fit(X, Y)
            tracker.log({"after": 1.0})  # still acts on the script's run
    runs = {run.name: run for run in runs_in(tmp_path)}
    assert runs["mine"].config["max_depth"] == 3
    assert runs["mine"].summary["training_score"] == model.score(X, Y)
    assert runs["mine"].history("after").steps == [0]
    assert "GridSearchCV" in runs and len(runs) == 1 + 1 + 2  # the search is a parent run of its own


def test_autolog_without_the_context_manager_patches_until_disabled(tmp_path):
    original = DecisionTreeClassifier.fit
    tracker.autolog(dir=tmp_path)
    try:
        assert DecisionTreeClassifier.fit is not original
        DecisionTreeClassifier().fit(X, Y)
    finally:
        tracker.autolog(disable=True)
    assert DecisionTreeClassifier.fit is original
    DecisionTreeClassifier().fit(X, Y)  # not recorded any more
    assert len(runs_in(tmp_path)) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when nothing went wrong
        with tracker.autolog(dir=tmp_path):
            DecisionTreeClassifier().fit(X, Y)
    assert len(runs_in(tmp_path)) == 2
