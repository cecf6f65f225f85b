"""Metrics read a stretch at a time (tracker/run_reading.py): a stretch of records checked column
by column in C keeps exactly the records, problems and order that checking each record alone does."""
from __future__ import annotations

import json
import math
import os
import warnings

from tracker.reader import load_run
from tracker.record_schema import MAX_UNIX_TIME_S
from tracker.run_reading import good_point, good_points

T0 = 1_790_000_000.0


def point(step, wall_time=None, values=None) -> dict:
    return {"type": "metrics", "step": step, "time": T0 + step if wall_time is None else wall_time,
            "values": {"loss": 0.5, "acc": 0.25} if values is None else values}


ODD_RECORDS = [
    {"type": "metrics", "time": T0, "values": {"a": 1.0}},                    # no step
    {"type": "metrics", "step": 3, "values": {"a": 1.0}},                     # no time
    {"type": "metrics", "step": 3, "time": T0},                               # no values
    point(True, T0), point(1.5, T0), point(None, T0), point("3", T0),
    point(3, wall_time=math.nan), point(3, wall_time=math.inf), point(3, wall_time=-1.0),
    point(3, wall_time=MAX_UNIX_TIME_S + 1), point(3, wall_time=True), point(3, wall_time="now"),
    point(3, wall_time=int(T0)), point(3, wall_time=0), point(3, wall_time=MAX_UNIX_TIME_S),
    point(3, values=[1.0]), point(3, values=None) | {"values": None}, point(-5),
]


def test_a_stretch_is_good_exactly_when_each_of_its_records_is():
    for odd in ODD_RECORDS:
        for position in (0, 5, 9):
            records = [point(step) for step in range(10)]
            records[position] = odd
            assert good_points(records) == good_point(odd, require_step=True), (odd, position)


def write_events(folder, records) -> str:
    os.makedirs(folder, exist_ok=True)
    head = [{"type": "run", "schema": 1, "id": "r1", "project": "p", "name": "r1", "time": T0},
            {"type": "start", "writer": "w0", "time": T0, "pid": 1, "host": "h"}]
    with open(os.path.join(folder, "events.jsonl"), "w", encoding="utf-8") as handle:
        for record in head + records:
            handle.write(json.dumps(record) + "\n")
    return folder


def test_a_bad_record_inside_a_stretch_is_reported_at_its_line_and_the_rest_kept_in_order(tmp_path):
    records = [point(step) for step in range(20)]
    records[7] = point(7, wall_time=math.nan)                  # bad time: the record is dropped
    records[12] = point(12, values={"loss": "NaN", "acc": 0.5})  # a marker: kept as a float
    records[15] = point(15, values={"loss": "high", "acc": 0.4})  # a bad value: dropped, the rest kept
    records.insert(10, {"type": "system", "step": 0, "time": T0 + 9.5, "values": {"cpu": 50.0}})
    records.insert(16, {"type": "config", "time": T0 + 14.5, "values": {"lr": 0.1}})
    folder = write_events(tmp_path / "r1", records)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = load_run(str(folder), on_metrics=lambda steps, times, values: seen.extend(zip(steps, times, values)))
    kept = [step for step in range(20) if step != 7]
    assert run.histories["acc"].steps == kept
    assert run.histories["loss"].steps == [step for step in kept if step != 15]
    assert math.isnan(run.histories["loss"].values[kept.index(12)])
    assert run.histories["acc"].times == [T0 + step for step in kept]
    assert run.system["cpu"].values == [50.0] and run.config == {"lr": 0.1}
    assert [step for step, _, _ in seen] == kept
    assert seen[kept.index(15)] == (15, T0 + 15, {"acc": 0.4})
    events = os.path.join(folder, "events.jsonl")
    assert [message.split(": ", 1)[0] for message in run.warnings] == [f"{events}:10", f"{events}:20"]
    assert "time" in run.warnings[0] and "loss" in run.warnings[1]
