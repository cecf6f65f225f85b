"""Metrics records decoded typed (tracker/typed_records.py): a run read through a chunk's typed stretch
is exactly the run read record by record (the detailed path, typed decoding switched off): the same
series, writers, state, problems and on_metrics calls, for runs tracker writes and for hostile lines."""
from __future__ import annotations

import json
import math
import random
import warnings

import pytest

import tracker
import tracker.typed_records as typed_records
from tracker.line_encoding import METRICS_PREFIX
from tracker.reader import load_run
from tracker.record_schema import MAX_UNIX_TIME_S
from tracker.typed_records import METRICS_LINE_START, MIN_STRETCH_LINES, metrics_stretch

T0 = 1_790_000_000.0
HEAD = [{"type": "run", "schema": 1, "id": "r1", "project": "p", "name": "r1", "time": T0},
        {"type": "start", "writer": "w0", "time": T0, "pid": 1, "host": "h"},
        {"type": "config", "time": T0, "values": {"lr": 0.1}}]
TAIL = [{"type": "summary", "time": T0 + 99, "values": {"best": 1}},
        {"type": "end", "writer": "w0", "time": T0 + 100, "status": "finished", "error": None}]


def compact(record) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def metrics_line(step: int) -> str:
    return compact({"type": "metrics", "step": step, "time": T0 + step / 2,
                    "values": {"loss": 1.0 / (step + 1), "acc": step, "lr": 0.1}})


# Lines that json reads one way and a careless typed decode might read another; each replaces a
# metrics line in the middle of a run.
ODD_LINES = [
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":"NaN","acc":1}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":true,"acc":1}}',
    '{"type":"metrics","step":true,"time":1790000002.5,"values":{"loss":1}}',
    '{"type":"metrics","step":5.0,"time":1790000002.5,"values":{"loss":1}}',
    '{"type":"metrics","step":5,"time":-1,"values":{"loss":1}}',
    f'{{"type":"metrics","step":5,"time":{MAX_UNIX_TIME_S + 1},"values":{{"loss":1}}}}',
    '{"type":"metrics","step":5,"time":"1","values":{"loss":1}}',
    '{"type":"metrics","step":5,"values":{"loss":1}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1},"extra":1}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1},"step":6}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1,"loss":2}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1},"type":"system"}',
    '{"type":"system","step":5,"time":1790000002.5,"values":{"cpu":50.0}}',
    '{"type":"summary","time":1790000002.5,"values":{"x":1}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"l\\udcffss":1}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"löss":1,"acc":2}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1e400}}',
    '{"type":"metrics","step":123456789012345678901234567890,"time":1790000002.5,"values":{"loss":1}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":NaN}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":[1]}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1}} {"type":"metrics"}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1}},'
    '{"type":"metrics","step":6,"time":1790000003,"values":{"loss":2}}',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1',
    '',
    '[1, 2]',
    '{"type":"metrics","step":5,"time":1790000002.5,"values":{"loss":1,"acc":2,"new":3}}',
]


def write_run(folder, lines: list[str], end_newline: bool = True) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join([compact(record) for record in HEAD] + lines + [compact(record) for record in TAIL])
    (folder / "events.jsonl").write_bytes((text + ("\n" if end_newline else "")).encode("utf-8", "surrogatepass"))
    return str(folder)


def snapshot(folder: str, **options) -> str:
    """Everything a read makes of ``folder``, as text."""
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = load_run(folder, now=T0 + 1000, on_metrics=lambda *call: calls.append(call), **options)
    series = {name: (history.steps, history.values, history.times, history.count)
              for target in (run.histories, run.system) for name, history in target.items()}
    return repr((series, list(run.histories), [vars(writer) for writer in run.writers], run.config,
                 run.explicit_summary, run.status, run.ended, run.last_seen, run.warnings, calls))


def detailed_snapshot(folder: str, monkeypatch, **options) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(typed_records, "_decode", False)  # as without msgspec: every chunk parsed as records
        return snapshot(folder, **options)


def test_a_run_tracker_writes_is_read_typed_and_alike(tmp_path, monkeypatch):
    run = tracker.init(project="p", dir=str(tmp_path), capture=False)
    for step in range(200):
        run.log({"train/loss": 1.0 / (step + 1), "acc": step, "lr": 0.001, "ünïcode": 0.5})
    tracker.finish()
    events = tmp_path / run.id / "events.jsonl"
    data = events.read_bytes()
    stretch = metrics_stretch(data, 1, data.count(b"\n"))
    assert stretch is not None and len(stretch.steps) == 200 and stretch.steps[:3] == [0, 1, 2]
    for options in ({}, {"max_points": 16}, {"last_only": True}):
        assert snapshot(str(events.parent), **options) == detailed_snapshot(str(events.parent), monkeypatch, **options)


@pytest.mark.parametrize("odd", ODD_LINES)
@pytest.mark.parametrize("position", [0, 5, 19])
def test_an_odd_line_reads_as_it_does_record_by_record(tmp_path, monkeypatch, odd, position):
    lines = [metrics_line(step) for step in range(20)]
    lines[position] = odd
    folder = write_run(tmp_path / "r", lines)
    assert snapshot(folder) == detailed_snapshot(folder, monkeypatch)
    assert snapshot(folder, max_points=8) == detailed_snapshot(folder, monkeypatch, max_points=8)


