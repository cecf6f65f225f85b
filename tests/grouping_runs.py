"""Five seeds of two optimizers, logged through tracker.init for the group tests (Python, CLI and
site): steps that differ between runs, a run that stops early and NaN values, so the numbers test
alignment, interpolation and skipping, not only means."""
from __future__ import annotations

import math

import numpy

import tracker

OPTIMIZERS = ("adam", "sgd")
SEEDS = range(5)
FULL_STEPS = list(range(10))
SPARSE_STEPS = [0, 3, 6, 9]  # sgd seed 4: interpolated onto the others' steps
EARLY_STEPS = list(range(6))  # adam seed 4 stops at step 5: not extrapolated past it
NAN_AT = ("adam", 1, 7)  # adam seed 1 logs loss NaN at step 7: skipped in the band, and counted
NAN_VAL_LOSS = ("adam", 3)  # adam seed 3's val_loss is NaN: skipped in the group's aggregate


def steps_of(optimizer: str, seed: int) -> list[int]:
    if (optimizer, seed) == ("sgd", 4):
        return SPARSE_STEPS
    return EARLY_STEPS if (optimizer, seed) == ("adam", 4) else FULL_STEPS


def loss(optimizer: str, seed: int, step: int) -> float:
    if (optimizer, seed, step) == NAN_AT:
        return math.nan
    return (1.5 if optimizer == "sgd" else 1.0) * (1 + seed / 10) * math.exp(-0.2 * step) + seed / 100


def val_loss(optimizer: str, seed: int) -> float:
    return math.nan if (optimizer, seed) == NAN_VAL_LOSS else (0.5 if optimizer == "adam" else 0.8) + seed / 50


def log_runs(root) -> None:
    """Ten runs: config {optimizer, seed, lr}, loss at their steps, val_loss once at the end."""
    for optimizer in OPTIMIZERS:
        for seed in SEEDS:
            run = tracker.init(project="seeds", name=f"{optimizer}-{seed}", dir=str(root), capture=False,
                               config={"optimizer": optimizer, "seed": seed, "lr": 0.01})
            for step in steps_of(optimizer, seed):
                run.log({"loss": loss(optimizer, seed, step)}, step=step)
            run.log({"val_loss": val_loss(optimizer, seed)}, step=steps_of(optimizer, seed)[-1])
            run.finish()


def summary_values(optimizer: str, metric: str) -> numpy.ndarray:
    """The group's finite summary values of a metric (its last logged value per run)."""
    if metric == "val_loss":
        values = [val_loss(optimizer, seed) for seed in SEEDS]
    else:
        values = [loss(optimizer, seed, steps_of(optimizer, seed)[-1]) for seed in SEEDS]
    return numpy.array([value for value in values if math.isfinite(value)])


def band_at(optimizer: str, step: int, dtype=float) -> list[float]:
    """Each run's loss at ``step`` by numpy.interp over its finite points, for the runs whose steps
    reach it; values first rounded to ``dtype`` (the site keeps float32)."""
    values = []
    for seed in SEEDS:
        points = [(s, loss(optimizer, seed, s)) for s in steps_of(optimizer, seed)]
        points = [(s, float(dtype(value))) for s, value in points if math.isfinite(value)]
        if points[0][0] <= step <= points[-1][0]:
            values.append(float(numpy.interp(step, [s for s, _ in points], [v for _, v in points])))
    return values
