"""A run's data file, packed (sitegen/run_data.py) and unpacked in Chromium (run-data.js): values as
float32 unless float32 would change one beyond rounding, steps as a range when evenly spaced, times
as millisecond deltas; what the page decodes is what was logged, to float32's precision."""
from __future__ import annotations

import base64
import json
import math
import random
import struct
from pathlib import Path

from sitegen.load import RunSource
from sitegen.render import data_script_text
from sitegen.run_data import run_data_json, times_json
from test_site_support import float32
from tracker.reader import History, RunRecord

JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js"
CREATED = 1_790_000_000.0


def data_of(histories: dict, created=CREATED) -> dict:
    run = RunRecord(id="r1", path="/runs/r1", name="r1", created=created, histories=histories)
    return json.loads(run_data_json(RunSource(run, "r1")))


def unpacked(series: dict) -> list[float]:
    size = series["valueBits"] // 8
    packed = base64.b64decode(series["values"])
    return list(struct.unpack(f"<{len(packed) // size}{'f' if size == 4 else 'd'}", packed))


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def test_values_are_float32_with_nan_and_infinities_as_themselves():
    rng = random.Random(3)
    values = [rng.gauss(0, 1) * 10 ** rng.randint(-30, 30) for _ in range(2000)]
    values += [0.0, -0.0, math.nan, math.inf, -math.inf, 3, -(2 ** 24)]
    series = data_of({"loss": History(list(range(len(values))), values, [CREATED] * len(values))})["metrics"]["loss"]
    assert series["valueBits"] == 32
    assert same(unpacked(series), [float32(value) for value in values])
    assert all(abs(float32(value) - value) <= abs(value) * 2 ** -24 for value in values if math.isfinite(value))


def test_a_series_float32_would_change_is_float64_and_exact():
    for values in ([0.5, 1e39], [0.5, -1e300], [0.5, 1e-46], [1, 2 ** 24 + 1], [0.25, 10 ** 15]):
        series = data_of({"x": History(list(range(len(values))), values, [CREATED] * len(values))})["metrics"]["x"]
        assert (series["valueBits"], unpacked(series)) == (64, [float(value) for value in values]), values


def test_values_at_float32s_edges_are_float32_only_when_inside_its_range():
    # Just past float32's largest or below its smallest normal value, a value still rounds to them:
    # run_data's check on the packed floats sends such columns to the exact check
    largest, smallest = 3.4028234663852886e38, 1.1754943508222875e-38
    for values, bits in (([0.5, largest, -smallest, smallest, -largest], 32), ([0.5, largest * (1 + 2 ** -25)], 64),
                         ([0.5, -smallest * (1 - 2 ** -25)], 64), ([0.5, math.nextafter(smallest, 0)], 64)):
        series = data_of({"x": History(list(range(len(values))), values, [CREATED] * len(values))})["metrics"]["x"]
        expected = [float32(value) for value in values] if bits == 32 else values
        assert (series["valueBits"], unpacked(series)) == (bits, expected), values


def test_an_int_past_the_largest_float_is_an_infinity():
    series = data_of({"x": History([0, 1], [10 ** 400, -(10 ** 400)], [CREATED] * 2)})["metrics"]["x"]
    assert (series["valueBits"], unpacked(series)) == (64, [math.inf, -math.inf])


def test_what_is_not_a_number_is_nan():
    values = [1.5, True, "text", None]
    series = data_of({"x": History([0, 1, 2, 3], values, [CREATED] * 4)})["metrics"]["x"]
    assert same(unpacked(series), [1.5, math.nan, math.nan, math.nan])


def test_evenly_spaced_steps_are_a_range_and_others_are_listed():
    def steps_part(steps):
        series = data_of({"x": History(steps, [0.5] * len(steps), [CREATED] * len(steps))})["metrics"]["x"]
        return {key: series[key] for key in ("stepRange", "steps") if key in series}
    assert steps_part([0, 1, 2, 3]) == {"stepRange": [0, 4, 1]}
    assert steps_part([100, 200, 300]) == {"stepRange": [100, 3, 100]}
    assert steps_part([7]) == {"stepRange": [7, 1, 1]}
    assert steps_part([0, 10, 25]) == {"steps": [0, 10, 25]}
    assert steps_part([3, 2, 1]) == {"steps": [3, 2, 1]}
    assert steps_part([0, 10, 20, 20]) == {"steps": [0, 10, 20, 20]}


def test_times_are_millisecond_deltas_whose_sums_are_each_time_rounded():
    rng = random.Random(8)
    times = sorted(CREATED + rng.random() * 10 ** rng.randint(0, 7) for _ in range(500))
    times[10] = None  # a point without a time: null, and the next counts from the last timed one
    data = data_of({"x": History(list(range(len(times))), [0.5] * len(times), times)})
    total, seconds = 0, []
    for delta in data["timeAxes"][0]:
        if delta is None:
            seconds.append(None)
            continue
        total += delta
        seconds.append(total)
    assert seconds == [None if t is None else round((t - CREATED) * 1000) for t in times]


def test_times_round_half_to_even_ints_included():
    # whole-second ints beside floats, and products that land on a half millisecond
    created = 1_000_000
    times = [created, created + 1, created + 2.5 / 1000, created + 3.5 / 1000, created + 0.0015, 1_790_000_000]
    axis = data_of({"x": History(list(range(len(times))), [0.5] * len(times), times)}, created=created)["timeAxes"][0]
    expected = [round((t - created) * 1000) for t in times]
    assert axis == expected[:1] + [b - a for a, b in zip(expected, expected[1:])]


