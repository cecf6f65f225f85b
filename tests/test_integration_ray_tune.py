"""The Ray Tune callback on a real local Ray cluster, trials in worker processes, the runs read back with
load_run: one run per trial in the experiment's group with its config and every reported result at its
training_iteration; a trial that returned, one Tune stopped early and one that raised, each with its
status; the script's run as the experiment's parent; and the tracker failing inside the callback while
the experiment goes on. One cluster for the module: Ray takes seconds to start."""
from __future__ import annotations

import os
import pathlib

import pytest

from tests.frameworks import require_framework

ray = require_framework("ray", extra="ray")
tune = require_framework("ray.tune", extra="ray")

import tracker  # noqa: E402
from tracker.integrations.ray_tune import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

STOP_AT = 4  # the experiment's stop criterion: training_iteration 4


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    # The workers unpickle trainable() by importing this module, as pytest named it.
    here = pathlib.Path(__file__).resolve().parent
    path = os.pathsep.join([str(here), str(here.parent), os.environ.get("PYTHONPATH", "")])
    # Tune's own CSV, JSON and TensorBoard loggers are not under test: seconds saved per experiment.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()
    os.environ.pop("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", None)


def trainable(config):
    """Reports ``epochs`` results; the trial with lr 0.3 raises at its second."""
    for epoch in range(config["epochs"]):
        if config["lr"] == 0.3 and epoch == 1:
            raise ValueError("loss diverged at epoch 1")
        tune.report({"loss": config["lr"] / (epoch + 1), "eval": {"acc": 0.5 + 0.1 * epoch}, "note": "text"})


def fit(tmp_path, callback, name="sweep", trials=None, max_failures=0):
    """Three trials: lr 0.1 returns after 3 epochs, 0.2 would report 9 and is stopped at 4, 0.3 raises."""
    space = {"lr": tune.grid_search(trials or [0.1, 0.2, 0.3]),
             "epochs": tune.sample_from(lambda spec: 3 if spec.config.lr == 0.1 else 9),
             "model": {"depth": 2}}
    tuner = tune.Tuner(trainable, param_space=space,
                       tune_config=tune.TuneConfig(max_concurrent_trials=2, reuse_actors=True),
                       run_config=tune.RunConfig(name=name, storage_path=str(tmp_path / "ray"), verbose=0,
                                                 stop={"training_iteration": STOP_AT}, callbacks=[callback],
                                                 failure_config=tune.FailureConfig(max_failures=max_failures)))
    return tuner.fit()


def runs_in(folder) -> list:
    return [load_run(str(path)) for path in sorted(pathlib.Path(folder).iterdir()) if path.is_dir()]


def test_each_trial_is_a_run_in_the_experiments_group_with_its_results_and_end(tmp_path):
    grid = fit(tmp_path, TrackerCallback(dir=tmp_path / "runs", project="p"))
    runs = {run.config["lr"]: run for run in runs_in(tmp_path / "runs")}
    results = {result.config["lr"]: result for result in grid}
    assert sorted(runs) == [0.1, 0.2, 0.3]
    for lr, run in runs.items():
        assert (run.project, run.group, run.tags[0]) == ("p", "sweep", "ray-tune")
        assert run.config["trial_id"] == run.summary["trial_id"] and run.name.endswith(run.config["trial_id"])
        assert {key: run.config[key] for key in ("lr", "epochs", "model")} == {
            "lr": lr, "epochs": results[lr].config["epochs"], "model": {"depth": 2}}
        assert set(run.histories) == {"loss", "eval/acc", "time_this_iter_s", "time_total_s"}
    returned, stopped, raised = runs[0.1], runs[0.2], runs[0.3]
    assert returned.history("loss").steps == [1, 2, 3]
    assert returned.history("loss").values == [pytest.approx(0.1 / n) for n in (1, 2, 3)]
    assert returned.history("eval/acc").values == [pytest.approx(v) for v in (0.5, 0.6, 0.7)]
    assert returned.history("time_this_iter_s").steps == [1, 2, 3]
    assert (returned.status, returned.summary["stopped_by_tune"], returned.summary["iterations"]) == ("finished", False, 3)
    assert "stopped-by-tune" not in returned.tags
    assert stopped.history("loss").steps == list(range(1, STOP_AT + 1))
    assert (stopped.status, stopped.summary["stopped_by_tune"], stopped.summary["iterations"]) == ("finished", True, 4)
    assert "stopped-by-tune" in stopped.tags
    assert (raised.status, raised.history("loss").steps) == ("failed", [1])
    assert raised.error.startswith("ValueError: loss diverged at epoch 1\n")
    assert 'in trainable\n    raise ValueError("loss diverged at epoch 1")' in raised.error and "\x1b" not in raised.error
    assert results[0.3].error is not None and results[0.1].error is None
    assert active_run() is None


def test_the_scripts_run_stays_active_and_a_restarted_trial_goes_on_in_its_run(tmp_path):
    parent = tracker.init(dir=tmp_path / "runs", name="experiment", capture=False)
    fit(tmp_path, TrackerCallback(group="nested"), name="nested", trials=[0.1, 0.3], max_failures=1)
    assert active_run() is parent
    parent.finish()
    runs = runs_in(tmp_path / "runs")
    [read_parent] = [run for run in runs if run.id == parent.id]
    trials = {run.config["lr"]: run for run in runs if run.id != parent.id}
    assert sorted(trials) == [0.1, 0.3] and {run.config["parent_run"] for run in trials.values()} == {parent.id}
    assert {run.group for run in trials.values()} == {"nested"} and read_parent.summary["trials"] == 2
    restarted = trials[0.3]  # Tune ran it twice (max_failures=1), from its first iteration each time
    assert (restarted.status, restarted.history("loss").steps) == ("failed", [1, 1])
    assert "Failure # 2" in restarted.error


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_the_experiment_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    with pytest.warns(RuntimeWarning, match=r"tracker.integrations.ray_tune: starting a trial's run failed "
                                            r"\(RunDirError: .*\); the experiment goes on") as caught:
        grid = fit(tmp_path, TrackerCallback(dir=blocker / "runs"), name="blocked", trials=[0.1, 0.2])
    assert len([w for w in caught if "tracker.integrations" in str(w.message)]) == 1
    assert sorted(result.metrics["training_iteration"] for result in grid) == [3, STOP_AT]
