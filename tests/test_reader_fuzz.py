"""Property test: random bytes and randomly mistyped records never make a reader raise, and never cost
a good run. A seeded generator (each seed's runs folder can be rebuilt to debug a failure)."""
from __future__ import annotations

import json
import math
import os
import random
import warnings

import pytest

from tracker.listing import list_runs
from tracker.reader import load_run, scan
from tracker.record_schema import SCHEMAS

T0 = 1_790_000_000.0
SEEDS = range(12)
GOOD_METRIC = "good_loss"  # a name the fuzzer never writes, so no broken record can change its value

# A valid record of each type: the fuzzer breaks copies of these.
TEMPLATES = [
    {"type": "run", "schema": 1, "id": "x", "project": "p", "name": "n", "group": None, "time": T0},
    {"type": "start", "writer": "w", "time": T0, "pid": 1, "host": "h", "user": "u", "heartbeat_interval_s": 2},
    {"type": "metrics", "step": 3, "time": T0 + 1, "values": {"loss": 0.5, "acc": "NaN"}},
    {"type": "system", "step": 0, "time": T0 + 1, "values": {"cpu_percent": 3}},
    {"type": "config", "time": T0, "values": {"lr": 0.1, "opt": {"name": "adam"}}},
    {"type": "summary", "time": T0, "values": {"best": 1}},
    {"type": "tags", "add": ["a"], "remove": ["b"]},
    {"type": "notes", "text": "hello"},
    {"type": "dataset", "name": "d", "path": "p", "kind": "file", "sha256": "ab", "size_bytes": 3, "rows": 1,
     "columns": ["c"]},
    {"type": "artifact", "name": "m", "path": "artifacts/m", "kind": "file", "size_bytes": 1, "sha256": "cd"},
    {"type": "git", "available": True, "commit": "abc", "remote_url": "u", "dirty": False, "untracked_files": []},
    {"type": "code", "command": ["python"], "command_line": "python", "env_files": [{"name": "r"}]},
    {"type": "environment", "python": "3", "packages": {"numpy": "2"}, "env": {}},
    {"type": "hardware", "cpu_count_logical": 4, "memory_total_bytes": 8, "gpus": [{"name": "g"}]},
    {"type": "media", "key": "img", "step": 3, "time": T0 + 1, "index": 0, "file": "media/ab/ab" + "0" * 62 + ".png",
     "size_bytes": 9, "kind": "image", "width": 2, "height": 1, "caption": None},
    {"type": "alert", "time": T0 + 2, "title": "loss is NaN", "text": "at step 3", "level": "error", "step": 3},
    {"type": "end", "writer": "w", "time": T0 + 5, "status": "finished", "error": None},
]
assert {record["type"] for record in TEMPLATES} == set(SCHEMAS)


