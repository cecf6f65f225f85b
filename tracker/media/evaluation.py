"""Evaluation numbers with NumPy alone: confusion matrices, ROC and precision-recall curves, their areas.

Also the downsampling that keeps a curve's shape in a few hundred points.

The numbers equal scikit-learn's (``confusion_matrix``, ``roc_curve``, ``roc_auc_score``,
``average_precision_score``; tests/test_media_evaluation.py compares them on random and tied
scores), so a page shows what a notebook computes, without scikit-learn installed. A score array of
shape (samples,) is binary; (samples, 2) is binary with column 1 the positive class; (samples, K)
is K classes, one vs the rest, averaged over the classes ("macro").
"""
from __future__ import annotations

import heapq

import numpy as np

from ..errors import MediaValueError

MAX_CURVE_POINTS = 300  # a curve a few hundred pixels wide: more points draw the same line


def class_labels(y_true, y_pred=None, labels=None) -> np.ndarray:
    """The classes, in order: ``labels`` as given, else every value of y_true and y_pred, sorted."""
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) == 0:
            raise MediaValueError("labels", f"has shape {labels.shape}", "a non-empty list of class labels")
        if len(np.unique(labels)) != len(labels):
            raise MediaValueError("labels", "repeats a label", "each class once")
        return labels
    values = np.asarray(y_true) if y_pred is None else np.concatenate([np.asarray(y_true), np.asarray(y_pred)])
    try:
        return np.unique(values)
    except TypeError:  # an object array mixing str and int cannot be sorted
        raise MediaValueError("y_true", "mixes labels of different types", "labels all numbers or all str") from None


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """Counts ``[i, j]`` of samples of class ``labels[i]`` predicted as ``labels[j]``; samples whose
    true or predicted class is not among ``labels`` are not counted (as scikit-learn does)."""
    y_true, y_pred = _same_length(("y_true", y_true), ("y_pred", y_pred))
    labels = class_labels(y_true, y_pred, labels)
    true_index, true_known = _indices(labels, y_true)
    pred_index, pred_known = _indices(labels, y_pred)
    known = true_known & pred_known
    count = len(labels)
    flat = np.bincount(true_index[known] * count + pred_index[known], minlength=count * count)
    return flat.reshape(count, count).astype(np.int64)


