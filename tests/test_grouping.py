"""Groups of runs in Python (tracker/grouping.py) against NumPy: the aggregates and bands of the cases
of tests/contracts/aggregate.json (which test_contracts.py and test_contracts_js.py run on both sides)
equal numpy.mean, numpy.std (ddof=0) and numpy.interp."""
from __future__ import annotations

import math

import numpy
import pytest

from test_contracts import AGGREGATE, as_read, named
from tracker.grouping import aggregate, band, band_bounds


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
