"""A run whose writers all ended is listed from the head and tail of its files (tracker/tail_reading.py,
over the state each end record carries: tracker/end_state.py), and lists exactly as a full read does."""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import warnings

import pytest

import tracker
from tracker.end_state import FileState
from tracker.line_encoding import BatchEncoder, queued_metrics
from tracker.listing import LISTING_FILE, list_runs
from tracker.reader import load_run
from tracker.run_keys import events_files
from tracker.tail_reading import (load_from_ends, merged_metrics, plain_row, row_from_files, run_ends,
                                   run_from_ends)
from tracker.values import replace_non_finite

T0 = 1_790_000_000.0


def as_text(value) -> str:
    """JSON text that tells NaN from NaN equal (dict == does not) and keeps order where it matters."""
    return json.dumps(replace_non_finite(value), sort_keys=True)


def assert_fast_equals_full(path: str) -> None:
    """The fast path reads the run, and what it lists is what a full read lists."""
    fast = load_from_ends(path)
    assert fast is not None, f"{path} was not read from its ends"
    full = load_run(path, last_only=True)
    assert full.warnings == []
    assert as_text(fast.as_filterable()) == as_text(full.as_filterable())
    assert fast.as_filterable()["tags"] == full.as_filterable()["tags"]  # in order
    assert {name: (h.steps, as_text(h.values), h.times, h.count) for name, h in fast.histories.items()} == \
           {name: (h.steps, as_text(h.values), h.times, h.count) for name, h in full.histories.items()}
    # min and max leave NaN out; all-NaN metrics have neither
    whole = load_run(path)
    expected = {}
    for name, history in whole.histories.items():
        numbers = [value for value in history.values if value == value]
        expected[name] = (min(numbers) if numbers else None, max(numbers) if numbers else None, history.count)
    ends = run_ends(path)
    merged = merged_metrics(ends)
    assert {name: (m.min, m.max, m.count) for name, m in merged.items()} == expected
    assert_plain_row_is_the_general_one(path)


def assert_plain_row_is_the_general_one(path: str) -> bool:
    """The listing's shortcut for the usual run (plain_row) gives the row of the general way, key
    order and tag order included. True when the shortcut took the run."""
    ends = run_ends(path)
    general = run_from_ends(path, ends).as_filterable()
    # and the listing's own entry, which tries msgspec's types first (tests/test_typed_ends.py)
    listed = row_from_files(path, events_files(path))
    assert list(listed) == list(general) and as_text(listed) == as_text(general)
    plain = plain_row(path, ends)
    if plain is None:
        return False
    assert list(plain) == list(general) and plain["tags"] == general["tags"]
    assert as_text(plain) == as_text(general)
    return True


def end_record(path: str, name: str = "events.jsonl") -> dict:
    with open(os.path.join(path, name), "rb") as handle:
        return json.loads(handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1])


# -- runs logged through the API ---------------------------------------------------------------


def test_non_finite_and_boolean_values_give_the_full_reads_last_min_and_max(tmp_path):
    run = tracker.init(project="p", name="nan", dir=str(tmp_path), capture=False, config={"lr": math.nan})
    for step, value in enumerate([math.nan, 1.0, math.inf, -math.inf, 2.0, math.nan]):
        run.log({"loss": value, "all_nan": math.nan, "flag": step % 2 == 0, "big": 10**30 + step}, step=step)
    run.finish()
    state = end_record(run.path)["state"]
    assert state["metrics"]["loss"] == {"last": [5, "NaN", state["metrics"]["loss"]["last"][2]],
                                        "min": "-Infinity", "max": "Infinity", "count": 6}
    assert state["metrics"]["all_nan"]["min"] is None and state["metrics"]["flag"]["max"] == 1
    assert_fast_equals_full(run.path)


def test_state_set_after_the_metrics_and_steps_logged_out_of_order(tmp_path):
    run = tracker.init(project="p", name="late", dir=str(tmp_path), capture=False, config={"lr": 0.1, "opt": {"b": 1}},
                       tags=["a", "b"], notes="first")
    for step in (5, 3, 5, 4):
        run.log({"loss": step / 10, "acc": 1 - step / 10}, step=step)
    run.log({"only_once": 1.5})
    run.summary["best"] = 0.3
    run.config["lr"] = 0.2
    run.add_tags("c")
    run.set_notes("second")
    run.summary.update({"best": 0.25, "text": "x"})
    run.finish(status="failed", error="Traceback: boom")
    assert_fast_equals_full(run.path)
    row = load_from_ends(run.path).as_filterable()
    assert row["status"] == "failed" and row["notes"] == "second" and row["tags"] == ["a", "b", "c"]
    assert row["summary"] == {"loss": 0.5, "acc": 0.5, "only_once": 1.5, "best": 0.25, "text": "x"}  # step 5, logged last


