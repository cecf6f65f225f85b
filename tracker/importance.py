"""Parameter importance: Spearman's rank correlation of each numeric config key with a metric across runs.

The same rule as the project page's (static/js/stats.js TrackerStats.importance): numbers, and
booleans as 0/1, ranked with ties sharing their average rank; a key set as a number in fewer than
MIN_RUNS runs, or the same in all of them, is not ranked and says why. Correlation, not cause:
keys changed together share the credit. Pure: no file access.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

MIN_RUNS = 3


@dataclass
class Importance:
    ranked: list = field(default_factory=list)   # [(key, rho, runs)], largest |rho| first
    skipped: list = field(default_factory=list)  # [(key, why)]


def ranks(values: list[float]) -> list[float]:
    """1-based ranks; tied values share the average of their ranks."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho (Pearson's on the ranks); None when either side does not vary."""
    rx, ry = ranks(xs), ranks(ys)
    mean = (len(rx) + 1) / 2
    sxy = sum((a - mean) * (b - mean) for a, b in zip(rx, ry))
    sxx = sum((a - mean) ** 2 for a in rx)
    syy = sum((b - mean) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else None


def numeric(value) -> float | None:
    """A config value or metric as a number to rank: finite numbers, booleans as 0/1; else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def importance(configs: list[dict], metrics: list, keys: list[str]) -> Importance:
    """For each of ``keys`` (flat config keys), rho between its values in ``configs`` (flat dicts, one
    per run) and the ``metrics`` (one per run, any value; non-numbers are left out), over the runs
    that have both as numbers."""
    found = Importance()
    for key in keys:
        xs, ys, categorical = [], [], False
        for config, metric in zip(configs, metrics):
            raw = config.get(key)
            x, y = numeric(raw), numeric(metric)
            if x is None and raw is not None:
                categorical = True
            if x is not None and y is not None:
                xs.append(x)
                ys.append(y)
        if len(xs) < MIN_RUNS:
            found.skipped.append((key, "not a number" if categorical else f"set in fewer than {MIN_RUNS} runs"))
            continue
        rho = spearman(xs, ys)
        if rho is None:
            found.skipped.append((key, "the same in every run"))
        else:
            found.ranked.append((key, rho, len(xs)))
    found.ranked.sort(key=lambda item: (-abs(item[1]), item[0]))
    return found