def random_value(rng: random.Random, depth: int = 0):
    choice = rng.randrange(14)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.randint(-10**30, 10**30)
    if choice == 3:
        return rng.choice([1e30, -1.0, 0.0, 1e308, T0, float("nan"), float("inf")])
    if choice == 4:
        return rng.choice(["", "NaN", "Infinity", "x" * 50, "\udc80bad", "caf\u00e9", "\x00"])
    if choice == 5 and depth < 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    if choice == 6 and depth < 4:
        return {rng.choice(["a", "b", "type", "\ud800"]): random_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    if choice == 7:
        value: object = 1
        for _ in range(rng.choice([70, 300])):
            value = [value]
        return value
    return rng.choice([0, 1, 7, "text", [], {}])


def mistyped_record(rng: random.Random) -> dict:
    record = json.loads(json.dumps(rng.choice(TEMPLATES)))
    for _ in range(rng.randrange(1, 4)):
        key = rng.choice([*record, "values", "step", "time", "add"])
        if key == "type" and rng.random() < 0.8:
            continue
        if rng.random() < 0.2:
            record.pop(key, None)
        elif key == "values" and isinstance(record.get("values"), dict) and rng.random() < 0.5:
            record["values"][rng.choice(["loss", "lr", "\udc80"])] = random_value(rng)
        else:
            record[key] = random_value(rng)
    return record


def garbage_line(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
    if kind == 1:
        return json.dumps(mistyped_record(rng)).encode()[: rng.randrange(1, 40)]  # torn
    if kind == 2:
        return json.dumps(rng.choice([[1], "s", 3, None])).encode()
    if kind == 3:
        return json.dumps(mistyped_record(rng), ensure_ascii=False).encode("utf-16", "surrogatepass")
    return b"\x00" * rng.randrange(1, 10)


def encode(record: dict) -> bytes:
    return json.dumps(record).encode("utf-8", "surrogatepass")


def good_run(root: str, rng: random.Random, number: int) -> tuple[str, str, float]:
    """A run with its good records among broken ones; (folder, id, last loss)."""
    run_id = f"good-{number}"
    path = os.path.join(root, run_id)
    os.makedirs(path)
    lines = [encode({"type": "run", "schema": 1, "id": run_id, "project": "p", "name": run_id, "time": T0}),
             encode({"type": "start", "writer": "w", "time": T0, "pid": 1, "host": "h"})]
    last_loss = 0.0
    for step in range(rng.randrange(1, 30)):
        last_loss = rng.random()
        lines.append(encode({"type": "metrics", "step": step, "time": T0 + step, "values": {GOOD_METRIC: last_loss}}))
        for _ in range(rng.randrange(3)):
            lines.append(encode(mistyped_record(rng)) if rng.random() < 0.7 else garbage_line(rng))
    # A mistyped record may legitimately log a higher step, so the point checked comes last.
    last_loss = 0.25
    lines.append(encode({"type": "metrics", "step": 10**6, "time": T0 + 99, "values": {GOOD_METRIC: last_loss}}))
    with open(os.path.join(path, "events.jsonl"), "wb") as handle:
        handle.write(b"\n".join(lines) + rng.choice([b"\n", b"", b"\n\n"]))
    return path, run_id, last_loss


def bad_run(root: str, rng: random.Random, number: int) -> None:
    path = os.path.join(root, f"bad-{number}")
    os.makedirs(path)
    name = rng.choice(["events.jsonl", "events-w.jsonl"])
    with open(os.path.join(path, name), "wb") as handle:
        if rng.random() < 0.5:
            handle.write(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000))))
        else:
            handle.write(b"\n".join(encode(mistyped_record(rng)) if rng.random() < 0.5 else garbage_line(rng)
                                    for _ in range(rng.randrange(1, 40))))
    if rng.random() < 0.3:
        with open(os.path.join(path, "heartbeat-w.json"), "wb") as handle:
            handle.write(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 50))))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_bytes_and_mistyped_records_never_raise_and_keep_every_good_run(tmp_path, seed):
    rng = random.Random(seed)
    root = str(tmp_path / "runs")
    os.makedirs(root)
    good = [good_run(root, rng, number) for number in range(4)]
    for number in range(6):
        bad_run(root, rng, number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(os.listdir(root)):
            try:
                run = load_run(os.path.join(root, name), max_points=rng.choice([None, 8, 100]))
            except ValueError as exc:  # RunFormatError: nothing in the folder identifies a run
                assert type(exc).__name__ == "RunFormatError"
                continue
            json.dumps(run.as_filterable(), default=str)  # what ls prints and the site embeds
            str(run.as_filterable()).encode("utf-8")
        loaded = {run.id: run for run in scan(root).runs}
        listed = {row["id"]: row for row in list_runs(root).rows}
        listed_again = {row["id"]: row for row in list_runs(root).rows}  # from the cache it just wrote
    for path, run_id, last_loss in good:
        assert loaded[run_id].path == path
        assert loaded[run_id].summary[GOOD_METRIC] == last_loss
        assert listed[run_id]["summary"][GOOD_METRIC] == last_loss
        assert math.isclose(listed_again[run_id]["created"], T0)
