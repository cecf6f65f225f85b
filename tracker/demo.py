"""A small, real training script used by ``tracker demo``: logistic regression in plain Python.

Run directly: ``python -m tracker.demo --lr 0.1 --epochs 30``. It trains on a synthetic
two-moons-like dataset, logs loss/accuracy every epoch, and fails on purpose with ``--fail-at``
so the site has a failed run with a traceback to show.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import tempfile

import tracker


def make_dataset(count: int, seed: int) -> list[tuple[float, float, int]]:
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        label = rng.random() < 0.5
        angle = rng.uniform(0, math.pi)
        x = math.cos(angle) + (1.0 if label else 0.0) + rng.gauss(0, 0.2)
        y = math.sin(angle) * (-1 if label else 1) + (0.5 if label else 0.0) + rng.gauss(0, 0.2)
        points.append((x, y, int(label)))
    return points


def features(x: float, y: float) -> list[float]:
    return [1.0, x, y, x * y, x * x, y * y]


def train(args) -> None:
    data = make_dataset(args.samples, args.seed)
    split = int(len(data) * 0.8)
    train_set, valid_set = data[:split], data[split:]
    with tempfile.TemporaryDirectory() as scratch:
        data_file = os.path.join(scratch, "moons.csv")
        with open(data_file, "w") as handle:
            handle.write("x,y,label\n" + "".join(f"{x:.5f},{y:.5f},{label}\n" for x, y, label in data))
        hyperparameters = {key: getattr(args, key) for key in ("lr", "epochs", "samples", "seed", "optimizer")}
        with tracker.init(project=args.project, name=args.name, config=hyperparameters, tags=args.tags,
                          notes=args.notes, dir=args.runs) as run:
            run.log_dataset(data_file, name="moons")
            weights = [0.0] * 6
            best = 0.0
            for epoch in range(args.epochs):
                if args.fail_at is not None and epoch == args.fail_at:
                    raise RuntimeError(f"simulated failure at epoch {epoch}: loader worker died")
                random.Random(epoch).shuffle(train_set)
                loss = 0.0
                for x, y, label in train_set:
                    z = sum(w * f for w, f in zip(weights, features(x, y)))
                    p = 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))
                    loss -= math.log(max(p, 1e-12)) if label else math.log(max(1 - p, 1e-12))
                    gradient = p - label
                    weights = [w - args.lr * gradient * f for w, f in zip(weights, features(x, y))]
                loss /= len(train_set)
                if args.lr >= 5:
                    loss = math.inf if epoch > 3 else loss * (10 ** epoch)  # what divergence looks like
                accuracy = sum((sum(w * f for w, f in zip(weights, features(x, y))) > 0) == bool(label)
                               for x, y, label in valid_set) / len(valid_set)
                best = max(best, accuracy)
                run.log({"train/loss": loss, "valid/acc": accuracy})
            run.summary["best_acc"] = best
            model_file = os.path.join(scratch, "weights.txt")
            with open(model_file, "w") as handle:
                handle.write(" ".join(f"{w:.6f}" for w in weights) + "\n")
            run.log_artifact(model_file, name="weights.txt")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--project", default="demo-moons")
    parser.add_argument("--name", default=None)
    parser.add_argument("--tags", nargs="*", default=[])
    parser.add_argument("--notes", default="")
    parser.add_argument("--fail-at", type=int, default=None)
    parser.add_argument("--runs", default=None, help="runs folder")
    train(parser.parse_args(argv))


if __name__ == "__main__":
    main()
