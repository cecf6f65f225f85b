"""Evaluation numbers (tracker/media/evaluation.py) equal scikit-learn's on random and tied data,
and the chart objects (tracker/media/charts.py) store them with curves that keep their shape."""
import json

import numpy as np
import pytest
from sklearn import metrics

from tracker.errors import MediaValueError
from tracker.media import ConfusionMatrix, FeatureImportance, PrCurve, RocCurve
from tracker.media.charts import MAX_FEATURES
from tracker.media.evaluation import (MAX_CURVE_POINTS, area_under_curve, average_precision, confusion_matrix,
                                      downsample_curve, pr_curve, roc_auc, roc_curve)

SEEDS = range(5)


def binary_data(seed: int, tied: bool, size: int = 400):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, size)
    y_score = rng.random(size) + 0.3 * y_true
    return y_true, (np.round(y_score, 1) if tied else y_score)


def multiclass_data(seed: int, classes: int = 4, size: int = 500, tied: bool = False):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, size)
    logits = rng.normal(size=(size, classes)) + np.eye(classes)[y_true]
    if tied:
        logits = np.round(logits)
    scores = np.exp(logits)
    return y_true, scores / scores.sum(axis=1, keepdims=True)


# --- confusion matrix ---

@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_matrix_equals_sklearns(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 5, 300), rng.integers(0, 6, 300)
    assert np.array_equal(confusion_matrix(y_true, y_pred), metrics.confusion_matrix(y_true, y_pred))


def test_confusion_matrix_with_labels_in_a_given_order_and_a_missing_one_as_sklearn_counts_it():
    y_true = ["cat", "dog", "dog", "bird", "cat", "fish"]
    y_pred = ["dog", "dog", "cat", "bird", "cat", "cat"]
    labels = ["dog", "cat", "bird", "emu"]  # fish is left out, emu never occurs
    assert np.array_equal(confusion_matrix(y_true, y_pred, labels),
                          metrics.confusion_matrix(y_true, y_pred, labels=labels))
    assert np.array_equal(confusion_matrix(y_true, y_pred), metrics.confusion_matrix(y_true, y_pred))


# --- ROC ---

@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_roc_curve_and_auc_equal_sklearns(seed, tied):
    y_true, y_score = binary_data(seed, tied)
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    expected = metrics.roc_curve(y_true, y_score, drop_intermediate=False)
    for ours, theirs in zip((fpr, tpr, thresholds), expected):
        assert np.allclose(ours, theirs, rtol=0, atol=1e-15)
    assert roc_auc(y_true, y_score) == pytest.approx(metrics.roc_auc_score(y_true, y_score), abs=1e-12)


def test_binary_scores_as_two_columns_use_the_second_and_labels_may_be_text():
    y_true, y_score = binary_data(1, tied=True)
    two_columns = np.column_stack([1 - y_score, y_score])
    assert roc_auc(y_true, two_columns) == pytest.approx(metrics.roc_auc_score(y_true, y_score), abs=1e-12)
    names = np.array(["neg", "pos"])[y_true]
    assert roc_auc(names, y_score) == pytest.approx(metrics.roc_auc_score(y_true, y_score), abs=1e-12)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_roc_auc_one_vs_rest_macro_equals_sklearns(seed, tied):
    y_true, y_score = multiclass_data(seed, tied=tied)
    expected = metrics.roc_auc_score(y_true, y_score, multi_class="ovr", average="macro")
    assert roc_auc(y_true, y_score) == pytest.approx(expected, abs=1e-12)


