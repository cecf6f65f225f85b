"""The Lightning logger on real (tiny) CPU fits, the runs read back with load_run: one point per metric
and step although Lightning calls log_metrics several times per step, the hyper-parameters, fit and
test in one run, checkpoints as artifacts, a failed and an interrupted fit, rank zero only, the
standalone pytorch_lightning package, and the tracker failing inside the logger while the fit goes on."""
from __future__ import annotations

import importlib.util
import pathlib
import signal
import warnings
from argparse import Namespace

import pytest

from tests.frameworks import require_framework

L = require_framework("lightning.pytorch", extra="lightning")

import torch  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from lightning.pytorch.utilities.rank_zero import rank_zero_only  # noqa: E402

import tracker  # noqa: E402
from tracker.integrations.lightning import TrackerLogger  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

torch.set_num_threads(1)
BATCHES = 4  # per epoch: 64 samples, batches of 16
EPOCHS = 2


class Regressor(L.LightningModule):
    """A 3-4-1 MLP; ``fail_at``: the training batch (counted over the fit) that raises ``fail_with``."""

    def __init__(self, lr: float = 0.1, hidden: int = 4, fail_at: int | None = None, fail_with=ValueError):
        super().__init__()
        self.save_hyperparameters(ignore=["fail_with"])
        self.fail_with = fail_with
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, index):
        if self.hparams.fail_at is not None and self.global_step == self.hparams.fail_at:
            raise self.fail_with("the model diverged")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        self.log("train_loss_epoch", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, index):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def test_step(self, batch, index):
        x, y = batch
        self.log("test_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loader():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16 * BATCHES, 3, generator=generator)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16)


def trainer(tmp_path, logger, **options):
    options.setdefault("enable_checkpointing", False)
    return L.Trainer(max_epochs=EPOCHS, logger=logger, log_every_n_steps=1, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=tmp_path / "lightning", **options)


def runs_in(folder) -> list:
    return sorted((load_run(str(path)) for path in pathlib.Path(folder).iterdir() if path.is_dir()),
                  key=lambda run: run.created)


def counts(run) -> dict:
    return {name: series.count for name, series in run.histories.items()}


def test_one_point_per_metric_and_step_at_lightnings_step_and_the_hyperparameters(tmp_path):
    fit = trainer(tmp_path, TrackerLogger(dir=tmp_path / "runs", project="lit", capture=False))
    fit.fit(Regressor(lr=0.05), loader(), loader())
    [run] = runs_in(tmp_path / "runs")
    assert (run.project, run.status, run.tags) == ("lit", "finished", ["lightning"])
    steps = BATCHES * EPOCHS
    # Lightning logs the epoch with each of its three calls at an epoch's last step: one point each
    assert counts(run) == {"train_loss": steps, "epoch": steps, "val_loss": EPOCHS, "train_loss_epoch": EPOCHS}
    assert run.history("train_loss").steps == list(range(steps)) == run.history("epoch").steps
    last_of_each_epoch = [BATCHES * epoch - 1 for epoch in range(1, EPOCHS + 1)]
    assert run.history("val_loss").steps == last_of_each_epoch == run.history("train_loss_epoch").steps
    assert run.history("epoch").values == [step // BATCHES for step in range(steps)]
    assert run.config == {"lr": 0.05, "hidden": 4, "fail_at": None}
    assert fit.logged_metrics["val_loss"].item() == pytest.approx(run.history("val_loss").values[-1])


def test_a_test_after_the_fit_is_recorded_into_the_same_run(tmp_path):
    logger = TrackerLogger(dir=tmp_path / "runs", capture=False)
    fit = trainer(tmp_path, logger)
    model = Regressor()
    fit.fit(model, loader(), loader())
    [result] = fit.test(model, loader(), verbose=False)
    [run] = runs_in(tmp_path / "runs")
    assert run.status == "finished" and len(run.writers) == 2  # the fit's writer and the test's
    assert run.history("test_loss").values == [pytest.approx(result["test_loss"])]
    assert run.history("train_loss").count == BATCHES * EPOCHS


def test_hyperparameters_as_a_namespace_with_nested_values_and_objects(tmp_path):
    logger = TrackerLogger(dir=tmp_path / "runs", capture=False)
    logger.log_hyperparams(Namespace(lr=0.1, optimizer={"name": "sgd", "betas": [0.9, 0.99]}, loss=torch.nn.MSELoss()))
    logger.finalize("success")
    [run] = runs_in(tmp_path / "runs")
    assert run.config == {"lr": 0.1, "optimizer": {"name": "sgd", "betas": [0.9, 0.99]}, "loss": "MSELoss()"}


def test_log_model_all_copies_every_checkpoint_as_it_is_saved(tmp_path):
    logger = TrackerLogger(dir=tmp_path / "runs", capture=False, log_model="all")
    trainer(tmp_path, logger, enable_checkpointing=True).fit(Regressor(), loader(), loader())
    [run] = runs_in(tmp_path / "runs")
    names = sorted(artifact["name"] for artifact in run.artifacts)
    assert names == ["checkpoints/epoch=0-step=4.ckpt", "checkpoints/epoch=1-step=8.ckpt"]
    stored = pathlib.Path(run.path, "artifacts", "checkpoints", "epoch=1-step=8.ckpt")
    assert torch.load(stored, weights_only=False)["global_step"] == BATCHES * EPOCHS


def test_log_model_true_copies_the_kept_checkpoints_at_the_end_and_names_the_best(tmp_path):
    logger = TrackerLogger(dir=tmp_path / "runs", capture=False, log_model=True)
    best = ModelCheckpoint(monitor="val_loss", save_top_k=1, filename="{epoch}")
    fit = trainer(tmp_path, logger, callbacks=[best], enable_checkpointing=True)
    fit.fit(Regressor(), loader(), loader())
    [run] = runs_in(tmp_path / "runs")
    best_name = "checkpoints/" + pathlib.Path(best.best_model_path).name
    assert [artifact["name"] for artifact in run.artifacts] == [best_name]
    assert run.explicit_summary["best_checkpoint"] == best_name
    assert run.explicit_summary["best_checkpoint_score"] == pytest.approx(best.best_model_score.item())
    assert run.explicit_summary["best_checkpoint_score"] == pytest.approx(min(run.history("val_loss").values))


def test_a_fit_that_raises_is_failed_with_the_error_and_its_steps_so_far(tmp_path):
    fit = trainer(tmp_path, TrackerLogger(dir=tmp_path / "runs", capture=False))
    with pytest.raises(ValueError, match="the model diverged"):
        fit.fit(Regressor(fail_at=5), loader(), loader())
    [run] = runs_in(tmp_path / "runs")
    assert run.status == "failed"
    assert "ValueError: the model diverged" in run.error and "training_step" in run.error
    assert run.history("train_loss").count == 5 and run.history("val_loss").count == 1


def test_a_keyboard_interrupt_is_interrupted(tmp_path):
    handler = signal.getsignal(signal.SIGINT)
    fit = trainer(tmp_path, TrackerLogger(dir=tmp_path / "runs", capture=False))
    try:
        with pytest.raises(SystemExit):  # Lightning's graceful shutdown exits with 1
            fit.fit(Regressor(fail_at=2, fail_with=KeyboardInterrupt), loader(), loader())
    finally:
        signal.signal(signal.SIGINT, handler)  # Lightning ignores further Ctrl+C while it shuts down
    [run] = runs_in(tmp_path / "runs")
    [writer] = run.writers  # the reader shows a run's error for failed runs; the end record has it
    assert run.status == "interrupted" and "KeyboardInterrupt: the model diverged" in writer.error
    assert run.history("train_loss").count == 2


def test_inside_the_scripts_run_the_run_is_used_and_left_open(tmp_path):
    run = tracker.init(dir=tmp_path / "runs", name="mine", capture=False)
    trainer(tmp_path, TrackerLogger()).fit(Regressor(), loader(), loader())
    assert active_run() is run
    run.finish()
    [read] = runs_in(tmp_path / "runs")
    assert read.name == "mine" and read.history("val_loss").count == EPOCHS and read.config["lr"] == 0.1


def test_only_rank_zero_records_unless_all_ranks(tmp_path, monkeypatch):
    # The global rank Lightning's strategies set on every process; rank 1 of a DDP fit sees this.
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    fit = trainer(tmp_path, TrackerLogger(dir=tmp_path / "quiet", capture=False))
    fit.fit(Regressor(), loader(), loader())
    assert fit.state.finished and not (tmp_path / "quiet").exists()
    trainer(tmp_path, TrackerLogger(dir=tmp_path / "every", capture=False, all_ranks=True)).fit(
        Regressor(), loader(), loader())
    [run] = runs_in(tmp_path / "every")
    assert run.tags == ["lightning", "rank=1"] and run.history("val_loss").count == EPOCHS


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_the_fit_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = trainer(tmp_path, TrackerLogger(dir=blocker / "runs", capture=False, log_model="all"),
                      enable_checkpointing=True)
        fit.fit(Regressor(), loader(), loader())
    ours = [str(w.message) for w in caught if "tracker.integrations" in str(w.message)]
    assert len(ours) == 1, ours
    assert ours[0].startswith("tracker.integrations.lightning: starting the run failed (RunDirError")
    assert fit.state.finished and fit.global_step == BATCHES * EPOCHS


def test_a_bad_log_model_is_refused_at_once():
    with pytest.raises(TypeError, match=r'log_model is str \(\'best\'\), expected True, False or "all"'):
        TrackerLogger(log_model="best")


def test_the_standalone_pytorch_lightning_package(tmp_path):
    pl = require_framework("pytorch_lightning", extra="lightning")
    from tracker.integrations.pytorch_lightning import TrackerLogger as PlLogger

    class PlRegressor(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.save_hyperparameters({"lr": 0.1})
            self.net = torch.nn.Linear(3, 1)

        def training_step(self, batch, index):
            loss = torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    fit = pl.Trainer(max_epochs=EPOCHS, logger=PlLogger(dir=tmp_path / "runs", capture=False), log_every_n_steps=1,
                     enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                     default_root_dir=tmp_path / "lightning")
    fit.fit(PlRegressor(), loader())
    [run] = runs_in(tmp_path / "runs")
    assert (run.status, run.config, run.history("train_loss").count) == ("finished", {"lr": 0.1}, BATCHES * EPOCHS)


def test_the_example_logs_its_fit_and_test_into_one_run_with_the_best_checkpoint(tmp_path):
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "lightning_example.py"
    spec = importlib.util.spec_from_file_location("lightning_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--runs", str(tmp_path / "runs"), "--epochs", "2"])
    [run] = runs_in(tmp_path / "runs")
    assert (run.project, run.name, run.status) == ("examples", "lightning-two-moons", "finished")
    assert len(run.writers) == 2  # the fit's and the test's: reading logger.version afterwards reopens nothing
    assert run.history("val/accuracy").count == 2 and run.history("test/accuracy").count == 1
    assert [artifact["name"] for artifact in run.artifacts] == [run.explicit_summary["best_checkpoint"]]
    assert run.config == {"hidden": 16, "lr": 0.05}
