"""Fit a small PyTorch Lightning classifier on synthetic data, then test it, recorded by tracker.

Hyper-parameters, training and validation metrics at Lightning's step, the test metrics in the same
run, and the best checkpoint as an artifact (log_model=True):

    python examples/lightning_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse
import tempfile

import lightning.pytorch as L
import torch

from tracker.integrations.lightning import TrackerLogger


class Classifier(L.LightningModule):
    """Two inputs -> a hidden layer -> two classes."""

    def __init__(self, hidden: int = 16, lr: float = 0.05):
        super().__init__()
        self.save_hyperparameters()  # what TrackerLogger records as config
        self.net = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))

    def step(self, batch, stage: str):
        x, y = batch
        logits = self.net(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        self.log(f"{stage}/loss", loss, on_step=stage == "train", on_epoch=stage != "train")
        if stage != "train":
            self.log(f"{stage}/accuracy", (logits.argmax(1) == y).float().mean())
        return loss

    def training_step(self, batch, index):
        return self.step(batch, "train")

    def validation_step(self, batch, index):
        self.step(batch, "val")

    def test_step(self, batch, index):
        self.step(batch, "test")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


def two_moons(samples: int, seed: int) -> torch.utils.data.TensorDataset:
    """Two interleaved half circles with noise: a problem a line cannot separate."""
    generator = torch.Generator().manual_seed(seed)
    angle = torch.rand(samples, generator=generator) * torch.pi
    label = torch.randint(0, 2, (samples,), generator=generator)
    x = torch.stack([torch.cos(angle) + label, torch.sin(angle) * (1 - 2 * label) + 0.5 * label], dim=1)
    return torch.utils.data.TensorDataset(x + 0.1 * torch.randn(samples, 2, generator=generator), label)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    loaders = [torch.utils.data.DataLoader(two_moons(samples, seed), batch_size=32, shuffle=seed == 0)
               for samples, seed in ((512, 0), (256, 1), (256, 2))]
    logger = TrackerLogger(project="examples", name="lightning-two-moons", dir=args.runs, log_model=True)
    with tempfile.TemporaryDirectory() as checkpoints:  # the kept checkpoint is copied into the run
        trainer = L.Trainer(max_epochs=args.epochs, logger=logger, log_every_n_steps=4, default_root_dir=checkpoints,
                            callbacks=[L.callbacks.ModelCheckpoint(monitor="val/loss")],
                            enable_progress_bar=False, enable_model_summary=False)
        model = Classifier(lr=args.lr)
        trainer.fit(model, loaders[0], loaders[1])
        [result] = trainer.test(model, loaders[2], ckpt_path="best", verbose=False)
    print(f"run {logger.version}: test accuracy {result['test/accuracy']:.3f}")


if __name__ == "__main__":
    main()