def test_metrics_logged_together_share_one_time_axis():
    times = [CREATED + 1.0, CREATED + 2.5]
    data = data_of({"a": History([0, 1], [1.0, 2.0], times), "b": History([0, 1], [3.0, 4.0], list(times)),
                    "c": History([5], [1.0], [CREATED + 9.0])})
    assert data["timeAxes"] == [[1000, 1500], [9000]]
    assert [data["metrics"][name]["times"] for name in "abc"] == [0, 0, 1]


def test_axes_with_the_same_ends_but_another_middle_stay_apart():
    # SameColumns files columns by (length, first, last): a column that shares them but differs
    # inside is an axis of its own, and one equal by value (not the same objects) is the same axis.
    first = [CREATED + 1.0, CREATED + 2.0, CREATED + 3.0]
    middle = [CREATED + 1.0, CREATED + 2.2, CREATED + 3.0]
    steps = [0, 1, 2]
    histories = {"a": History(steps, [1.0] * 3, first), "b": History([0, 5, 9], [1.0] * 3, middle),
                 "c": History(list(steps), [1.0] * 3, [CREATED + 1.0, CREATED + 2.0, CREATED + 3.0])}
    data = data_of(histories)
    assert data["timeAxes"] == [[1000, 1000, 1000], [1000, 1200, 800]]
    assert [data["metrics"][name]["times"] for name in "abc"] == [0, 1, 0]
    assert [data["metrics"][name].get("stepRange") for name in "abc"] == [[0, 3, 1], None, [0, 3, 1]]
    assert data["metrics"]["b"]["steps"] == [0, 5, 9]


def decoded_in_chromium(page, tmp_path, histories: dict) -> dict:
    run = RunRecord(id="r1", path="/runs/r1", name="r1", created=CREATED, histories=histories)
    (tmp_path / "data.js").write_text(data_script_text("runs", "r1", run_data_json(RunSource(run, "r1"))))
    html = tmp_path / "page.html"
    html.write_text(f'<!doctype html><meta charset="utf-8"><section id="charts" data-run-id="r1"></section>'
                    f'<script src="data.js"></script><script src="{(JS / "base64.js").as_uri()}"></script>'
                    f'<script src="{(JS / "run-data.js").as_uri()}"></script>')
    page.goto(html.as_uri())
    result = page.evaluate("""() => {
        const run = window.TrackerRunData.current(), out = {};
        for (const [name, series] of Object.entries(run.metrics)) {
            const columns = window.TrackerRunData.decode(series);
            out[name] = {steps: columns.steps, times: columns.times, isArray: Array.isArray(columns.values),
                         values: columns.values.map(String),
                         texts: columns.values.map((value) => window.TrackerRunData.valueText(value, series))};
        }
        return out;
    }""")
    assert page.errors == []
    return result


def test_chromium_decodes_what_python_packed(page, tmp_path):
    rng = random.Random(5)
    floats = [rng.gauss(0, 1) * 10 ** rng.randint(-20, 20) for _ in range(300)] + [math.nan, math.inf, -math.inf]
    times = [CREATED + index * 0.25 + rng.random() / 100 for index in range(len(floats))]
    times[3] = None
    result = decoded_in_chromium(page, tmp_path, {
        "loss": History([10 * index for index in range(len(floats))], floats, times),
        "wide": History([0, 3, 4], [0.1, 1e300, -7.0], [CREATED, CREATED + 1, CREATED + 2]),
        "lr": History([0, 1, 2, 3], [0.1, 0.001, 1e-5, 123456.7], [CREATED + 1] * 4)})
    loss = result["loss"]
    assert loss["isArray"] and loss["steps"] == [10 * index for index in range(len(floats))]
    assert same([float(text) for text in loss["values"]], [float32(value) for value in floats])
    assert loss["times"] == [None if t is None else round((t - CREATED) * 1000) / 1000 for t in times]
    assert result["wide"]["steps"] == [0, 3, 4] and result["wide"]["values"] == ["0.1", "1e+300", "-7"]
    # the CSV's text: the shortest decimal that reads back as the same float32
    assert result["lr"]["texts"] == ["0.1", "0.001", "0.00001", "123456.7"]
    assert [float32(float(text)) for text in loss["texts"][:300]] == [float32(value) for value in floats[:300]]
    assert loss["texts"][300:] == ["NaN", "Infinity", "-Infinity"]


def milliseconds_axis(times: list, origin: float) -> list:
    """The time axis as run_data.times_json documents it, one point at a time."""
    axis, previous = [], 0
    for t in times:
        if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t - origin):
            axis.append(round((t - origin) * 1000) - previous)
            previous += axis[-1]
        else:
            axis.append(None)
    return axis


def test_a_time_axis_is_millisecond_deltas_and_null_where_a_time_cannot_be_one():
    cases = [
        ([CREATED + 0.5 * k for k in range(20)], CREATED),
        ([CREATED + 0.0004, CREATED + 0.0015, CREATED + 0.0025, CREATED + 7], CREATED),  # halves round to even
        ([1_790_000_000, 1_790_000_001, 1_790_000_001.25], CREATED),  # ints
        ([CREATED + 1, None, CREATED + 2, "soon", CREATED + 3, True], CREATED),  # not numbers
        ([CREATED + 1, CREATED + 2], math.inf),  # an origin no time can be counted from
        ([1e308, -1e308], -1e308),  # too far from the origin to be a number
        ([CREATED, math.nan, CREATED + 1], CREATED),
    ]
    for times, origin in cases:
        assert json.loads(times_json(times, origin)) == milliseconds_axis(times, origin), (times, origin)
