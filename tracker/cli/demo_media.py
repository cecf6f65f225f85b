"""Media for a demo run: per epoch the decision boundary as images, a confusion matrix, ROC and PR curves, the worst predictions.

The demo's training process imports this module only when NumPy is installed (the evaluation
charts compute with it, and the boundary images are arrays): in a light install the demo logs its
metrics without media. Everything here is drawn with NumPy alone, no Pillow or matplotlib, and
costs a few milliseconds an epoch, so the sweep stays as fast as without media.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import tracker

BOUNDARY_PIXELS = 64  # a side of each boundary image: enough to see the moons bend, tiny as PNG
PLANE = (-1.6, 2.6, -1.1, 1.6)  # x min, x max, y min, y max: the half-moons with a margin
WORST_ROWS = 8  # rows of the worst-predictions table
# Colours (RGB 0-1) of the two classes, of their mix at p = 0.5, and of a misclassified point.
CLASS_COLOURS = np.array([[0.20, 0.40, 0.80], [0.95, 0.55, 0.15]])
MIDDLE_COLOUR = np.array([0.97, 0.97, 0.97])
ERROR_COLOUR = np.array([0.85, 0.10, 0.10])

Point = tuple[float, float, int]


def log_epoch(run: tracker.Run, epoch: int, weights: Sequence[float], valid_set: Sequence[Point],
              features: Callable) -> None:
    """Log the epoch's media at step ``epoch``, the step of its metrics.

    ``features(x, y)`` is the demo's feature list; it is written with plain arithmetic, so it takes
    NumPy arrays as well as numbers and the whole grid is scored at once.
    """
    points = np.array([(x, y) for x, y, _ in valid_set])
    labels = np.array([label for _, _, label in valid_set])
    weights = np.asarray(weights, dtype=np.float64)
    scores = _probabilities(weights, points[:, 0], points[:, 1], features)
    predicted = (scores > 0.5).astype(int)
    errors = int((predicted != labels).sum())

    field = _probability_field(weights, features)
    run.log({"valid/boundary": [
        tracker.Image(_with_points(_shaded(field), points, labels, predicted),
                      caption=f"epoch {epoch}: p(moon 1), {errors} of {len(labels)} misclassified"),
        tracker.Image(_with_points(_shaded(np.round(field)), points, labels, predicted),
                      caption=f"epoch {epoch}: decision at p = 0.5"),
    ]}, step=epoch)
    run.log_confusion_matrix("valid/confusion", labels, predicted, labels=[0, 1], step=epoch)
    run.log_roc_curve("valid/roc", labels, scores, labels=[0, 1], step=epoch)
    run.log_pr_curve("valid/pr", labels, scores, labels=[0, 1], step=epoch)
    run.log_table("valid/worst", rows=_worst_rows(points, labels, scores), step=epoch,
                  columns=["x", "y", "label", "p(moon 1)", "loss"])


def _probabilities(weights: np.ndarray, x: np.ndarray, y: np.ndarray, features: Callable) -> np.ndarray:
    # a sum of six arrays: np.tensordot would call BLAS, whose threads cost more than the sum
    z = sum(weight * term for weight, term in zip(weights, features(x, y)))
    return 1 / (1 + np.exp(-np.clip(z, -60.0, 60.0)))


def _probability_field(weights: np.ndarray, features: Callable) -> np.ndarray:
    """p(moon 1) on a BOUNDARY_PIXELS square grid over PLANE, the image's top row at the top of the plane."""
    x_min, x_max, y_min, y_max = PLANE
    x, y = np.meshgrid(np.linspace(x_min, x_max, BOUNDARY_PIXELS), np.linspace(y_max, y_min, BOUNDARY_PIXELS))
    return _probabilities(weights, x, y, features)


def _shaded(probability: np.ndarray) -> np.ndarray:
    """An HxWx3 float image: class 0's colour at p = 0, through light grey at 0.5, to class 1's at 1."""
    p = probability[..., None]
    towards_one = MIDDLE_COLOUR + (CLASS_COLOURS[1] - MIDDLE_COLOUR) * np.clip(2 * p - 1, 0, 1)
    towards_zero = MIDDLE_COLOUR + (CLASS_COLOURS[0] - MIDDLE_COLOUR) * np.clip(1 - 2 * p, 0, 1)
    return np.where(p >= 0.5, towards_one, towards_zero)


def _with_points(image: np.ndarray, points: np.ndarray, labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The validation points as 2x2 dots in a darker shade of their class, misclassified ones in red."""
    x_min, x_max, y_min, y_max = PLANE
    side = BOUNDARY_PIXELS
    columns = np.clip(((points[:, 0] - x_min) / (x_max - x_min) * (side - 1)).astype(int), 0, side - 2)
    rows = np.clip(((y_max - points[:, 1]) / (y_max - y_min) * (side - 1)).astype(int), 0, side - 2)
    colours = np.where((labels == predicted)[:, None], CLASS_COLOURS[labels] * 0.6, ERROR_COLOUR)
    for d_row in (0, 1):
        for d_column in (0, 1):
            image[rows + d_row, columns + d_column] = colours
    return image


def _worst_rows(points: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> list[list]:
    """The WORST_ROWS validation points of highest log loss, worst first."""
    chance = np.where(labels == 1, scores, 1 - scores)
    loss = -np.log(np.clip(chance, 1e-12, 1.0))
    order = np.argsort(-loss, kind="mergesort")[:WORST_ROWS]
    return [[round(float(points[i, 0]), 3), round(float(points[i, 1]), 3), int(labels[i]),
             round(float(scores[i]), 4), round(float(loss[i]), 4)] for i in order]
