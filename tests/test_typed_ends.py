"""The usual run's records decoded and checked by msgspec's types (tracker/typed_ends.py) give the
row that the Python record checks give (tail_reading.plain_row), and take no run those checks
would change or refuse. Seeds are the run, start and end records of runs tracker itself writes;
each is then changed at one random place, or its bytes are (text that needs escaping, records
out of order, a third head record), and both paths read the same bytes."""
from __future__ import annotations

import copy
import json
import math
import os
import random

import pytest
from test_record_schema_fast_path import as_text, mutations

import tracker
from tracker import typed_ends
from tracker.record_schema import MAX_NESTING_DEPTH, SCHEMAS, Expect
from tracker.run_keys import events_files
from tracker.tail_reading import _file_bytes, _parsed_ends, plain_row, row_from_ends, row_from_files, typed_row
from tracker.typed_ends import TYPES, decode_usual

MUTATIONS_PER_RUN = 1500
FILE = "/runs/r/events.jsonl"


@pytest.fixture(scope="module")
def written_runs(tmp_path_factory) -> list[tuple[list[dict], bytes, dict]]:
    """(head records, the lines between, end record) of a few runs written by tracker itself."""
    folder = tmp_path_factory.mktemp("runs")
    runs = []
    for index, (config, tags, notes) in enumerate([({"lr": 0.1, "model": {"depth": 8, "widths": [1, 2]}}, ["a", "b"], "n"),
                                                   ({}, None, None), ({"opt": "sgd", "seed": 3}, ["x"], None)]):
        run = tracker.init(project="p", name=f"run-{index}", dir=str(folder), capture=False, config=config,
                           tags=tags, notes=notes)
        for step in range(5):
            run.log({"loss": 1 / (step + 1), "int": step, "zero": 0.0}, step=step)
        run.summary["best"] = 0.5
        if index == 1:
            run.add_tags("later")
        run.finish(status="failed" if index == 2 else "finished", error="boom" if index == 2 else None)
        [file] = events_files(run.path)
        with open(file, "rb") as handle:
            lines = handle.read().split(b"\n")[:-1]
        runs.append(([json.loads(line) for line in lines[:2]], b"".join(line + b"\n" for line in lines[2:-1]),
                     json.loads(lines[-1])))
    return runs


def encode(record, rng: random.Random) -> bytes:
    """A record's line as a writer (ensure_ascii off) or a hand (escapes, raw surrogates) writes it."""
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=rng.random() < 0.3)
    return text.encode("utf-8", "surrogatepass") + b"\n"


def file_parts(head: list[dict], middle: bytes, end: dict, rng: random.Random) -> tuple[bytes, bytes, int]:
    """(head bytes, end line, where it starts) of the file these records make, as _file_bytes
    gives them; the state's byte count made to match unless the change was to it."""
    head_bytes = b"".join(encode(record, rng) for record in head)
    state = end.get("state")
    if type(state) is dict and state.get("bytes") == "match":
        end = end | {"state": state | {"bytes": len(head_bytes) + len(middle)}}
    return head_bytes, encode(end, rng), len(head_bytes) + len(middle)


def reference_row(head: bytes, line: bytes, start: int) -> tuple[dict | None, dict | None]:
    """(plain_row, the row the general way gives) of the file's ends read by the Python checks."""
    found = _parsed_ends(head, line, start, FILE)
    if found is None:
        return None, None
    ends = [(FILE, found)]
    return plain_row("/runs/r", ends), row_from_ends("/runs/r", ends)


def assert_typed_is_plain(head: bytes, line: bytes, start: int) -> bool:
    """typed_row takes only what plain_row takes, and gives its row (key and tag order too)."""
    typed = typed_row("/runs/r", FILE, head, line, start)
    plain, general = reference_row(head, line, start)
    if typed is None:
        return False
    assert plain is not None, (head, line)
    assert list(typed) == list(plain) and typed["tags"] == plain["tags"]
    assert as_text(typed) == as_text(plain) == as_text(general)
    return True


def test_every_field_of_the_run_start_and_end_schemas_has_a_type():
    for kind in ("run", "start", "end"):
        assert all(expect in TYPES for name, expect in SCHEMAS[kind].optional.items() if name != "state"), kind
    assert typed_ends._decoder is not None  # else every run takes the Python checks