def test_a_resumed_run_merges_the_states_of_its_files(tmp_path):
    first = tracker.init(project="p", name="resumed", dir=str(tmp_path), capture=False, config={"lr": 0.1, "keep": 1},
                         tags=["first"])
    for step in range(10):
        first.log({"loss": 1 / (step + 1), "first_only": step})
    first.summary["note"] = "from the first"
    first.finish()
    second = tracker.init(id=first.id, resume=True, dir=str(tmp_path), capture=False, config={"lr": 0.01})
    for step in range(10, 15):
        second.log({"loss": 1 / (step + 1), "second_only": math.nan if step == 10 else step})
    second.log({"loss": 0.0}, step=3)  # a lower step: the first file's last point stays the run's
    second.summary["note"] = "from the second"
    second.finish()
    assert len([name for name in os.listdir(first.path) if name.startswith("events")]) == 2
    assert_fast_equals_full(first.path)
    row = load_from_ends(first.path).as_filterable()
    assert row["config"] == {"lr": 0.01, "keep": 1} and row["summary"]["note"] == "from the second"
    assert row["summary"]["loss"] == 1 / 15 and load_from_ends(first.path).histories["loss"].count == 16


def test_many_batches_of_alternating_key_sets(tmp_path, monkeypatch):
    monkeypatch.setattr("tracker.writer.FLUSH_AT_RECORDS", 500)  # many batches, stretches cut across them
    run = tracker.init(project="p", name="batches", dir=str(tmp_path), capture=False)
    rng = random.Random(3)
    for step in range(5_000):
        keys = ("loss", "acc") if step % 3 else ("loss",)
        run.log({key: rng.choice([rng.random(), math.nan, math.inf]) for key in keys}, step=step // 2)
        if step % 997 == 0:
            run.add_tags(f"t{step}")
    run.finish()
    assert_fast_equals_full(run.path)


# -- runs the fast path leaves to a full read --------------------------------------------------


def logged_run(tmp_path, name="run") -> str:
    run = tracker.init(project="p", name=name, dir=str(tmp_path), capture=False, config={"lr": 0.1})
    for step in range(20):
        run.log({"loss": 1 / (step + 1)})
    run.finish()
    return run.path


def rewrite_end(path: str, change) -> None:
    file = os.path.join(path, "events.jsonl")
    with open(file, "rb") as handle:
        lines = handle.read().rstrip(b"\n").split(b"\n")
    end = json.loads(lines[-1])
    lines[-1] = json.dumps(change(end), separators=(",", ":")).encode()
    with open(file, "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("damage", ["older format", "torn tail", "record after the end", "line inserted",
                                    "crashed", "state not as the format says", "a type that is no text"])
def test_runs_without_a_usable_end_state_are_read_whole_and_list_the_same(tmp_path, damage):
    runs = tmp_path / "runs"
    path = logged_run(runs)
    file = os.path.join(path, "events.jsonl")
    if damage == "older format":
        rewrite_end(path, lambda end: {key: value for key, value in end.items() if key != "state"})
    elif damage == "torn tail":
        with open(file, "ab") as handle:
            handle.write(b'{"type":"metrics","step":99,"ti')
    elif damage == "record after the end":
        with open(file, "ab") as handle:
            handle.write(b'{"type":"summary","time":1790000000.0,"values":{"late":1}}\n')
    elif damage == "line inserted":
        with open(file, "rb") as handle:
            lines = handle.read().split(b"\n")
        lines.insert(3, b'{"type":"metrics","step":0,"time":1790000000.0,"values":{"inserted":1}}')
        with open(file, "wb") as handle:
            handle.write(b"\n".join(lines))
    elif damage == "a type that is no text":  # the head's end is told by the type: this one is a list
        with open(file, "rb") as handle:
            lines = handle.read().split(b"\n")
        lines.insert(2, b'{"type":["start"]}')
        with open(file, "wb") as handle:
            handle.write(b"\n".join(lines))
    elif damage == "crashed":
        with open(file, "rb") as handle:
            lines = handle.read().rstrip(b"\n").split(b"\n")
        with open(file, "wb") as handle:
            handle.write(b"\n".join(lines[:-1]) + b"\n")
    else:
        rewrite_end(path, lambda end: end | {"state": end["state"] | {"metrics": {"loss": {"last": "x"}}}})
    assert load_from_ends(path) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the torn line: list_runs must warn about it, below
        full = load_run(path, last_only=True)
    with pytest.warns(UserWarning, match="torn last line") if damage == "torn tail" else contextlib.nullcontext():
        listed = list_runs(runs).rows
    assert as_text([{key: value for key, value in row.items() if key not in ("path", "duration_s")}
                    for row in listed]) == \
           as_text([{key: value for key, value in full.as_filterable().items() if key != "duration_s"}])


