"""Groups of runs in Python (tracker/grouping.py): the cases of tests/contracts/aggregate.json
(test_grouping_js.py runs them in Chromium), and the numbers against NumPy's."""
from __future__ import annotations

import math

import numpy
import pytest

from test_contracts import as_read, contract, named
from tracker.grouping import NONE, aggregate, band, band_bounds, group_rows

AGGREGATE = contract("aggregate")


def close(actual, expected) -> bool:
    """Equal, numbers to 12 significant digits (the contract's precision), in lists and dicts alike."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(close(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(close, actual, expected))
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-300) or (math.isnan(actual) and math.isnan(expected))
    return actual == expected


def test_the_none_group_is_the_contracts():
    assert NONE == AGGREGATE["none"]


@pytest.mark.parametrize("values", ["as in the index", "as read"])
@pytest.mark.parametrize("case", AGGREGATE["aggregate"], ids=named)
def test_aggregate(case, values):
    given = case["values"] if values == "as in the index" else as_read(case["values"])
    assert close(aggregate(given), case["expected"]), aggregate(given)


@pytest.mark.parametrize("case", AGGREGATE["aggregate"], ids=named)
def test_aggregate_equals_numpy(case):
    finite = [value for value in as_read(case["values"])
              if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)]
    result = aggregate(case["values"])
    if not finite:
        assert result["mean"] is None and result["count"] == 0
        return
    array = numpy.array(finite, dtype=float)
    assert result["mean"] == pytest.approx(numpy.mean(array), rel=1e-12)
    assert result["std"] == pytest.approx(numpy.std(array), rel=1e-12, abs=1e-12)
    assert result["stderr"] == pytest.approx(numpy.std(array) / math.sqrt(len(array)), rel=1e-12, abs=1e-12)
    assert (result["min"], result["max"], result["count"]) == (array.min(), array.max(), len(array))


@pytest.mark.parametrize("case", AGGREGATE["group"], ids=named)
def test_group_rows(case):
    groups = group_rows(as_read(case["runs"]), case["fields"])
    assert [{"key": list(group.key), "runs": [row["id"] for row in group.rows]} for group in groups] == case["groups"]


@pytest.mark.parametrize("case", AGGREGATE["band"], ids=named)
def test_band(case):
    result = band([(series["steps"], as_read(series["values"])) for series in case["series"]])
    assert close(result, case["expected"]), result
    for kind, expected in case["bounds"].items():
        assert close([list(side) for side in band_bounds(result, kind)], expected), kind


@pytest.mark.parametrize("case", AGGREGATE["band"], ids=named)
def test_band_equals_numpy_interpolation(case):
    """Each run through numpy.interp inside its own steps, then NumPy's mean and std per step."""
    runs = []
    for series in case["series"]:
        points = [(step, value) for step, value in zip(series["steps"], as_read(series["values"])) if math.isfinite(value)]
        if points:
            runs.append(numpy.array(points, dtype=float))
    result = band([(series["steps"], series["values"]) for series in case["series"]])
    for index, step in enumerate(result["steps"]):
        values = [numpy.interp(step, points[:, 0], points[:, 1]) for points in runs if points[0, 0] <= step <= points[-1, 0]]
        assert result["count"][index] == len(values)
        assert result["mean"][index] == pytest.approx(numpy.mean(values), rel=1e-12)
        assert result["std"][index] == pytest.approx(numpy.std(values), rel=1e-12, abs=1e-12)


def test_an_unknown_band_names_the_choices():
    with pytest.raises(ValueError, match="unknown band 'iqr'; choose one of std, minmax, stderr"):
        band_bounds(band([([0], [1.0])]), "iqr")
