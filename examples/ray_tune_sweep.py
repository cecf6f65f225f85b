"""A Ray Tune sweep of a small NumPy logistic regression, each trial a tracker run in one group.

The trials train in Ray's worker processes; tracker's callback records them from this process:
each trial's config, its loss and accuracy at every training_iteration, and how it ended. ASHA
stops the worst trials early: they are finished runs tagged ``stopped-by-tune`` (as are those it
stops at its ``max_t``; the summary's ``iterations`` tells them apart).

    pip install -e '.[ray]'
    python examples/ray_tune_sweep.py --runs tracker-runs        # 8 trials, about half a minute
    python examples/ray_tune_sweep.py --runs tracker-runs --quick  # 3 trials
    tracker ls --runs tracker-runs --project ray-tune-example --sort=-val_acc
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from tracker.integrations.ray_tune import TrackerCallback

EPOCHS = 20


def make_data(seed: int = 0):
    """Two overlapping Gaussian blobs in 8 dimensions, split 400/200."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 600)
    features = rng.normal(size=(600, 8)) + labels[:, None] * np.linspace(0.2, 1.0, 8)
    return (features[:400], labels[:400]), (features[400:], labels[400:])


def train(config):
    """Logistic regression by full-batch gradient descent; reports once per epoch."""
    (x, y), (val_x, val_y) = make_data()
    weights, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(EPOCHS):
        p = 1 / (1 + np.exp(-(x @ weights + bias)))
        weights -= config["lr"] * (x.T @ (p - y) / len(y) + config["l2"] * weights)
        bias -= config["lr"] * float(np.mean(p - y))
        val_p = 1 / (1 + np.exp(-(val_x @ weights + bias)))
        val_loss = -np.mean(val_y * np.log(val_p + 1e-9) + (1 - val_y) * np.log(1 - val_p + 1e-9))
        tune.report({"val_loss": float(val_loss), "val_acc": float(np.mean((val_p > 0.5) == val_y)),
                     "weights": {"norm": float(np.linalg.norm(weights))}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="tracker-runs", help="runs folder (default: ./tracker-runs)")
    parser.add_argument("--quick", action="store_true", help="3 trials instead of 8")
    args = parser.parse_args(argv)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    space = {"lr": tune.grid_search([0.01, 0.3, 3.0] if args.quick else [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]),
             "l2": 1e-3}
    tuner = tune.Tuner(
        train, param_space=space,
        tune_config=tune.TuneConfig(scheduler=ASHAScheduler(metric="val_loss", mode="min", max_t=EPOCHS,
                                                            grace_period=4), reuse_actors=True),
        run_config=tune.RunConfig(name="logreg-sweep", verbose=0, storage_path=os.path.abspath(
            os.path.join(args.runs, ".ray")),  # Tune's own files, hidden from tracker's readers
            callbacks=[TrackerCallback(project="ray-tune-example", dir=args.runs)]))
    grid = tuner.fit()
    best = grid.get_best_result(metric="val_acc", mode="max")
    print(f"best lr {best.config['lr']}: val_acc {best.metrics['val_acc']:.3f}; runs in {args.runs}")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
