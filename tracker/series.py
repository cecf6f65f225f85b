"""Metric series as the reader builds them: in full, reduced to a bounded number of points, or
only the last point.

The reader hands each series its points a chunk at a time, as parallel lists of steps, values and
times (values are numbers: ints, or floats that may be NaN or infinite). Three ways to keep them:

- ``FullSeries``: every point (``load_run(path)``).
- ``ReducedSeries``: at most about ``max_points`` points whatever the run's length
  (``load_run(path, max_points=N)``, for the site). Points go into buckets of consecutive points;
  each bucket keeps its first, lowest, highest and last point, and its first non-finite one, so
  spikes and divergence survive. When the kept points pass ``max_points``, neighbouring buckets
  merge in pairs (the width doubles). Memory: ``max_points`` points plus the open bucket.
- ``LastPoint``: the point of the highest step and the count (``tracker ls`` lists no more).

``finish()`` returns a ``History`` ordered by step (or by time, for system metrics, whose step is
a per-process sample index). It ends the series: the History may hold the series' own lists
(no copy of a column: a run page's read finishes each series once and drops it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .frames import history_frame


@dataclass
class History:
    """One metric's series: parallel lists of steps, values and wall times (unix seconds).

    ``count`` is how many points were logged; it exceeds ``len(steps)`` when the series was
    reduced while reading (``load_run(path, max_points=N)``) or only its last point was kept.
    """

    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)
    times: list = field(default_factory=list)
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is None:
            self.count = len(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def to_pandas(self):
        """A pandas DataFrame of ``step``, ``time`` (UTC) and ``value``, ordered by step. Needs pandas."""
        return history_frame(self)


def _ordered(steps: list, values: list, times: list, by_time: bool, count: int) -> History:
    """A History of the points sorted by step (or time), ties by time, then as they came (stable)."""
    keys = times if by_time else steps
    if keys != sorted(keys):
        order = sorted(range(len(keys)), key=lambda index: (keys[index], times[index]))
        steps, values, times = ([column[index] for index in order] for column in (steps, values, times))
    return History(steps, values, times, count)


class FullSeries:
    """Every point."""

    def __init__(self) -> None:
        self.steps: list = []
        self.values: list = []
        self.times: list = []

    def add(self, steps: list, values: list, times: list) -> None:
        self.steps += steps
        self.values += values
        self.times += times

    def finish(self, by_time: bool = False) -> History:
        return _ordered(self.steps, self.values, self.times, by_time, len(self.steps))


class LastPoint:
    """The point of the highest step (ties: the later time, then the later point) and the count."""

    def __init__(self) -> None:
        self.point: tuple | None = None  # (step, time, value)
        self.count = 0

    def add(self, steps: list, values: list, times: list) -> None:
        self.count += len(steps)
        top = max(steps)
        # The last point holding the top step: in a file, a later point of one step is the later write.
        index = len(steps) - 1 - steps[::-1].index(top)
        for later in range(index + 1, len(steps)):  # rare: the same step again with a later time
            if steps[later] == top and times[later] > times[index]:
                index = later
        if self.point is None or (top, times[index]) >= self.point[:2]:
            self.point = (top, times[index], values[index])

    def finish(self, by_time: bool = False) -> History:
        if self.point is None:
            return History(count=0)
        step, wall_time, value = self.point
        return History([step], [value], [wall_time], self.count)


def _finite(value) -> bool:
    return value - value == 0  # False for NaN and the infinities; ints are always finite


class ReducedSeries:
    """At most about ``max_points`` points, keeping each bucket's first, min, max, last and first
    non-finite point (see the module docstring).

    Points are kept as they come until they pass ``max_points``; then the bucket width is chosen
    from the points seen so far and ``progress()`` (the fraction of the run read, when the reader
    knows it), so a long series is bucketed once at about its final width instead of passing
    through every narrower one: buckets are what costs, at a few microseconds each.
    """

    def __init__(self, max_points: int, progress=None) -> None:
        self.max_points = max(8, max_points)
        self.progress = progress
        self.width = 1          # points per bucket; 1 until the first overflow (points kept as they come)
        self.buckets: list[list[tuple]] = []  # each: kept (step, value, time) points in arrival order
        self.kept = 0           # points in self.buckets
        self.open: tuple[list, list, list] = ([], [], [])  # the bucket being filled (or every point, at width 1)
        self.count = 0

    def add(self, steps: list, values: list, times: list) -> None:
        self.count += len(steps)
        if self.width == 1:
            for column, new in zip(self.open, (steps, values, times)):
                column += new
            if len(self.open[0]) > self.max_points:
                self._first_width()
            return
        start = 0
        while start < len(steps):
            room = self.width - len(self.open[0])
            end = min(len(steps), start + room)
            for column, new in zip(self.open, (steps, values, times)):
                column += new[start:end]
            start = end
            if len(self.open[0]) == self.width:
                self._close_open_bucket()

    def _first_width(self) -> None:
        """Bucket the points kept so far at a width fit for the whole series: max_points / 2 buckets
        at the end, which fit when a bucket keeps two points (a smooth curve) and merge once when
        they keep more (a noisy one). Unknown fraction read: twice the points seen so far."""
        seen = len(self.open[0])
        fraction = self.progress() if self.progress is not None else 0.0
        expected = seen / fraction if 0.0 < fraction < 1.0 else seen * 2
        width = 2
        while width * self.max_points < 2 * expected:
            width *= 2
        steps, values, times = self.open
        self.open = ([], [], [])
        self.width = width
        self.count -= seen  # add() counts them again
        self.add(steps, values, times)

    def _close_open_bucket(self) -> None:
        steps, values, times = self.open
        self.open = ([], [], [])
        bucket = _bucket_points(steps, values, times)
        self.buckets.append(bucket)
        self.kept += len(bucket)
        while self.kept > self.max_points and len(self.buckets) > 1:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        merged = []
        for index in range(0, len(self.buckets) - 1, 2):
            points = self.buckets[index] + self.buckets[index + 1]
            merged.append(_bucket_points(*map(list, zip(*points))))
        if len(self.buckets) % 2:
            # An odd bucket out would be half as wide as the rest; merging it into the last keeps
            # every bucket covering ``width`` points.
            merged[-1] = _bucket_points(*map(list, zip(*(merged[-1] + self.buckets[-1]))))
        self.buckets = merged
        self.kept = sum(map(len, merged))
        self.width *= 2

    def finish(self, by_time: bool = False) -> History:
        if self.width == 1:  # never overflowed: every point, as it came, in lists handed over uncopied
            return _ordered(*self.open, by_time, self.count)
        points = [point for bucket in self.buckets for point in bucket]
        if self.open[0]:
            points += _bucket_points(*self.open)
        if not points:
            return History(count=self.count)
        steps, values, times = (list(column) for column in zip(*points))
        return _ordered(steps, values, times, by_time, self.count)


def _bucket_points(steps: list, values: list, times: list) -> list[tuple]:
    """The first, lowest, highest and last points of a bucket, and its first non-finite one, in
    their order, each once."""
    last = len(values) - 1
    chosen = {0, last}
    total = sum(values)
    if _finite(total):  # no NaN or infinity among them (checked in C; an overflow takes the slow path)
        finite = values
    else:
        finite = [value for value in values if _finite(value)]
        chosen.add(next(index for index, value in enumerate(values) if not _finite(value)))
    if finite:
        chosen.add(values.index(min(finite)))
        chosen.add(values.index(max(finite)))
    return [(steps[index], values[index], times[index]) for index in sorted(chosen)]


def new_series(max_points: int | None, last_only: bool, progress=None):
    """The series keeper a read asks for; ``progress()`` is the fraction of the run read so far."""
    if last_only:
        return LastPoint()
    return FullSeries() if max_points is None else ReducedSeries(max_points, progress)

