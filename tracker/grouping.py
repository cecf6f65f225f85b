"""Groups of runs: runs grouped by one or two fields, each metric's mean, std, min and max, and a group's band by step.

The same rules as the site's static/js/grouping.js; both run tests/contracts/aggregate.json.

- **Grouping**: a field is anything the filter language resolves (query.resolve_field: ``project``,
  ``group``, ``status``, ``tag``, ``config.opt.name`` or just ``optimizer``) or ``dataset.<name>``
  (the dataset's sha256, from a row's ``datasets`` mapping). A run without the field, or with an
  empty list, is in the group ``(none)``. A list (tags) is one key: its items joined by ", ".
  Numbers are keyed by value (1 and 1.0 are one group), anything else by its text (format_value).
  Groups are ordered by their keys: numbers first (ascending), then text (ignoring case), ``(none)``
  last; a second field orders the groups within the first.
- **Aggregates** of a list of values: ``count`` of the finite numbers used, ``skipped`` the NaN and
  ±Infinity left out (also as the site's markers "NaN", "Infinity", "-Infinity"), anything not a
  number ignored; ``mean``; ``std``, the population standard deviation (ddof=0, NumPy's default);
  ``min``, ``max``; ``stderr`` = std / sqrt(count). None of them (null) when count is 0. Sums run
  left to right, so Python and JavaScript give the same doubles.
- **Band** of several runs' series of one metric: the union of their steps; each run's finite points
  (non-finite ones are skipped and counted) interpolated linearly onto the union's steps between its
  own first and last step, never extrapolated; at each step the aggregates of the runs that cover it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .formatting import format_value
from .query import resolve_field
from .values import TEXT_TO_NON_FINITE

__all__ = ["NONE", "AGGREGATES", "BANDS", "Group", "aggregate", "band", "band_bounds", "group_rows",
           "group_value", "key_text", "metric_aggregates"]

NONE = "(none)"
AGGREGATES = ("count", "skipped", "mean", "std", "min", "max", "stderr")
BANDS = ("std", "minmax", "stderr")  # mean ± std, min to max, mean ± standard error
DATASET_PREFIXES = ("dataset.", "datasets.")


@dataclass
class Group:
    """One group of rows: its key's text per field (``(none)`` where a run lacks it) and its rows."""

    key: tuple[str, ...]
    rows: list = field(default_factory=list)
    sort_key: tuple = ()


def group_value(row: dict, name: str) -> object:
    """The value a group key is made of: ``dataset.<name>``'s hash, or what the filter language resolves."""
    for prefix in DATASET_PREFIXES:
        if name.startswith(prefix):
            return (row.get("datasets") or {}).get(name[len(prefix):])
    return resolve_field(row, name)


def _key(value) -> tuple[tuple, str, tuple]:
    """(identity, text, order) of one key part."""
    if value is None or value == []:
        return ("none",), NONE, (2,)
    if isinstance(value, list):
        text = ", ".join(format_value(item) for item in value)
        return ("s", text), text, (1, text.lower(), text)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return ("n", float(value)), format_value(value), (0, float(value))
    text = format_value(value)
    return ("s", text), text, (1, text.lower(), text)


def key_text(value) -> str:
    """A key part as the index and ``tracker ls`` show it."""
    return _key(value)[1]


def group_rows(rows: list, fields: list[str], value_of=group_value) -> list[Group]:
    """The rows grouped by each field in turn, as ordered groups (the rows keep their order)."""
    groups: dict[tuple, Group] = {}
    for row in rows:
        parts = [_key(value_of(row, name)) for name in fields]
        identity = tuple(part[0] for part in parts)
        group = groups.get(identity)
        if group is None:
            group = groups[identity] = Group(tuple(part[1] for part in parts), [], tuple(part[2] for part in parts))
        group.rows.append(row)
    return sorted(groups.values(), key=lambda group: group.sort_key)


def _number(value) -> float | None:
    """A metric value as a float (the site's non-finite markers too); None for what is no number."""
    if isinstance(value, str):
        return TEXT_TO_NON_FINITE.get(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def aggregate(values) -> dict:
    """count, skipped, mean, std (population), min, max and stderr of the finite numbers among values."""
    finite, skipped = [], 0
    for value in values:
        number = _number(value)
        if number is None:
            continue
        if math.isfinite(number):
            finite.append(number)
        else:
            skipped += 1
    return _stats(finite, skipped)


def _stats(finite: list[float], skipped: int) -> dict:
    count = len(finite)
    if not count:
        return {"count": 0, "skipped": skipped, "mean": None, "std": None, "min": None, "max": None, "stderr": None}
    total = 0.0
    for number in finite:
        total += number
    mean = total / count
    squares = 0.0
    for number in finite:
        squares += (number - mean) * (number - mean)
    std = math.sqrt(squares / count)
    return {"count": count, "skipped": skipped, "mean": mean, "std": std, "min": min(finite), "max": max(finite),
            "stderr": std / math.sqrt(count)}


def metric_aggregates(rows: list, metrics: list[str]) -> dict[str, dict]:
    """Per metric, the aggregate of the rows' summary values (``summary.<metric>``)."""
    return {metric: aggregate(resolve_field(row, f"summary.{metric}") for row in rows) for metric in metrics}


def band(series: list) -> dict:
    """The band of runs' series, each (steps, values) with steps ascending: {steps, count, mean, std,
    min, max, stderr} as lists over the union of steps, and ``skipped``, the non-finite points left out."""
    runs, skipped = [], 0
    for steps, values in series:
        points = []
        for step, value in zip(steps, values):
            number = _number(value)
            if number is not None and math.isfinite(number):
                points.append((step, number))
            elif number is not None:
                skipped += 1
        if points:
            points.sort(key=lambda point: point[0])  # stable: of a step logged twice, the first is used
            runs.append(points)
    union = sorted({step for points in runs for step, _ in points})
    at_step = [[] for _ in union]
    for points in runs:
        _interpolate_into(points, union, at_step)
    result = {"steps": union, "skipped": skipped}
    stats = [_stats(values, 0) for values in at_step]
    for name in ("count", "mean", "std", "min", "max", "stderr"):
        result[name] = [entry[name] for entry in stats]
    return result


def _interpolate_into(points: list[tuple], union: list, at_step: list[list]) -> None:
    """Appends the run's value at each union step within its own range, linearly between its points."""
    first, last = points[0][0], points[-1][0]
    at = 0
    for index, step in enumerate(union):
        if step < first:
            continue
        if step > last:
            break
        while points[at][0] < step:
            at += 1
        right_step, right = points[at]
        if right_step == step:
            at_step[index].append(right)
            continue
        left_step, left = points[at - 1]
        at_step[index].append(left + (right - left) * ((step - left_step) / (right_step - left_step)))


def band_bounds(result: dict, kind: str) -> tuple[list, list]:
    """The band's (low, high) lists for ``kind``: "std" mean ± std, "minmax", "stderr" mean ± stderr."""
    if kind == "minmax":
        return result["min"], result["max"]
    if kind not in BANDS:
        raise ValueError(f"unknown band {kind!r}; choose one of {', '.join(BANDS)}")
    spread = result[kind]
    low = [None if mean is None else mean - width for mean, width in zip(result["mean"], spread)]
    high = [None if mean is None else mean + width for mean, width in zip(result["mean"], spread)]
    return low, high
