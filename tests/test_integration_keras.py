"""The Keras 3 callback on real (tiny) fits on the torch backend, the runs read back with load_run: one
point per epoch for every metric, val_* included, batches when asked, the fit's parameters and the
model's size, a fit that raises (in the script and ending it), and the tracker failing inside the
callback while the fit goes on."""
from __future__ import annotations

import os

# Keras picks its backend when it is first imported: the only one installed with the [keras] extra is torch.
os.environ["KERAS_BACKEND"] = "torch"

import importlib.util  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import warnings  # noqa: E402

import numpy  # noqa: E402
import pytest  # noqa: E402

from tests.frameworks import require_framework  # noqa: E402

keras = require_framework("keras", extra="keras")

import torch  # noqa: E402

import tracker  # noqa: E402
from tracker.integrations.keras import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parent.parent
EPOCHS = 3
STEPS_PER_EPOCH = 3  # 48 training samples (64 less the validation quarter), batches of 16
RNG = numpy.random.default_rng(0)
X = RNG.normal(size=(64, 3)).astype("float32")
Y = (X.sum(axis=1) > 0).astype("float32")


def test_keras_runs_on_the_torch_backend():
    assert keras.backend.backend() == "torch", "set KERAS_BACKEND=torch before anything imports keras"


def model():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                            keras.layers.BatchNormalization(), keras.layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return net


def fit(net, callbacks, epochs=EPOCHS):
    return net.fit(X, Y, epochs=epochs, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks)


def runs_in(folder) -> list:
    return sorted((load_run(str(path)) for path in pathlib.Path(folder).iterdir() if path.is_dir()),
                  key=lambda run: run.created)


def counts(run) -> dict:
    return {name: series.count for name, series in run.histories.items()}


def test_each_epochs_metrics_the_fits_parameters_and_the_models_size(tmp_path):
    net = model()
    history = fit(net, [TrackerCallback(dir=tmp_path, project="keras-demo", capture=False)])
    [run] = runs_in(tmp_path)
    assert (run.project, run.status, run.tags) == ("keras-demo", "finished", ["keras"])
    names = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
    assert counts(run) == {name: EPOCHS for name in names}
    assert run.history("val_loss").steps == list(range(EPOCHS))
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert run.history(name).values == pytest.approx(history.history[name])
    assert run.history("learning_rate").values == [0.01] * EPOCHS
    assert (run.config["epochs"], run.config["steps_per_epoch"], run.config["loss"]) == (
        EPOCHS, STEPS_PER_EPOCH, "binary_crossentropy")
    assert (run.config["optimizer"]["name"], run.config["optimizer"]["learning_rate"]) == ("adam", 0.01)
    # Dense 3->4 (16) + BatchNormalization (4 gamma, 4 beta trainable; moving mean and variance not) + Dense 4->1 (5)
    assert run.config["model"] == {"class": "Sequential", "name": net.name, "layers": 3, "total_params": 37,
                                   "trainable_params": 29, "non_trainable_params": 8}
    assert net.count_params() == 37
    assert run.explicit_summary["epochs"] == EPOCHS


@pytest.mark.parametrize("log_model", ["all", True, False])
def test_the_model_is_an_artifact_when_asked_and_reloads(tmp_path, log_model):
    net = model()
    fit(net, [TrackerCallback(dir=tmp_path, capture=False, log_model=log_model)])
    [run] = runs_in(tmp_path)
    names = sorted(artifact["name"] for artifact in run.artifacts)
    per_epoch = [f"model-epoch-{epoch}.keras" for epoch in range(1, EPOCHS + 1)]
    assert names == {"all": sorted(per_epoch + ["model.keras"]), True: ["model.keras"], False: []}[log_model]
    if log_model:
        reloaded = keras.models.load_model(pathlib.Path(run.path, "artifacts", "model.keras"))
        assert numpy.allclose(reloaded.predict(X, verbose=0), net.predict(X, verbose=0))


def test_log_model_takes_false_true_or_all():
    with pytest.raises(ValueError, match="log_model='best'"):
        TrackerCallback(log_model="best")


