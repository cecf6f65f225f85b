"""Classify scikit-learn's bundled digits over epochs and record what a person looks at afterwards.

A linear classifier (SGDClassifier, log loss) sees the training set once per epoch through
``partial_fit``. Each epoch logs the loss and accuracy, and as media at the same step: the
confusion matrix, ROC and precision-recall curves (one vs rest, ten classes), and the worst
predictions as a table whose first column is the digit's image. The data ships with
scikit-learn (no download); a run takes a second or two.

    python examples/digits_sklearn.py --runs tracker-runs --epochs 15
    python examples/digits_sklearn.py --runs tracker-runs --alpha 0.01 --name strong-l2
    tracker build --runs tracker-runs --out site     # the run page's media panels, and Compare
"""
from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import label_binarize

import tracker

CLASSES = list(range(10))
WORST_ROWS = 12  # rows of the worst-predictions table
IMAGE_SCALE = 4  # each 8x8 digit shown at 32x32: readable as a thumbnail, a few hundred bytes as PNG


def digit_image(pixels: np.ndarray) -> np.ndarray:
    """An 8x8 digit (values 0-16, ink high) as a 32x32 uint8 image, dark ink on white."""
    ink = pixels.reshape(8, 8) / 16.0
    return np.kron(255 - ink * 255, np.ones((IMAGE_SCALE, IMAGE_SCALE))).astype(np.uint8)


def worst_predictions(x: np.ndarray, y: np.ndarray, proba: np.ndarray) -> list[list]:
    """The validation digits the model is most wrong about: the lowest probability on the true class."""
    true_proba = proba[np.arange(len(y)), y]
    rows = []
    for i in np.argsort(true_proba, kind="mergesort")[:WORST_ROWS]:
        predicted = int(proba[i].argmax())
        rows.append([tracker.Image(digit_image(x[i]), caption=f"{y[i]} → {predicted}"),
                     int(y[i]), predicted, round(float(true_proba[i]), 4), round(float(proba[i].max()), 4)])
    return rows


def train(args) -> float:
    """Train, logging every epoch; returns the last validation accuracy."""
    digits = load_digits()
    x_train, x_val, y_train, y_val = train_test_split(
        digits.data, digits.target, test_size=0.25, stratify=digits.target, random_state=args.data_seed)
    scale = 16.0  # pixel values are 0-16: scaled to 0-1 the SGD steps are well sized
    config = {"alpha": args.alpha, "epochs": args.epochs, "seed": args.seed, "data_seed": args.data_seed,
              "model": "SGDClassifier(log_loss)", "train_size": len(y_train), "val_size": len(y_val)}
    model = SGDClassifier(loss="log_loss", alpha=args.alpha, learning_rate="optimal", random_state=args.seed)
    with tracker.init(project=args.project, name=args.name, config=config, dir=args.runs) as run:
        for epoch in range(args.epochs):
            model.partial_fit(x_train / scale, y_train, classes=CLASSES)
            proba = model.predict_proba(x_val / scale)
            predicted = proba.argmax(axis=1)
            val_acc = accuracy_score(y_val, predicted)
            run.log({
                "train/loss": log_loss(y_train, model.predict_proba(x_train / scale), labels=CLASSES),
                "val/loss": log_loss(y_val, proba, labels=CLASSES),
                "val/acc": val_acc,
                # scikit-learn's own numbers beside the charts' (computed by tracker with NumPy)
                "val/auc": roc_auc_score(y_val, proba, multi_class="ovr", labels=CLASSES),
                "val/ap": average_precision_score(label_binarize(y_val, classes=CLASSES), proba, average="macro"),
                "val/worst": tracker.Table(rows=worst_predictions(x_val, y_val, proba),
                                           columns=["digit", "true", "predicted", "p(true)", "p(predicted)"]),
            }, step=epoch)
            run.log_confusion_matrix("val/confusion", y_val, predicted, labels=CLASSES, step=epoch)
            run.log_roc_curve("val/roc", y_val, proba, labels=CLASSES, step=epoch)
            run.log_pr_curve("val/pr", y_val, proba, labels=CLASSES, step=epoch)
        run.summary["val_acc"] = val_acc
    return val_acc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set (default: 15)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty of SGDClassifier (default: 1e-4)")
    parser.add_argument("--seed", type=int, default=0, help="SGD's shuffling seed (default: 0)")
    parser.add_argument("--data-seed", type=int, default=0, help="train/validation split seed (default: 0)")
    parser.add_argument("--project", default="digits", help="tracker project (default: digits)")
    parser.add_argument("--name", default=None, help="run name (default: the run id)")
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")
    return args


if __name__ == "__main__":
    print(f"val_acc {train(parse_args()):.3f}")