def binary_curve_counts(positive: np.ndarray, score: np.ndarray):
    """``(false_positives, true_positives, thresholds)`` at each distinct score, highest first: the
    counts of samples scored at or above the threshold. Tied scores share one threshold."""
    order = np.argsort(score, kind="mergesort")[::-1]
    score = score[order]
    positive = positive[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    true_positives = np.cumsum(positive, dtype=np.int64)[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    return false_positives, true_positives, score[last_of_each_score]


def roc_curve(y_true, y_score, pos_label=None):
    """``(fpr, tpr, thresholds)`` of a binary problem at every distinct score (no point dropped),
    starting at (0, 0) with threshold +inf, as scikit-learn's ``roc_curve(drop_intermediate=False)``."""
    positive, score = _binary(y_true, y_score, pos_label)
    false_positives, true_positives, thresholds = binary_curve_counts(positive, score)
    false_positives = np.r_[0, false_positives]
    true_positives = np.r_[0, true_positives]
    with np.errstate(divide="ignore", invalid="ignore"):  # one class only: the rates are undefined (NaN)
        fpr = false_positives / false_positives[-1]
        tpr = true_positives / true_positives[-1]
    return fpr, tpr, np.r_[np.inf, thresholds]


def pr_curve(y_true, y_score, pos_label=None):
    """``(precision, recall, thresholds)`` of a binary problem at every distinct score, lowest
    threshold first, as scikit-learn's ``precision_recall_curve`` (1.5 and later): recall
    decreasing to a last point (recall 0, precision 1 by convention) with no threshold."""
    positive, score = _binary(y_true, y_score, pos_label)
    false_positives, true_positives, thresholds = binary_curve_counts(positive, score)
    # Every threshold has a sample at or above it, so precision's denominator is never 0.
    precision = true_positives / (true_positives + false_positives)
    with np.errstate(divide="ignore", invalid="ignore"):  # no positive sample: recall is undefined (NaN)
        recall = true_positives / true_positives[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def area_under_curve(x, y) -> float:
    """The trapezoid area under a curve given point by point."""
    return float(np.sum(np.diff(x) * (np.asarray(y)[1:] + np.asarray(y)[:-1]) / 2))


def roc_area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """The area under a ROC curve from roc_curve; NaN when its rates are undefined (one class only)."""
    return area_under_curve(fpr, tpr) if np.isfinite(fpr[-1]) and np.isfinite(tpr[-1]) else float("nan")


def precision_area(precision: np.ndarray, recall: np.ndarray) -> float:
    """Average precision, the step-wise area under a PR curve from pr_curve: each precision times
    the recall gained at its threshold; NaN when recall is undefined (no positive sample)."""
    if not np.isfinite(recall).all():
        return float("nan")
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


def binary_roc_auc(y_true, y_score, pos_label=None) -> float:
    """The area under the ROC curve of a binary problem; NaN when y_true holds one class only."""
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label)
    return roc_area(fpr, tpr)


def binary_average_precision(y_true, y_score, pos_label=None) -> float:
    """Average precision of a binary problem; NaN when y_true has no positive sample."""
    precision, recall, _ = pr_curve(y_true, y_score, pos_label)
    return precision_area(precision, recall)


def one_vs_rest(y_true, y_score, labels=None) -> list[tuple[object, np.ndarray, np.ndarray]]:
    """``[(label, is_that_class, score_of_that_class)]``: one binary problem per class (a single one,
    for the positive class, when the scores are binary)."""
    y_true, y_score = _same_length(("y_true", y_true), ("y_score", y_score))
    y_score = _finite_scores(y_score)
    if y_score.ndim == 1 or (y_score.ndim == 2 and y_score.shape[1] == 2):
        positive = _positive_label(y_true, labels)
        score = y_score if y_score.ndim == 1 else y_score[:, 1]
        return [(positive, y_true == positive, score)]
    if y_score.ndim != 2:
        raise MediaValueError("y_score", f"has shape {y_score.shape}", "(samples,) or (samples, classes)")
    labels = class_labels(y_true, labels=labels)
    if len(labels) != y_score.shape[1]:
        raise MediaValueError("y_score", f"has {y_score.shape[1]} columns for {len(labels)} classes "
                              f"({_shown(labels)})", "one column per class; pass labels, in column order")
    return [(label, y_true == label, y_score[:, column]) for column, label in enumerate(labels)]


def roc_auc(y_true, y_score, labels=None) -> float:
    """ROC AUC: of the positive class for binary scores; else the mean over classes of each class
    against the rest (scikit-learn's ``roc_auc_score(multi_class="ovr", average="macro")``).
    Classes absent from y_true have no AUC and are left out of the mean."""
    return mean_of_defined([binary_roc_auc(is_class, score, True)
                            for _, is_class, score in one_vs_rest(y_true, y_score, labels)])


def average_precision(y_true, y_score, labels=None) -> float:
    """Average precision: of the positive class for binary scores; else the mean over classes
    (scikit-learn's ``average_precision_score`` on binarised labels, ``average="macro"``)."""
    return mean_of_defined([binary_average_precision(is_class, score, True)
                            for _, is_class, score in one_vs_rest(y_true, y_score, labels)])


def mean_of_defined(values: list[float]) -> float:
    """The mean of the values that are not NaN (the classes whose area is defined); NaN if none is."""
    defined = [value for value in values if not np.isnan(value)]
    return float(np.mean(defined)) if defined else float("nan")


def downsample_curve(x, y, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices of at most ``max_points`` points of a curve that keep its shape, in order.

    The ends and the extremes of y are always kept; then, greedily, the point farthest from the
    line drawn so far (Ramer-Douglas-Peucker, split where the error is largest first), on axes
    scaled to the curve's range so both directions count alike. Points on a straight stretch add
    nothing and are never chosen, so a staircase keeps its corners.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    count = len(x)
    if count <= max_points:
        return np.arange(count)
    x = (x - x.min()) / (np.ptp(x) or 1.0)
    y = (y - y.min()) / (np.ptp(y) or 1.0)
    kept = sorted({0, count - 1, int(np.argmin(y)), int(np.argmax(y))})
    worst = []  # heap of (-distance, start, end, farthest index) for each stretch between kept points

    def split(start: int, end: int) -> None:
        if end - start < 2:
            return
        dx, dy = x[end] - x[start], y[end] - y[start]
        inner = slice(start + 1, end)
        length = np.hypot(dx, dy)
        if length == 0:
            distance = np.hypot(x[inner] - x[start], y[inner] - y[start])
        else:
            distance = np.abs(dx * (y[inner] - y[start]) - dy * (x[inner] - x[start])) / length
        farthest = int(np.argmax(distance))
        if distance[farthest] > 0:
            heapq.heappush(worst, (-float(distance[farthest]), start, end, start + 1 + farthest))

    for start, end in zip(kept, kept[1:]):
        split(start, end)
    chosen = set(kept)
    while worst and len(chosen) < max_points:
        _, start, end, index = heapq.heappop(worst)
        chosen.add(index)
        split(start, index)
        split(index, end)
    return np.array(sorted(chosen))


def _binary(y_true, y_score, pos_label):
    """A binary problem as (is_positive, score); the positive class is pos_label, else as
    _positive_label picks it."""
    y_true, y_score = _same_length(("y_true", y_true), ("y_score", y_score))
    y_score = _finite_scores(y_score)
    if y_score.ndim != 1:
        raise MediaValueError("y_score", f"has shape {y_score.shape}", "one score per sample")
    if pos_label is None:
        pos_label = _positive_label(y_true)
    return y_true == pos_label, y_score


def _positive_label(y_true: np.ndarray, labels=None):
    """The positive class of a binary problem: the second of ``labels``; else 1 (or True) when the
    labels are 0/1, even if y_true holds only one of them; else the later of two in sorted order."""
    labels = class_labels(y_true, labels=labels)
    if len(labels) > 2:
        raise MediaValueError("y_true", f"has {len(labels)} classes ({_shown(labels)})",
                              "two classes for one column of scores, or one score column per class")
    if len(labels) == 1 and labels.dtype.kind in "biuf" and labels[0] in (0, 1):
        return labels.dtype.type(1)
    return labels[-1]


def _same_length(*named):
    arrays = [np.asarray(value) for _, value in named]
    if any(array.ndim == 0 for array in arrays) or len({len(array) for array in arrays}) != 1:
        (first, _), (second, _) = named
        raise MediaValueError(second, f"has shape {arrays[1].shape} for {first} of shape {arrays[0].shape}",
                              f"one value per sample of {first}")
    return arrays


def _finite_scores(y_score: np.ndarray) -> np.ndarray:
    if y_score.dtype.kind not in "biuf":
        raise MediaValueError("y_score", f"has dtype {y_score.dtype}", "numeric scores")
    if y_score.dtype.kind == "f" and not np.isfinite(y_score).all():
        raise MediaValueError("y_score", "holds NaN or infinite values", "finite scores")
    return y_score


def _indices(labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position in ``labels`` (which need not be sorted), and whether it is there at all."""
    order = np.argsort(labels, kind="mergesort")
    ordered = labels[order]
    try:
        at = np.searchsorted(ordered, values).clip(0, len(labels) - 1)
    except TypeError:
        raise MediaValueError("labels", f"({_shown(labels)}) are not of the type of y_true's values",
                              "labels of the same type as y_true") from None
    return order[at], ordered[at] == values




def _shown(labels) -> str:
    items = [repr(label) for label in labels.tolist()[:5]]
    return ", ".join(items) + (", ..." if len(labels) > 5 else "")