def test_multiclass_labels_name_the_score_columns_in_order():
    y_true, y_score = multiclass_data(3, classes=3)
    names = np.array(["zebra", "ant", "moose"])  # column order, not sorted order (which sklearn requires)
    per_class = [metrics.roc_auc_score(y_true == column, y_score[:, column]) for column in range(3)]
    assert roc_auc(names[y_true], y_score, labels=names) == pytest.approx(np.mean(per_class), abs=1e-12)
    assert roc_auc(names[y_true], y_score[:, [1, 2, 0]], labels=names[[1, 2, 0]]) == pytest.approx(np.mean(per_class))
    assert roc_auc(names[y_true], y_score, labels=["ant", "moose", "zebra"]) != pytest.approx(np.mean(per_class))
    with pytest.raises(MediaValueError, match=r"^y_score has 3 columns for 2 classes \(0, 1\), expected one column per "
                                              r"class; pass labels, in column order"):
        roc_auc(y_true % 2, y_score)


def test_auc_of_one_class_only_is_nan_and_bad_scores_are_refused():
    assert np.isnan(roc_auc([1, 1, 1], [0.2, 0.5, 0.9]))
    [curve] = json.loads(RocCurve([0, 0, 0], [0.2, 0.5, 0.9]).encode().data)["curves"]
    assert (curve["label"], curve["positives"], curve["auc"], curve["fpr"]) == (1, 0, None, [])  # 1 stays positive
    with pytest.raises(MediaValueError, match=r"^y_true has 3 classes \(0, 1, 2\), expected two classes for one column"):
        roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(MediaValueError, match="^y_score holds NaN or infinite values"):
        roc_auc([0, 1], [0.5, np.nan])
    with pytest.raises(MediaValueError, match=r"^y_score has shape \(3,\) for y_true of shape \(2,\)"):
        roc_auc([0, 1], [0.5, 0.2, 0.1])


# --- precision-recall ---

@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_pr_curve_and_average_precision_equal_sklearns(seed, tied):
    y_true, y_score = binary_data(seed, tied)
    precision, recall, thresholds = pr_curve(y_true, y_score)
    expected = metrics.precision_recall_curve(y_true, y_score)
    for ours, theirs in zip((precision, recall, thresholds), expected):
        assert np.allclose(ours, theirs, rtol=0, atol=1e-15)
    assert average_precision(y_true, y_score) == pytest.approx(metrics.average_precision_score(y_true, y_score),
                                                               abs=1e-12)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_average_precision_macro_equals_sklearns(seed, tied):
    y_true, y_score = multiclass_data(seed, tied=tied)
    expected = metrics.average_precision_score(y_true, y_score, average="macro")
    assert average_precision(y_true, y_score) == pytest.approx(expected, abs=1e-12)


# --- downsampling ---

def test_a_long_curve_is_downsampled_keeping_its_ends_its_extremes_and_its_area():
    y_true, y_score = binary_data(0, tied=False, size=200_000)
    fpr, tpr, _ = roc_curve(y_true, y_score)
    kept = downsample_curve(fpr, tpr)
    assert len(kept) == MAX_CURVE_POINTS and kept[0] == 0 and kept[-1] == len(fpr) - 1
    assert np.all(np.diff(kept) > 0)
    assert area_under_curve(fpr[kept], tpr[kept]) == pytest.approx(area_under_curve(fpr, tpr), abs=2e-3)
    precision, recall, _ = pr_curve(y_true, y_score)
    kept = downsample_curve(recall, precision)
    assert {int(np.argmax(precision)), int(np.argmin(precision))} <= set(kept.tolist())


def test_a_staircase_keeps_exactly_its_corners_not_the_points_along_its_straight_stretches():
    corners = [(0, 0), (0, 3), (2, 3), (2, 7), (5, 7), (5, 10), (10, 10)]
    x, y, corner_index = [], [], []
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        corner_index.append(len(x))
        steps = np.linspace(0, 1, 200, endpoint=False)
        x += list(x0 + (x1 - x0) * steps)
        y += list(y0 + (y1 - y0) * steps)
    corner_index.append(len(x))
    x.append(10), y.append(10)
    assert downsample_curve(x, y, max_points=50).tolist() == corner_index