def test_random_runs_read_alike(tmp_path, monkeypatch):
    generator = random.Random(12)
    taken = refused = 0
    for case in range(60):
        lines = [metrics_line(step) for step in range(generator.randrange(1, 40))]
        for _ in range(generator.randrange(0, 3)):
            lines.insert(generator.randrange(len(lines) + 1), generator.choice(ODD_LINES))
        folder = write_run(tmp_path / str(case), lines, end_newline=generator.random() < 0.8)
        data = (tmp_path / str(case) / "events.jsonl").read_bytes()
        whole = data if data.endswith(b"\n") else data[:data.rfind(b"\n") + 1]
        if metrics_stretch(whole, 1, whole.count(b"\n")) is None:
            refused += 1
        else:
            taken += 1
        assert snapshot(folder) == detailed_snapshot(folder, monkeypatch), lines
    assert taken > 10 and refused > 10


def test_what_the_stretch_takes_and_leaves():
    assert METRICS_LINE_START == METRICS_PREFIX.encode()  # the writer's start of a metrics line
    lines = [metrics_line(step) for step in range(MIN_STRETCH_LINES)]
    data = "\n".join([compact(HEAD[0])] + lines + [compact(TAIL[1])]).encode() + b"\n"
    stretch = metrics_stretch(data, 10, MIN_STRETCH_LINES + 2)
    assert stretch.numbers == range(11, 11 + MIN_STRETCH_LINES)
    assert data[stretch.start:stretch.end].decode().splitlines() == lines
    assert stretch.times[1] == T0 + 0.5 and stretch.keys == ("loss", "acc", "lr") and stretch.values is None
    assert [column[2] for column in stretch.columns] == [1 / 3, 2, 0.1]  # every record holds those keys
    assert type(stretch.columns[1][2]) is int and not any(map(math.isnan, stretch.times))
    assert metrics_stretch(data.replace(lines[3].encode(), ODD_LINES[0].encode()), 10, MIN_STRETCH_LINES + 2) is None  # a NaN marker
    shorter = "\n".join(lines[:MIN_STRETCH_LINES - 1]).encode() + b"\n"
    assert metrics_stretch(shorter, 1, MIN_STRETCH_LINES - 1) is None  # too short to pay


def test_a_stretch_of_several_key_sets_comes_as_dicts():
    lines = [metrics_line(step) for step in range(MIN_STRETCH_LINES)]
    lines[4] = compact({"type": "metrics", "step": 4, "time": T0 + 2, "values": {"val/loss": 0.5}})
    data = ("\n".join(lines) + "\n").encode()
    stretch = metrics_stretch(data, 1, len(lines))
    assert stretch.keys == () and stretch.columns == ()
    assert stretch.values[4] == {"val/loss": 0.5} and stretch.values[5] == {"loss": 1 / 6, "acc": 5, "lr": 0.1}


def test_records_of_one_key_set_in_another_order_give_the_same_series(tmp_path, monkeypatch):
    """Values are taken by name: the series are those of the record-by-record read. Only the order
    of one record's values in its on_metrics dict (and so of its rows in the CSV) follows the
    stretch's first record."""
    lines = [metrics_line(step) for step in range(20)]
    lines[7] = compact({"type": "metrics", "step": 7, "time": T0 + 3.5, "values": {"lr": 0.2, "loss": 0.3, "acc": 7}})
    folder = write_run(tmp_path / "r", lines)
    typed, detailed = [], []
    read = load_run(folder, now=T0 + 1000, on_metrics=lambda *call: typed.extend(zip(*call)))
    with monkeypatch.context() as patch:
        patch.setattr(typed_records, "_decode", False)
        whole = load_run(folder, now=T0 + 1000, on_metrics=lambda *call: detailed.extend(zip(*call)))
    assert {name: vars(history) for name, history in read.histories.items()} == \
        {name: vars(history) for name, history in whole.histories.items()}
    assert list(read.histories) == list(whole.histories) == ["loss", "acc", "lr"]
    assert typed == detailed and list(typed[7][2]) == ["loss", "acc", "lr"]


def test_columns_reach_a_spool_that_takes_them(tmp_path, monkeypatch):
    """An on_metrics with add_columns gets a keyed stretch as columns, the same records otherwise."""
    lines = [metrics_line(step) for step in range(30)]
    lines[12] = ODD_LINES[0]  # a NaN marker: this chunk's records come one by one
    first = write_run(tmp_path / "a", lines)
    second = write_run(tmp_path / "b", [metrics_line(step) for step in range(30)])

    class Columns:
        def __init__(self):
            self.records, self.stretches = [], 0

        def __call__(self, steps, times, values):
            self.records.extend(zip(steps, times, values))

        def add_columns(self, steps, times, keys, columns):
            self.stretches += 1
            self.records.extend(zip(steps, times, [dict(zip(keys, row)) for row in zip(*columns)]))

    for folder, stretches in ((first, 0), (second, 1)):
        spool, plain = Columns(), []
        load_run(folder, now=T0 + 1000, on_metrics=spool)
        load_run(folder, now=T0 + 1000, on_metrics=lambda *call: plain.extend(zip(*call)))
        assert spool.stretches == stretches and repr(spool.records) == repr(plain)
