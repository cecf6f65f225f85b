"""``tracker demo``: log a small sweep of real example runs, each its own process.

Each run is this module run as a script: ``python -m tracker.cli.demo --lr 0.1 --epochs 30``
trains a logistic regression in plain Python on a synthetic two-moons-like dataset, logs
loss/accuracy every epoch, and fails on purpose with ``--fail-at`` so the site has a failed run
with a traceback to show. Where NumPy is installed each epoch also logs media (demo_media.py):
the decision boundary as images, a confusion matrix, ROC and PR curves and the worst predictions.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import tracker

from ..layout import runs_root
from . import add_runs_option

SCRIPT = "tracker.cli.demo"  # what each run of the sweep runs: this module, with ``python -m``
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tracker.__file__)))

SWEEP = [
    ["--name", "baseline", "--lr", "0.1", "--tags", "baseline",
     "--notes", "Plain SGD with the **default** learning rate.\n\n- 6 polynomial features\n- 80/20 split"],
    ["--name", "lr-0.3", "--lr", "0.3", "--tags", "sweep"],
    ["--name", "lr-0.03", "--lr", "0.03", "--tags", "sweep"],
    ["--name", "lr-0.01-long", "--lr", "0.01", "--epochs", "60", "--tags", "sweep", "long"],
    ["--name", "seed-1", "--lr", "0.1", "--seed", "1", "--tags", "seeds"],
    ["--name", "diverged", "--lr", "5", "--epochs", "12", "--tags", "sweep",
     "--notes", "Learning rate far too high: the loss goes to **Infinity**."],
    ["--name", "broken-loader", "--lr", "0.1", "--fail-at", "7", "--tags", "bug"],
]


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "demo", help="log a small sweep of example runs",
        description="Train a small logistic regression with several settings, logging every run: loss and "
                    "accuracy per epoch and, where NumPy is installed, media per epoch (decision-boundary "
                    "images, a confusion matrix, ROC and PR curves, the worst predictions).",
        epilog="example:\n  tracker demo && tracker ls", formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser)
    parser.add_argument("--project", default="demo-moons", help="project name for the runs")
    parser.set_defaults(handler=run_demo)


def run_demo(args) -> int:
    """Run the sweep, two runs at a time; 1 when a run other than the one failing on purpose failed."""
    root = runs_root(args.runs)

    # Each run's recorded command must rerun on another machine: the runs folder goes in the
    # environment, not on the command line, and the process starts where `python -m tracker...`
    # finds the package (the repository root of a checkout).
    environment = {**os.environ, "TRACKER_DIR": root}

    def run_one(arguments: list[str]) -> tuple[str, int]:
        command = [sys.executable, "-m", SCRIPT, "--project", args.project, *arguments]
        finished = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=PACKAGE_PARENT)
        return arguments[1], finished.returncode

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_one, SWEEP))
    for name, code in results:
        outcome = "ok" if code == 0 else "failed (on purpose)" if name == "broken-loader" else f"exit {code}"
        print(f"  {name:<14} {outcome}")
    if importlib.util.find_spec("numpy") is None:
        print("  (no media: the demo's images and evaluation charts need NumPy, pip install numpy)")
    print(f"logged {len(results)} runs into {root}")
    unexpected = [name for name, code in results if code != 0 and name != "broken-loader"]
    return 1 if unexpected else 0


def make_dataset(count: int, seed: int) -> list[tuple[float, float, int]]:
    """``count`` (x, y, label) points of two interleaved half-moons with noise; the same for a seed."""
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
    """Degree-2 polynomial features: what lets a linear model bend around the moons."""
    return [1.0, x, y, x * y, x * x, y * y]


def train(args) -> None:
    """Train and log one run: loss and accuracy every epoch, the dataset, the weights as an artifact,
    and each epoch's media when NumPy is installed."""
    try:
        from . import demo_media  # imports NumPy: only in the training process, only where installed
    except ModuleNotFoundError as missing:
        if missing.name != "numpy":
            raise
        demo_media = None
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
                run.log({"train/loss": loss, "valid/acc": accuracy}, step=epoch)
                if demo_media is not None:
                    demo_media.log_epoch(run, epoch, weights, valid_set, features)
            run.summary["best_acc"] = best
            model_file = os.path.join(scratch, "weights.txt")
            with open(model_file, "w") as handle:
                handle.write(" ".join(f"{w:.6f}" for w in weights) + "\n")
            run.log_artifact(model_file, name="weights.txt")


def train_main(argv: list[str] | None = None) -> None:
    """One demo run, from its command line (what each process of the sweep runs)."""
    parser = argparse.ArgumentParser(prog=f"python -m {SCRIPT}", description="Train and log one demo run.")
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
    train_main()