def test_a_field_without_a_type_turns_the_typed_path_off_rather_than_the_listing(monkeypatch):
    monkeypatch.setitem(SCHEMAS["start"].optional, "colour", Expect(str, "a colour", (str,)))
    assert typed_ends._usual_decoder() is None


def test_written_runs_take_the_typed_path(written_runs):
    for head, middle, end in written_runs:
        assert decode_usual(b"[" + b",".join(json.dumps(record).encode() for record in [*head, end]) + b"]")
        end = end | {"state": end["state"] | {"bytes": "match"}}
        assert assert_typed_is_plain(*file_parts(head, middle, end, random.Random(0)))


def test_typed_row_is_plain_row_on_mutated_records(written_runs):
    rng = random.Random(5)
    taken = refused = 0
    for head, middle, end in written_runs:
        seed = [*head, end | {"state": end["state"] | {"bytes": "match"}}]
        for records in mutations(seed, rng, MUTATIONS_PER_RUN):
            if all(type(record) is dict for record in records):
                parts = file_parts(records[:-1], middle, records[-1], rng)
                if assert_typed_is_plain(*parts):
                    taken += 1
                else:
                    refused += 1
    assert taken > 300 and refused > 1000  # both ways were tried


@pytest.mark.parametrize("change", ["start first", "a second start", "end record only", "unknown field", "deep config",
                                    "escaped text", "raw UTF-8 text", "no type", "bytes off by one", "NaN marker",
                                    "boolean metric", "nested unknown field"])
def test_what_the_typed_path_leaves_to_the_python_checks(written_runs, change):
    head, middle, end = copy.deepcopy(written_runs[0])
    end["state"]["bytes"] = "match"
    if change == "start first":
        head.reverse()
    elif change == "a second start":
        head.append(head[1] | {"writer": "w2"})
    elif change == "end record only":
        head = []
    elif change == "unknown field":
        head[0]["colour"] = "red"
    elif change == "deep config":
        value: object = 1
        for _ in range(MAX_NESTING_DEPTH):
            value = [value]
        end["state"]["config"]["model"][2] = value
    elif change == "escaped text":
        head[0]["name"] = "caf\u00e9"
    elif change == "raw UTF-8 text":
        end["error"] = "caf\u00e9"
    elif change == "no type":
        del head[1]["type"]
    elif change == "bytes off by one":
        end["state"]["bytes"] = 1
    elif change == "NaN marker":
        end["state"]["metrics"]["loss"]["min"] = "NaN"
    elif change == "boolean metric":
        end["state"]["metrics"]["loss"]["last"][1] = True
    else:
        head[1]["extra"] = {"a": [1, 2]}
    rng = random.Random(0)
    rng.random = lambda: 1.0 if change == "raw UTF-8 text" else 0.0  # ensure_ascii: raw UTF-8, else escapes
    parts = file_parts(head, middle, end, rng)
    assert typed_row("/runs/r", FILE, *parts) is None
    assert_typed_is_plain(*parts)


def test_a_listing_reads_the_usual_run_by_the_typed_path_and_others_as_before(tmp_path):
    run = tracker.init(project="p", name="usual", dir=str(tmp_path), capture=False, config={"lr": 0.1}, tags=["t"])
    run.log({"loss": math.nan})
    run.log({"loss": 0.5})
    run.finish()
    files = events_files(run.path)
    assert typed_row(run.path, files[0], *_file_bytes(files[0])) is not None
    found = _parsed_ends(*_file_bytes(files[0]), files[0])
    assert as_text(row_from_files(run.path, files)) == as_text(row_from_ends(run.path, [(files[0], found)]))
    os.rename(files[0], os.path.join(run.path, "events-w2.jsonl"))  # another writer's file: the general way
    files = events_files(run.path)
    assert row_from_files(run.path, files)["summary"] == {"loss": 0.5}


def test_without_msgspec_a_listing_gives_the_same_row_through_the_python_checks(tmp_path, monkeypatch):
    run = tracker.init(project="p", name="light", dir=str(tmp_path), capture=False, config={"a": {"b": [1, 2]}})
    run.log({"loss": 0.25})
    run.finish()
    files = events_files(run.path)
    typed = row_from_files(run.path, files)
    monkeypatch.setattr("tracker.tail_reading.decode_usual", None)  # as tail_reading leaves it in a light install
    assert typed is not None and as_text(row_from_files(run.path, files)) == as_text(typed)