def test_a_full_read_ignores_the_state_and_reports_nothing_about_it(tmp_path):
    path = logged_run(tmp_path)
    rewrite_end(path, lambda end: end | {"state": {"config": [[[[[]]]]] * 3, "bytes": -1}})
    run = load_run(path)
    assert run.warnings == [] and run.status == "finished"


def test_a_writer_that_cannot_vouch_for_its_file_writes_no_state(tmp_path):
    state = FileState()
    encoder = BatchEncoder(lambda cause, message: None, state)
    encoder.encode([queued_metrics(0, T0, {"loss": 1.0}), {"type": "config", "time": T0, "values": {"bad": "\udce9"}}])
    assert not state.valid  # the surrogate was escaped in the file: the folded value is not the file's
    data = encoder.encode([{"type": "end", "writer": "w", "time": T0 + 1, "status": "finished"}])
    assert "state" not in json.loads(data)


# -- the usual run's shortcut (plain_row) -----------------------------------------------------


def test_a_usual_run_takes_the_shortcut_to_its_row(tmp_path):
    path = logged_run(tmp_path)
    assert assert_plain_row_is_the_general_one(path)


@pytest.mark.parametrize("change", [
    lambda end: end | {"error": "Traceback: caf\u00e9"},  # non-ASCII text: the record check copies the record
    lambda end: end | {"writer": "another"},  # an end record of a writer that never started
    lambda end: end | {"time": end["time"] - 3600},  # before its start: a problem a full read reports
    lambda end: end | {"status": "running"},
    lambda end: end | {"time": "late"},  # a field the record check drops
])
def test_a_run_the_shortcut_leaves_lists_as_read_whole(tmp_path, change):
    runs = tmp_path / "runs"
    path = logged_run(runs)
    rewrite_end(path, change)
    ends = run_ends(path)
    assert ends is not None and plain_row(path, ends) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = load_run(path, last_only=True)
        listed = list_runs(runs, now=T0).rows
    assert as_text([{key: value for key, value in row.items() if key not in ("path", "duration_s")}
                    for row in listed]) == \
           as_text([{key: value for key, value in full.as_filterable().items() if key != "duration_s"}])


# -- a property: random files through the writer's own encoder ---------------------------------


def random_items(rng: random.Random, start_time: float) -> list:
    """Items as the client queues them (metrics tuples, record dicts), with times that tie, go
    back, or are missing, steps that repeat and go back, and values of every kind."""
    items, wall_time, step = [], start_time, 0
    names = ["loss", "acc", "lr", "x/y"]
    for _ in range(rng.randint(0, 60)):
        wall_time += rng.choice([0.0, 0.0, 0.5, 1.0, -0.25])
        kind = rng.random()
        if kind < 0.6:
            step = step + 1 if rng.random() < 0.8 else max(0, step - rng.randint(0, 3))
            values = {name: rng.choice([rng.random(), rng.randint(-5, 5), math.nan, math.inf, -math.inf, 1.0])
                      for name in rng.sample(names, rng.randint(0, len(names)))}  # in any order, or none
            items.append(queued_metrics(step, wall_time, values))
        elif kind < 0.7:
            items.append({"type": "config", "time": wall_time,
                          "values": {rng.choice(["lr", "depth", "opt"]): rng.choice([1, "adam", {"b": [1, 2]}, None])}})
        elif kind < 0.8:
            items.append({"type": "summary", "time": wall_time,
                          "values": {rng.choice(["best", "note"]): rng.choice([0.5, "NaN", "Infinity", "text", 3])}})
        elif kind < 0.9:
            record = {"type": "tags", "add": rng.sample(["a", "b", "c"], rng.randint(0, 2))}
            if rng.random() < 0.4:
                record["remove"] = rng.sample(["a", "b", "c"], 1)
            items.append(record)
        else:
            items.append({"type": "notes", "text": rng.choice(["one", "two", ""])})
    return items


