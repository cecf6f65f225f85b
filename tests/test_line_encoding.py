"""The writer's metrics line template: its fast path decides on the values, never on the metric names."""
import json
import math
import pathlib
import sys
import threading

import pytest

import tracker
from tracker.line_encoding import METRICS_PREFIX, MetricsLineEncoder, queued_metrics
from tracker.reader import load_run
from tracker.values import encode_line


def general_line(step, wall_time, values):
    """What the general encoder writes: the bytes the template must reproduce for finite values."""
    return f'{METRICS_PREFIX}{step},"time":{wall_time!r},"values":{encode_line(values)}}}\n'


def strict_json(line):
    return json.loads(line, parse_constant=lambda token: pytest.fail(f"non-JSON literal {token} in {line}"))


def test_metric_named_like_inf_or_nan_reads_back_finite_and_non_finite_values(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"inference_ms": 12.5, "nano_loss": 3})
        run.log({"inference_ms": math.inf, "nano_loss": 4})
        run.log({"inference_ms": math.nan, "nano_loss": -5})
        run.log({"inference_ms": -math.inf, "nano_loss": 0})
        run.log({"inference_ms": 0.25, "nano_loss": 6})
    for line in pathlib.Path(run.path, "events.jsonl").read_text().splitlines():
        strict_json(line)
    record = load_run(run.path)
    times = record.history("inference_ms").values
    assert times[0] == 12.5 and times[1] == math.inf and math.isnan(times[2])
    assert times[3] == -math.inf and times[4] == 0.25
    assert record.history("nano_loss").values == [3, 4, -5, 0, 6]


def test_names_holding_nan_or_inf_keep_the_template():
    # The template is what makes log() cheap; 'inference_ms' used to lose it and cost twice 'loss'.
    encoder = MetricsLineEncoder()
    for keys in (("inference_ms",), ("loss",), ("nan_count", "info", "Infinity")):
        encoder.line(queued_metrics(1, 2.0, dict.fromkeys(keys, 0.5)))
        assert isinstance(encoder._templates[keys], str), keys


@pytest.mark.parametrize("values", [
    {"inference_ms": 12.5},
    {"loss": 0.1, "acc": 1, "neg": -0.0, "tiny": 5e-324, "big": 1.7976931348623157e308},
    {"a": 1.7976931348623157e308, "b": 1.7976931348623157e308},  # finite values whose sum overflows
    {"n": 10 ** 400, "x": 0.5},  # an int too large for a float
    {"n": 10 ** 400},
    {"odd %s %% \"key\"": 1.5, "ünï": 2, "\u2028": 3.0},
    {"inference_ms": math.nan, "loss": 1.0},
    {"loss": math.inf, "infinity": -math.inf},
    {"a": math.inf, "b": -math.inf},  # their sum is NaN
    {"loss": 1.0, "text": "not a number"},  # log() refuses it; should one reach the writer, it stays valid JSON
    {},
])
def test_template_line_is_byte_identical_to_the_general_encoder(values):
    encoder = MetricsLineEncoder()
    for _ in range(2):  # the first call builds the template, the second uses it
        line = encoder.line(queued_metrics(7, 1700000000.123456, values))
        assert line == general_line(7, 1700000000.123456, values)
        strict_json(line)


def test_non_finite_values_are_written_as_text_markers():
    values = {"inference_ms": math.nan, "loss": math.inf, "down": -math.inf}
    line = MetricsLineEncoder().line(queued_metrics(3, 1.5, values))
    assert line == ('{"type":"metrics","step":3,"time":1.5,'
                    '"values":{"inference_ms":"NaN","loss":"Infinity","down":"-Infinity"}}\n')


def test_threads_logging_other_keys_to_one_run_never_get_each_others_keys(tmp_path):
    # The writer keeps the last key set's tuple to queue again: a thread must never queue another's.
    shapes = [{"a": 1.0}, {"b": 2.0, "c": 3.0}, {"c": 4.0, "b": 5.0}, {"d": 6.0, "e": 7.0, "f": 8.0}]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # a thread switch between any two bytecodes, as often as can be
    try:
        with tracker.init(dir=tmp_path, capture=False) as run:
            threads = [threading.Thread(target=lambda values=values: [run.log(values) for _ in range(5_000)])
                       for values in shapes]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(switch)
    logged = [json.loads(line)["values"] for line in pathlib.Path(run.path, "events.jsonl").read_text().splitlines()
              if line.startswith(METRICS_PREFIX)]
    assert len(logged) == 20_000
    shapes_in_order = [list(values.items()) for values in shapes]
    assert all(list(values.items()) in shapes_in_order for values in logged)
