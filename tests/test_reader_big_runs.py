"""Issue 11, section 7 on the reader side: series reduced while reading keep their shape in bounded
memory, iter_metrics streams every point, tags are read in linear time."""
from __future__ import annotations

import json
import math
import os

import pytest

from tracker import event_lines
from tracker.reader import iter_metrics, load_run
from tracker.series import ReducedSeries

T0 = 1_790_000_000.0


def write_metrics_run(path, steps: int, value_of, *, file="events.jsonl", head=True) -> None:
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, file), "w", encoding="utf-8") as handle:
        if head:
            handle.write(json.dumps({"type": "run", "schema": 1, "id": os.path.basename(path), "time": T0}) + "\n")
        for step in range(steps):
            values = {"loss": value_of(step), "acc": step}
            handle.write(json.dumps({"type": "metrics", "step": step, "time": T0 + step / 1000, "values": values}) + "\n")


def spiky(step: int):
    if step == 77_777:
        return 1e6
    if step == 55_555:
        return "NaN"
    if step == 66_666:
        return "-Infinity"
    return math.sin(step / 1000)


def test_max_points_bounds_every_series_and_keeps_spikes_non_finite_values_and_ends(tmp_path):
    write_metrics_run(tmp_path / "r", 100_000, spiky)
    full = load_run(str(tmp_path / "r"))
    reduced = load_run(str(tmp_path / "r"), max_points=500)
    loss = reduced.history("loss")
    assert 250 <= len(loss) <= 500 and loss.count == 100_000 == full.history("loss").count
    assert loss.steps == sorted(loss.steps) and (loss.steps[0], loss.steps[-1]) == (0, 99_999)
    assert 1e6 in loss.values and -math.inf in loss.values and any(math.isnan(v) for v in loss.values)
    finite = [value for value in full.history("loss").values if math.isfinite(value)]
    assert min(value for value in loss.values if math.isfinite(value)) == min(finite)
    for step, value, wall_time in zip(loss.steps, loss.values, loss.times):  # real points, not averages
        assert wall_time == T0 + step / 1000
        assert value == full.history("loss").values[step] or math.isnan(value)
    assert reduced.summary["loss"] == full.summary["loss"] and reduced.summary["acc"] == 99_999


def test_a_series_shorter_than_max_points_is_kept_whole(tmp_path):
    write_metrics_run(tmp_path / "r", 300, lambda step: step * 0.5)
    reduced, full = load_run(str(tmp_path / "r"), max_points=400), load_run(str(tmp_path / "r"))
    assert reduced.histories == full.histories


def test_a_reduced_series_holds_at_most_max_points_at_any_time():
    series = ReducedSeries(200)
    for start in range(0, 1_000_000, 10_000):
        steps = list(range(start, start + 10_000))
        series.add(steps, [float(step % 977) for step in steps], [T0 + step for step in steps])
        assert series.kept <= 200 and len(series.open[0]) <= series.width
    history = series.finish()
    assert history.count == 1_000_000 and max(history.values) == 976.0 and min(history.values) == 0.0


def test_iter_metrics_streams_every_point_of_every_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(event_lines, "CHUNK_BYTES", 4096)  # many chunks; lines cut across them
    path = tmp_path / "r"
    write_metrics_run(path, 5_000, lambda step: step / 10)
    write_metrics_run(path, 300, lambda step: "Infinity", file="events-w1.jsonl", head=False)
    with open(path / "events.jsonl", "a") as handle:
        handle.write('{"type":"metrics","step":5000,"time":"late","values":{"loss":1}}\n')
        handle.write('{"type":"metrics","step":5001,"time":1790000009.0,"values":{"loss":"x","acc":2}}\n')
    with pytest.warns(UserWarning) as caught:
        points = list(iter_metrics(str(path)))
    assert len(points) == 5_000 + 300 + 1
    assert points[0] == (0, T0, {"loss": 0.0, "acc": 0})
    assert points[4_999] == (4_999, T0 + 4.999, {"loss": 499.9, "acc": 4_999})
    assert points[5_000] == (5_001, 1790000009.0, {"acc": 2})
    assert points[-1] == (299, T0 + 0.299, {"loss": math.inf, "acc": 299})
    assert [str(warning.message).split(": ", 2)[2] for warning in caught] == [
        "metrics.time is str, expected a unix time in seconds (0 to 1e+11); record skipped",
        "metrics.values.loss is str, expected a number; value dropped"]


def test_chunked_reading_gives_the_same_run_as_one_chunk(tmp_path, monkeypatch):
    write_metrics_run(tmp_path / "r", 3_000, spiky)
    whole = load_run(str(tmp_path / "r"))
    monkeypatch.setattr(event_lines, "CHUNK_BYTES", 1000)
    assert load_run(str(tmp_path / "r")).histories == whole.histories