def test_log_batches_records_each_training_batch_counted_over_the_fit(tmp_path):
    fit(model(), [TrackerCallback(dir=tmp_path, capture=False, log_batches=True)])
    [run] = runs_in(tmp_path)
    batches = EPOCHS * STEPS_PER_EPOCH
    assert run.history("batch/loss").steps == list(range(batches)) and run.history("batch/accuracy").count == batches
    assert run.history("loss").count == EPOCHS


def test_early_stopping_puts_the_epochs_run_in_the_summary(tmp_path):
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # no epoch improves by 10
    fit(model(), [TrackerCallback(dir=tmp_path, capture=False), stop], epochs=20)
    [run] = runs_in(tmp_path)
    assert run.status == "finished" and run.explicit_summary["epochs"] == 2 == run.history("loss").count


def test_a_fit_from_initial_epoch_continues_at_that_step(tmp_path):
    net = model()
    net.fit(X, Y, epochs=4, initial_epoch=2, batch_size=16, verbose=0,
            callbacks=[TrackerCallback(dir=tmp_path, capture=False)])
    [run] = runs_in(tmp_path)
    assert run.history("loss").steps == [2, 3] and run.explicit_summary["epochs"] == 2


class Raises(keras.callbacks.Callback):
    """The script's own callback, failing at the end of an epoch."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("a bug in the script's own callback")


def test_a_fit_that_raises_is_failed_when_the_callback_fits_again(tmp_path):
    callback = TrackerCallback(dir=tmp_path, capture=False)
    net = model()
    with pytest.raises(RuntimeError, match="a bug in the script's own callback"):
        fit(net, [callback, Raises()])
    fit(net, [callback], epochs=2)
    first, second = runs_in(tmp_path)
    assert (first.status, first.history("loss").count) == ("failed", 2)  # our on_epoch_end ran before the raise
    assert first.error == "Keras fit stopped before its end"
    assert (second.status, second.history("loss").count) == ("finished", 2)


def test_a_fit_that_raises_out_of_the_script_is_failed_with_its_traceback(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}]
        from tests.test_integration_keras import Raises, TrackerCallback, fit, model
        fit(model(), [TrackerCallback(dir={str(tmp_path / "runs")!r}, capture=False), Raises()])
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": "torch"})
    assert done.returncode == 1 and "a bug in the script's own callback" in done.stderr
    [run] = runs_in(tmp_path / "runs")
    assert run.status == "failed" and run.history("loss").count == 2
    assert "RuntimeError: a bug in the script's own callback" in run.error and "on_epoch_end" in run.error


def test_inside_the_scripts_run_the_run_is_used_and_left_open(tmp_path):
    run = tracker.init(dir=tmp_path, name="mine", capture=False)
    fit(model(), [TrackerCallback()])
    assert active_run() is run
    run.finish()
    [read] = runs_in(tmp_path)
    assert read.name == "mine" and read.history("val_accuracy").count == EPOCHS and read.config["epochs"] == EPOCHS


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_the_fit_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model(), [TrackerCallback(dir=blocker / "runs", capture=False, log_batches=True)])
    ours = [str(w.message) for w in caught if "tracker.integrations" in str(w.message)]
    assert len(ours) == 1, ours
    assert ours[0].startswith("tracker.integrations.keras: starting the run failed (RunDirError")
    assert len(history.history["loss"]) == EPOCHS
    assert history.history["loss"] == pytest.approx(fit(model(), []).history["loss"])


def test_the_example_logs_a_fit_with_its_learning_rate_schedule(tmp_path):
    spec = importlib.util.spec_from_file_location("keras_example", ROOT / "examples" / "keras_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--runs", str(tmp_path / "runs"), "--epochs", "3"])
    [run] = runs_in(tmp_path / "runs")
    assert (run.project, run.name, run.status) == ("examples", "keras-spirals", "finished")
    assert run.history("val_accuracy").count == 3 and run.history("learning_rate").values[0] == 0.02
    assert run.config["model"]["total_params"] == 2 * 32 + 32 + 32 * 32 + 32 + 32 + 1