def write_file(folder: str, name: str, head: list[dict], items: list, end: dict, batch: int) -> None:
    state = FileState()
    state.add_head(head)
    encoder = BatchEncoder(lambda cause, message: None, state)
    data = BatchEncoder(lambda cause, message: None).encode(head)
    items = items + [end]
    for start in range(0, len(items), batch):
        data += encoder.encode(items[start:start + batch])
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)


@pytest.mark.parametrize("seed", range(60))
def test_random_runs_list_the_same_from_their_ends_as_read_whole(tmp_path, seed):
    rng = random.Random(seed)
    folder = tmp_path / f"run-{seed}"
    folder.mkdir()
    created = T0 + rng.random()
    for index in range(rng.randint(1, 3)):
        writer = f"w{index}"
        head = ([{"type": "run", "schema": 1, "id": folder.name, "project": "p", "name": "n", "group": None,
                  "time": created}] if index == 0 else [])
        start = created + index * rng.choice([0.0, 5.0])
        head.append({"type": "start", "writer": writer, "time": start, "pid": index, "host": "h", "user": "u",
                     "resumed": index > 0, "rank": None, "heartbeat_interval_s": 2.0})
        end = {"type": "end", "writer": writer, "time": start + 100.0,
               "status": rng.choice(["finished", "finished", "failed"]), "error": None}
        name = "events.jsonl" if index == 0 else f"events-{writer}.jsonl"
        write_file(str(folder), name, head, random_items(rng, start), end, rng.choice([1, 3, 1000]))
    assert_fast_equals_full(str(folder))


def test_the_listing_reads_neither_the_middle_of_a_finished_run_nor_its_problems(tmp_path):
    runs = tmp_path / "runs"
    path = logged_run(runs)
    file = os.path.join(path, "events.jsonl")
    with open(file, "rb") as handle:
        data = handle.read()
    middle = data.index(b'{"type":"metrics","step":10,')
    with open(file, "r+b") as handle:  # the same number of bytes: only a read of the middle can tell
        handle.seek(middle)
        handle.write(b"x" * 10)
    with pytest.warns(UserWarning, match="corrupt line"):
        assert load_run(path).history("loss").count == 19
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [row] = list_runs(runs).rows
    assert row["summary"] == {"loss": 1 / 20} and row["config"] == {"lr": 0.1}


def test_a_first_listing_of_many_runs_reads_their_ends_on_every_core_with_the_same_result(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    paths = [logged_run(runs, f"run-{n:02d}") for n in range(20)]
    rewrite_end(paths[3], lambda end: {key: value for key, value in end.items() if key != "state"})  # read whole
    # the workers also find the folders' keys: what is not a run is reported as find_run_folders does
    shutil.copytree(paths[5], os.path.join(paths[7], "nested"))
    os.makedirs(runs / "run-08b-empty")
    shutil.copytree(paths[9], runs / "run-09-copy")
    serial = list_runs(runs)
    assert len(serial.errors) == 1 and len(serial.copies) == 1
    os.unlink(runs / LISTING_FILE)
    monkeypatch.setattr("tracker.listing.ENDS_PARALLEL_MIN_RUNS", 10)
    monkeypatch.setattr("tracker.listing.WORKERS_START_S", 0.0)  # so that the workers pay for 20 runs
    monkeypatch.setattr("tracker.listing.ENDS_RUNS_PER_TASK", 4)  # batches for two workers
    parallel = list_runs(runs)
    assert as_text(parallel.rows) == as_text(serial.rows)
    assert parallel.errors == serial.errors and parallel.copies == serial.copies
    assert list_runs(runs).rows == parallel.rows  # from the cache the workers' keys made
    assert [row["name"] for row in parallel.rows] == [f"run-{n:02d}" for n in range(20)]


def test_runs_are_read_from_their_ends_on_workers_only_where_the_cores_save_more_than_they_cost(monkeypatch):
    from tracker.listing import _ends_workers_pay

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert not _ends_workers_pay(10_000) and _ends_workers_pay(13_000)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert _ends_workers_pay(7_000) and not _ends_workers_pay(2_999)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not _ends_workers_pay(10**6)