def test_a_line_longer_than_the_limit_is_skipped_and_the_rest_read(tmp_path, monkeypatch):
    monkeypatch.setattr(event_lines, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(event_lines, "MAX_LINE_BYTES", 4096)
    write_metrics_run(tmp_path / "r", 10, lambda step: step)
    with open(tmp_path / "r" / "events.jsonl", "a") as handle:
        handle.write(json.dumps({"type": "notes", "text": "x" * 20_000}) + "\n")
        handle.write(json.dumps({"type": "notes", "text": "short"}) + "\n")
    with pytest.warns(UserWarning, match=r"events\.jsonl:12: line longer than 0 MiB; skipped"):
        run = load_run(str(tmp_path / "r"))
    assert run.notes == "short" and run.history("acc").count == 10


def test_a_hundred_thousand_tags_are_read_in_one_pass(tmp_path):
    path = tmp_path / "r"
    os.makedirs(path)
    with open(path / "events.jsonl", "w") as handle:
        handle.write(json.dumps({"type": "run", "id": "r", "time": T0}) + "\n")
        for number in range(100_000):
            handle.write(json.dumps({"type": "tags", "add": [f"t{number}", "same"]}) + "\n")
        handle.write(json.dumps({"type": "tags", "remove": [f"t{number}" for number in range(0, 100_000, 2)]}) + "\n")
    tags = load_run(str(path)).tags  # quadratic before: 49 s; this test would time out
    assert len(tags) == 50_001 and tags[:2] == ["t1", "t3"] and tags[-1] == "t99999" and "same" in tags


def test_ls_keeps_only_last_points(tmp_path):
    write_metrics_run(tmp_path / "r", 1_000, lambda step: -step)
    run = load_run(str(tmp_path / "r"), last_only=True)
    assert {name: (series.steps, series.values, series.count) for name, series in run.histories.items()} == {
        "loss": ([999], [-999], 1_000), "acc": ([999], [999], 1_000)}
    assert run.system == {}


def test_metrics_read_column_wise_equal_a_record_by_record_read(tmp_path):
    """Stretches of one key set are read column-wise; key sets that change, a marker, a bool, a bad
    value and a non-ASCII name inside stretches must give what reading each record on its own gives."""
    run = tmp_path / "mixed"
    os.makedirs(run)
    records = [{"type": "run", "schema": 1, "id": "mixed", "time": T0}]
    for step in range(3_000):
        values = {"loss": 1.0 / (step + 1), "acc": step % 7}
        if step % 10 == 0:
            values = {"val/loss": 0.5, "loss": 2.0}
        if step == 1_234:
            values["loss"] = "NaN"
        if step == 2_000:
            values["acc"] = True
        if step == 2_500:
            values["acc"] = "oops"
        if step >= 2_900:
            values["café"] = float(step)
        records.append({"type": "metrics", "step": step, "time": T0 + step, "values": values})
        if step % 400 == 0:
            records.append({"type": "notes", "text": f"at {step}"})
    (run / "events.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    expected: dict = {}
    for record in records[1:]:
        if record["type"] != "metrics":
            continue
        for key, value in record["values"].items():
            if value == "oops":
                continue
            number = float("nan") if value == "NaN" else int(value) if type(value) is bool else value
            expected.setdefault(key, []).append((record["step"], number, record["time"]))
    with pytest.warns(UserWarning, match=r"events.jsonl:2509: metrics.values.acc is str"):
        read = load_run(str(run))
    assert sorted(read.histories) == sorted(expected)
    for key, points in expected.items():
        history = read.history(key)
        got = list(zip(history.steps, history.values, history.times))
        assert len(got) == len(points) and history.count == len(points), key
        for (step, value, wall_time), (want_step, want_value, want_time) in zip(got, points):
            assert (step, wall_time) == (want_step, want_time)
            assert value == want_value or (math.isnan(value) and math.isnan(want_value))
    assert read.notes == "at 2800"


def test_a_reduced_series_is_bucketed_once_at_about_its_final_width(tmp_path):
    """The first overflow picks the width from the fraction of the run read, so a long series keeps
    between a quarter of and all of its budget, whatever its length."""
    for steps in (6_000, 60_000, 240_000):
        write_metrics_run(tmp_path / f"r{steps}", steps, lambda step: math.sin(step / 50) + (step % 3))
        history = load_run(str(tmp_path / f"r{steps}"), max_points=1_000).history("loss")
        assert 250 <= len(history) <= 1_000 and history.count == steps, (steps, len(history))
        assert history.steps[0] == 0 and history.steps[-1] == steps - 1
