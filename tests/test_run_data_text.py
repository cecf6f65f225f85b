"""The text of a run's data file: the columns formatted in C (sitegen/run_data.py) are exactly the
text of formatting each value alone, so a faster build changes no byte of the site."""
from __future__ import annotations

import json
import math
import random
import struct

from sitegen.load import RunSource
from sitegen.run_data import MAX_FIXED_SECONDS, SIGNIFICANT_DIGITS, TIME_DECIMALS, run_data_json
from tracker.reader import History, RunRecord

CREATED = 1_790_000_000.0


def value_text(value) -> str:
    """One metric value as the data file writes it, the definition the columns must keep."""
    if type(value) is float:
        if math.isfinite(value):
            return format(value, f".{SIGNIFICANT_DIGITS}g")
        return '"NaN"' if value != value else ('"Infinity"' if value > 0 else '"-Infinity"')
    return str(value) if type(value) is int else '"NaN"'


def time_text(wall_time, origin) -> str:
    return repr(round(wall_time - origin, TIME_DECIMALS)) if type(wall_time) in (int, float) else "null"


def data_of(values: list, times: list, steps: list | None = None, created=CREATED) -> str:
    steps = list(range(len(values))) if steps is None else steps
    run = RunRecord(id="r1", path="/runs/r1", name="r1", created=created,
                    histories={"loss": History(steps, values, times)})
    return run_data_json(RunSource(run, "r1"))


def expected_of(values: list, times: list, created=CREATED) -> tuple[str, str]:
    origin = created if created is not None else next(t for t in times if type(t) in (int, float))
    return ("[" + ",".join(map(value_text, values)) + "]",
            "[" + ",".join(time_text(t, origin) for t in times) + "]")


def random_floats(rng: random.Random, count: int) -> list[float]:
    """Finite floats of every magnitude: random bit patterns and random decimals."""
    floats = []
    while len(floats) < count:
        value = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if math.isfinite(value):
            floats.append(value)
        floats.append(rng.random() * 10 ** rng.randint(-30, 30) * rng.choice((-1, 1)))
    return floats[:count]


def test_a_column_of_floats_is_written_as_each_float_alone():
    rng = random.Random(12)
    for _ in range(40):
        values = random_floats(rng, 500) + [0.0, -0.0, 1.0, 1e10, 1e16, 5e-324, 1.7976931348623157e308]
        times = [CREATED + index * 0.5 for index in range(len(values))]
        text = data_of(values, times)
        assert text.split('"values":')[1].split(',"times"')[0] == expected_of(values, times)[0]


def test_columns_with_markers_ints_and_other_values_are_written_value_by_value():
    values = [0.5, float("nan"), float("inf"), -float("inf"), 3, 10**12, True, 2.0]
    times = [CREATED + index for index in range(len(values))]
    data = json.loads(data_of(values, times))
    assert data["metrics"]["loss"]["values"] == [0.5, "NaN", "Infinity", "-Infinity", 3, 10**12, "NaN", 2]
    # floats that sum past the largest float are finite each, and written as numbers
    big = [1.7e308, 1.7e308]
    assert json.loads(data_of(big, times[:2]))["metrics"]["loss"]["values"] == big


def test_time_axes_are_each_time_rounded_to_the_millisecond_as_repr_writes_it():
    rng = random.Random(5)
    for trial in range(300):
        scale = 10 ** rng.randint(-6, 9)
        times = [CREATED + rng.choice((-1, 1, 1)) * rng.random() * scale for _ in range(200)]
        times += [CREATED + step * 0.0005 for step in range(-40, 40)]  # ties at half a millisecond
        times += [CREATED + step / 8 for step in range(-40, 40)]       # exact binary fractions
        rng.shuffle(times)
        created = None if trial % 10 == 0 else CREATED
        text = data_of([1.0] * len(times), times, created=created)
        assert text.split('"timeAxes":[')[1].split('],"metrics"')[0] == expected_of([], times, created)[1]


def test_time_axes_past_the_fixed_range_and_with_odd_times_are_written_time_by_time():
    cases = [[CREATED, CREATED + MAX_FIXED_SECONDS * 4, CREATED + 0.1234],
             [CREATED, CREATED + 1e15 + 0.3],  # a float's precision coarser than a millisecond
             [CREATED, 1_790_000_001, True, None],
             [1_790_000_001, 1_790_000_002]]
    for times in cases:
        for created in (CREATED, None, 1_790_000_000):
            text = data_of([1.0] * len(times), times, created=created)
            assert text.split('"timeAxes":[')[1].split('],"metrics"')[0] == expected_of([], times, created)[1]