def test_a_short_curve_is_kept_whole():
    assert downsample_curve([0, 0.5, 1], [0, 0.9, 1]).tolist() == [0, 1, 2]


# --- chart objects ---

def test_a_confusion_matrix_chart_stores_sklearns_counts_with_its_labels():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    expected = metrics.confusion_matrix(y_true, y_pred, labels=[2, 0, 1])
    chart = ConfusionMatrix(y_true, y_pred, labels=[2, 0, 1])
    y_true[:] = 0  # copied at the call
    encoded = chart.encode()
    document = json.loads(encoded.data)
    assert document == {"labels": [2, 0, 1], "matrix": expected.tolist()}
    assert encoded.fields == {"kind": "confusion_matrix", "classes": 3, "samples": 200,
                              "accuracy": float(np.trace(expected) / 200)}


def test_a_roc_chart_stores_each_class_curve_downsampled_and_the_auc_of_all_points():
    y_true, y_score = multiclass_data(2, classes=3, size=5_000)
    names = np.array(["<b>cat</b>", "dog", "emu"])
    encoded = RocCurve(names[y_true], y_score, labels=names).encode()
    document = json.loads(encoded.data)
    expected = metrics.roc_auc_score(y_true, y_score, multi_class="ovr")
    assert encoded.fields == {"kind": "roc_curve", "classes": 3, "auc": pytest.approx(expected, abs=1e-12)}
    assert encoded.fields["auc"] == roc_auc(y_true, y_score) == document["auc"]
    assert [curve["label"] for curve in document["curves"]] == ["<b>cat</b>", "dog", "emu"]
    for column, curve in enumerate(document["curves"]):
        assert curve["auc"] == pytest.approx(metrics.roc_auc_score(y_true == column, y_score[:, column]), abs=1e-12)
        assert len(curve["fpr"]) == len(curve["tpr"]) <= MAX_CURVE_POINTS < curve["points"]
        assert (curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]) == (0, 0, 1, 1)


def test_a_pr_chart_stores_the_average_precision_and_a_class_without_samples_has_none():
    y_true, y_score = multiclass_data(5, classes=3)
    y_true[y_true == 2] = 0  # class 2 never occurs: its precision-recall curve is undefined
    encoded = PrCurve(y_true, y_score, labels=[0, 1, 2]).encode()
    document = json.loads(encoded.data)
    per_class = [metrics.average_precision_score(y_true == column, y_score[:, column]) for column in (0, 1)]
    assert [curve["average_precision"] for curve in document["curves"]] == [pytest.approx(value, abs=1e-12)
                                                                            for value in per_class] + [None]
    assert document["curves"][2]["recall"] == [] and document["curves"][2]["positives"] == 0
    assert encoded.fields["average_precision"] == pytest.approx(np.mean(per_class), abs=1e-12)


def test_feature_importance_is_sorted_by_magnitude_and_capped():
    encoded = FeatureImportance(["age", "<i>income</i>", "zip"], np.array([0.1, -0.7, 0.3])).encode()
    assert json.loads(encoded.data)["features"] == [{"name": "<i>income</i>", "value": -0.7},
                                                    {"name": "zip", "value": 0.3}, {"name": "age", "value": 0.1}]
    many = FeatureImportance([f"f{index}" for index in range(MAX_FEATURES + 5)], np.arange(MAX_FEATURES + 5.0)).encode()
    assert many.fields == {"kind": "feature_importance", "features": MAX_FEATURES, "dropped": 5}
    assert json.loads(many.data)["features"][0] == {"name": f"f{MAX_FEATURES + 4}", "value": MAX_FEATURES + 4.0}
    with pytest.raises(MediaValueError, match=r"^values has shape \(2,\) for 3 names, expected one number per name"):
        FeatureImportance(["a", "b", "c"], [1, 2])
    with pytest.raises(MediaValueError, match=r"^values hold NaN or infinite values, expected finite numbers"):
        FeatureImportance(["a"], [np.nan])
