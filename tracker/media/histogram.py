"""``Histogram``: a distribution at one step (predictions, weights, gradients), as counts over bins.

Values are copied at the call and binned by ``encode()``; or the script passes counts and edges it
computed itself. NaN and infinite values cannot be placed in a bin: they are counted apart.
"""
from __future__ import annotations

import json

from .base import Encoded, Media
from ..errors import ArgumentTypeError, MediaValueError

MAX_HISTOGRAM_BINS = 512  # a distribution drawn a few hundred pixels wide needs no more
DEFAULT_BINS = 64


class Histogram(Media):
    """``Histogram(values=None, counts=None, edges=None, bins=64)``: pass ``values`` (any shape, flattened)
    to be binned into ``bins`` equal bins, or ``counts`` with their ``edges`` (one more edge than counts)."""

    kind = "histogram"

    def __init__(self, values=None, counts=None, edges=None, bins: int = DEFAULT_BINS):
        import numpy as np  # histograms are computed with NumPy; a script that has values has NumPy

        if isinstance(bins, bool) or not isinstance(bins, int):
            raise ArgumentTypeError("bins", bins, "an int")
        if not 1 <= bins <= MAX_HISTOGRAM_BINS:
            raise MediaValueError("bins", f"is {bins}", f"1 to {MAX_HISTOGRAM_BINS}")
        self.bins = bins
        if values is not None:
            if counts is not None or edges is not None:
                raise MediaValueError("Histogram()", "was given values with counts or edges",
                                      "either values, or counts and edges")
            self._values = _numbers("values", values, np).ravel()
            self._counts = self._edges = None
        elif counts is not None and edges is not None:
            self._values = None
            self._counts = _numbers("counts", counts, np).ravel()
            self._edges = _numbers("edges", edges, np).ravel()
            if not 1 <= len(self._counts) <= MAX_HISTOGRAM_BINS:
                raise MediaValueError("counts", f"has {len(self._counts)} bins", f"1 to {MAX_HISTOGRAM_BINS}")
            if len(self._edges) != len(self._counts) + 1:
                raise MediaValueError("edges", f"has {len(self._edges)} values for {len(self._counts)} counts",
                                      "one more edge than counts")
            # At most MAX_HISTOGRAM_BINS + 1 values: checked at the call, where a mistake is raised.
            if not (np.isfinite(self._counts).all() and (self._counts >= 0).all()):
                raise MediaValueError("counts", "hold NaN, infinite or negative values", "counts of 0 or more")
            if not np.isfinite(self._edges).all() or (np.diff(self._edges) <= 0).any():
                raise MediaValueError("edges", "are not finite and increasing", "finite edges in increasing order")
            self.bins = len(self._counts)
        else:
            raise MediaValueError("Histogram()", "was given no data", "values, or counts and edges")

    def encode(self) -> Encoded:
        import numpy as np

        non_finite = 0
        if self._values is not None:
            finite = np.isfinite(self._values)
            non_finite = int(len(self._values) - finite.sum())
            counts, edges = np.histogram(self._values[finite], bins=self.bins)
        else:
            counts, edges = self._counts, self._edges
        counts_list = [int(c) if float(c).is_integer() else float(c) for c in counts.tolist()]
        document = {"counts": counts_list, "edges": [float(edge) for edge in edges.tolist()],
                    "non_finite": non_finite}
        data = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        fields = {"kind": self.kind, "bins": len(counts_list), "count": sum(counts_list),
                  "min": document["edges"][0], "max": document["edges"][-1], "non_finite": non_finite}
        return Encoded(data, "json", fields)


def _numbers(argument: str, values, np):
    """A float64 copy of ``values``; a value that is not a number is refused at the call."""
    try:
        return np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(argument, values, f"numbers (an array or a list; {exc})") from None
