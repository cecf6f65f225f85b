"""Evaluation charts as media objects: confusion matrix, ROC and precision-recall curves, feature importance.

The call copies the labels and scores; ``encode()`` computes (evaluation.py) and writes the
chart's numbers as JSON, with the areas in the record so pages and filters need not open the file.
"""
from __future__ import annotations

import json
import math

import numpy as np

from . import evaluation
from .base import Encoded, Media, bounded_text
from ..errors import ArgumentTypeError, MediaValueError

MAX_CLASSES = 1_000  # a confusion matrix of 1,000 classes is a million cells: about as much as a page can draw
MAX_CURVE_CLASSES = 100  # one curve per class, one vs the rest: past this a chart is a smudge
MAX_FEATURES = 1_000  # feature importance bars: the largest by magnitude are kept
MAX_LABEL_CHARS = 200


class ConfusionMatrix(Media):
    """``ConfusionMatrix(y_true, y_pred, labels=None)``: counts of true class (rows) by predicted
    class (columns), classes in ``labels`` order (default: every class seen, sorted)."""

    kind = "confusion_matrix"

    def __init__(self, y_true, y_pred, labels=None):
        self._y_true, self._y_pred = _copies(("y_true", y_true), ("y_pred", y_pred))
        self._labels = _copies(("labels", labels))[0] if labels is not None else None

    def encode(self) -> Encoded:
        labels = evaluation.class_labels(self._y_true, self._y_pred, self._labels)
        if len(labels) > MAX_CLASSES:
            raise MediaValueError("y_true and y_pred", f"hold {len(labels):,} classes", f"at most {MAX_CLASSES:,}")
        matrix = evaluation.confusion_matrix(self._y_true, self._y_pred, labels)
        counted = int(matrix.sum())
        document = {"labels": _label_texts(labels), "matrix": matrix.tolist()}
        fields = {"kind": self.kind, "classes": len(labels), "samples": counted,
                  "accuracy": float(matrix.trace() / counted) if counted else None}
        return Encoded(_json(document), "json", fields)


class _Curves(Media):
    """One curve per class (one for binary scores): what ROC and PR curves share."""

    def __init__(self, y_true, y_score, labels=None):
        self._y_true, self._y_score = _copies(("y_true", y_true), ("y_score", y_score))
        self._labels = _copies(("labels", labels))[0] if labels is not None else None
        if self._y_score.ndim == 2 and self._y_score.shape[1] > MAX_CURVE_CLASSES:
            raise MediaValueError("y_score", f"has {self._y_score.shape[1]} classes",
                                  f"at most {MAX_CURVE_CLASSES} (one curve each)")

    def encode(self) -> Encoded:
        curves = [self._curve(label, is_class, score)
                  for label, is_class, score in evaluation.one_vs_rest(self._y_true, self._y_score, self._labels)]
        mean_area = _number(evaluation.mean_of_defined([curve[self.area] if curve[self.area] is not None
                                                        else math.nan for curve in curves]))
        fields = {"kind": self.kind, "classes": len(curves), self.area: mean_area}
        return Encoded(_json({"curves": curves, self.area: mean_area}), "json", fields)


class RocCurve(_Curves):
    """``RocCurve(y_true, y_score, labels=None)``: ROC curves with their AUC, the mean over classes
    one vs the rest for multi-class scores (columns in ``labels`` order); each curve downsampled
    to MAX_CURVE_POINTS points that keep its shape, the AUC computed on every point."""

    kind = "roc_curve"
    area = "auc"

    def _curve(self, label, is_class, score) -> dict:
        fpr, tpr, _ = evaluation.roc_curve(is_class, score, True)
        auc = evaluation.roc_area(fpr, tpr)
        kept = evaluation.downsample_curve(fpr, tpr) if math.isfinite(auc) else []
        return {"label": _label_texts([label])[0], "auc": _number(auc), "positives": int(is_class.sum()),
                "points": len(fpr), "fpr": fpr[kept].tolist(), "tpr": tpr[kept].tolist()}


class PrCurve(_Curves):
    """``PrCurve(y_true, y_score, labels=None)``: precision-recall curves with their average
    precision, as RocCurve does for ROC."""

    kind = "pr_curve"
    area = "average_precision"

    def _curve(self, label, is_class, score) -> dict:
        precision, recall, _ = evaluation.pr_curve(is_class, score, True)
        average = evaluation.precision_area(precision, recall)
        kept = evaluation.downsample_curve(recall, precision) if math.isfinite(average) else []
        return {"label": _label_texts([label])[0], "average_precision": _number(average),
                "positives": int(is_class.sum()), "points": len(recall),
                "recall": recall[kept].tolist(), "precision": precision[kept].tolist()}


class FeatureImportance(Media):
    """``FeatureImportance(names, values)``: one bar per feature, largest magnitude first; past
    MAX_FEATURES the smallest are dropped and counted."""

    kind = "feature_importance"

    def __init__(self, names, values):
        if isinstance(names, (str, bytes)) or not hasattr(names, "__len__"):
            raise ArgumentTypeError("names", names, "a list of feature names")
        self._names = [bounded_text(str(name), MAX_LABEL_CHARS)[0] for name in names]
        (self._values,) = _copies(("values", values))
        if self._values.shape != (len(self._names),):
            raise MediaValueError("values", f"has shape {self._values.shape} for {len(self._names)} names",
                                  "one number per name")
        if self._values.dtype.kind not in "biuf":
            raise MediaValueError("values", f"has dtype {self._values.dtype}", "numbers")
        self._values = self._values.astype(np.float64)  # one value per feature: cheap to check at the call
        if not np.isfinite(self._values).all():
            raise MediaValueError("values", "hold NaN or infinite values", "finite numbers")

    def encode(self) -> Encoded:
        values = self._values
        order = np.argsort(-np.abs(values), kind="mergesort")[:MAX_FEATURES]
        features = [{"name": self._names[index], "value": float(values[index])} for index in order.tolist()]
        fields = {"kind": self.kind, "features": len(features), "dropped": len(values) - len(features)}
        return Encoded(_json({"features": features}), "json", fields)


def _copies(*named):
    """Private NumPy copies of the arrays, refused at the call when they are not arrays of values."""
    copies = []
    for argument, value in named:
        try:
            array = np.array(value, copy=True)
        except Exception as exc:
            raise ArgumentTypeError(argument, value, f"an array or list ({exc})") from None
        if array.ndim == 0 or array.dtype.kind not in "biufUSO":
            raise ArgumentTypeError(argument, value, "an array or list of labels or scores")
        copies.append(array)
    if len(copies) == 2 and len(copies[0]) != len(copies[1]):
        raise MediaValueError(named[1][0], f"has {len(copies[1])} values for {len(copies[0])} in {named[0][0]}",
                              "one per sample")
    return copies


def _label_texts(labels) -> list:
    """Labels as JSON values: numbers and bools stay, anything else is bounded text."""
    shown = []
    for label in labels:
        label = label.item() if isinstance(label, np.generic) else label
        if isinstance(label, (bool, int)) or (isinstance(label, float) and math.isfinite(label)):
            shown.append(label)
        else:
            shown.append(bounded_text(str(label), MAX_LABEL_CHARS)[0])
    return shown


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
