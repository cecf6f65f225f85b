"""Train a tiny NumPy MLP on synthetic spirals and record the run with tracker.

Small enough for CI (a second or two on a laptop CPU) and real enough to compare: the data is
three interleaved spirals, so a linear model (``--hidden 0``) tops out well below an MLP.

    python examples/train.py --lr 0.5 --hidden 32 --epochs 200 --runs tracker-runs
"""
from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import tracker

CLASSES = 3
VAL_FRACTION = 0.25


def make_spirals(samples_per_class: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) and labels (N,) of ``CLASSES`` interleaved spirals."""
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.05, 1.0, samples_per_class)
    points, labels = [], []
    for label in range(CLASSES):
        angle = np.linspace(label * 4.0, label * 4.0 + 4.0, samples_per_class) + rng.normal(0, noise, samples_per_class)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(samples_per_class, label))
    return np.concatenate(points), np.concatenate(labels)


def init_params(hidden: int, rng: np.random.Generator) -> dict:
    """Weights of a one-hidden-layer MLP, or of softmax regression when ``hidden`` is 0."""
    if hidden == 0:
        return {"W1": np.zeros((2, CLASSES)), "b1": np.zeros(CLASSES)}
    return {"W1": rng.normal(0, 1.0, (2, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0, 1.0 / np.sqrt(hidden), (hidden, CLASSES)), "b2": np.zeros(CLASSES)}


def forward(params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Class probabilities, and the hidden activations the backward pass needs."""
    hidden = None
    logits = x @ params["W1"] + params["b1"]
    if "W2" in params:
        hidden = np.maximum(logits, 0.0)
        logits = hidden @ params["W2"] + params["b2"]
    logits -= logits.max(axis=1, keepdims=True)  # stable softmax
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True), hidden


def evaluate(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy loss and accuracy."""
    probs, _ = forward(params, x)
    loss = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean()
    return float(loss), float((probs.argmax(axis=1) == y).mean())


def step(params: dict, x: np.ndarray, y: np.ndarray, lr: float, weight_decay: float) -> None:
    """One full-batch gradient descent step on cross-entropy plus L2 weight decay."""
    probs, hidden = forward(params, x)
    grad_logits = probs
    grad_logits[np.arange(len(y)), y] -= 1.0
    grad_logits /= len(y)
    grads = {}
    if hidden is None:
        grads["W1"], grads["b1"] = x.T @ grad_logits, grad_logits.sum(axis=0)
    else:
        grads["W2"], grads["b2"] = hidden.T @ grad_logits, grad_logits.sum(axis=0)
        grad_hidden = (grad_logits @ params["W2"].T) * (hidden > 0)
        grads["W1"], grads["b1"] = x.T @ grad_hidden, grad_hidden.sum(axis=0)
    for key, grad in grads.items():
        decay = weight_decay * params[key] if key.startswith("W") else 0.0
        params[key] -= lr * (grad + decay)


def train(args) -> float:
    """Train, logging every epoch; returns the best validation accuracy."""
    x, y = make_spirals(args.samples, args.noise, args.data_seed)
    order = np.random.default_rng(args.data_seed).permutation(len(y))
    split = int(len(y) * (1 - VAL_FRACTION))
    train_idx, val_idx = order[:split], order[split:]
    config = {key: getattr(args, key) for key in ("lr", "epochs", "hidden", "weight_decay", "seed",
                                                   "samples", "noise", "data_seed")}
    with tempfile.TemporaryDirectory() as scratch:
        data_file = os.path.join(scratch, "spirals.csv")
        np.savetxt(data_file, np.column_stack([x, y]), fmt=["%.6f", "%.6f", "%d"], delimiter=",",
                   header="x,y,label", comments="")
        with tracker.init(project=args.project, name=args.name, config=config, dir=args.runs) as run:
            run.log_dataset(data_file, name="spirals", rows=len(y), columns=["x", "y", "label"])
            params = init_params(args.hidden, np.random.default_rng(args.seed))
            best_val_acc = 0.0
            for _ in range(args.epochs):
                step(params, x[train_idx], y[train_idx], args.lr, args.weight_decay)
                train_loss, train_acc = evaluate(params, x[train_idx], y[train_idx])
                val_loss, val_acc = evaluate(params, x[val_idx], y[val_idx])
                best_val_acc = max(best_val_acc, val_acc)
                run.log({"train/loss": train_loss, "train/acc": train_acc, "val/loss": val_loss, "val/acc": val_acc})
            run.summary["best_val_acc"] = best_val_acc
            weights_file = os.path.join(scratch, "weights.npy")
            # A dict of arrays needs allow_pickle to load; one flat array loads anywhere.
            np.save(weights_file, np.concatenate([params[key].ravel() for key in sorted(params)]))
            run.log_artifact(weights_file, name="weights.npy")
    return best_val_acc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate (default: 0.5)")
    parser.add_argument("--epochs", type=int, default=200, help="full-batch epochs (default: 200)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units; 0 for softmax regression (default: 32)")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="L2 penalty (default: 1e-4)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed (default: 0)")
    parser.add_argument("--data-seed", type=int, default=0, help="dataset seed, kept fixed to compare runs (default: 0)")
    parser.add_argument("--samples", type=int, default=200, help="points per class (default: 200)")
    parser.add_argument("--noise", type=float, default=0.2, help="angular noise of the spirals (default: 0.2)")
    parser.add_argument("--project", default="spirals", help="tracker project (default: spirals)")
    parser.add_argument("--name", default=None, help="run name (default: the run id)")
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    args = parser.parse_args(argv)
    if args.hidden < 0 or args.epochs < 1:
        parser.error("--hidden must be >= 0 and --epochs >= 1")
    return args


if __name__ == "__main__":
    print(f"best_val_acc {train(parse_args()):.3f}")
