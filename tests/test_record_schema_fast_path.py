"""The record checks' fast paths (tracker/record_schema.py) take exactly what the detailed checks
leave as it is, and give what they give: Schema.passes against check_record's field-by-field
loops, _plain_end_state against check_end_state's detailed path. Seeds are records a real run
writes; each is then mutated at random (a value replaced by a hostile one, a key removed or
added) and both paths are run on it."""
from __future__ import annotations

import copy
import json
import math
import random

import pytest

import tracker
from tracker.event_lines import parse_lines
from tracker.problems import Problems
from tracker.record_schema import (SCHEMAS, EndStateError, _checked_end_state, _checked_fields,
                                   _plain_end_state, _same, check_end_state, check_record)
from tracker.run_keys import events_files
from tracker.values import replace_non_finite

MUTATIONS_PER_SEED = 2000
HOSTILE = [None, True, False, 0, -1, 7, 2**70, 1.5, -2.5, math.nan, math.inf, -math.inf, 1e12, "", "x", "NaN",
           "\udc80", "é", [], [1, 2, 3], ["a", "b"], [1.0, 2.0, 1.0e9], {}, {"a": 1}, {"last": [1, 2.0, 3.0]}]


def deep(levels: int):
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


HOSTILE.append(deep(70))


def as_text(value) -> str:
    """JSON text of a checked value that tells NaN from NaN equal and int from float apart."""
    return json.dumps(replace_non_finite(_typed(value)), sort_keys=True)


def _typed(value):
    if type(value) is dict:
        return {key: _typed(item) for key, item in value.items()}
    if type(value) is list:
        return [_typed(item) for item in value]
    return [type(value).__name__, value] if type(value) in (int, float, bool) else value


@pytest.fixture(scope="module")
def written_records(tmp_path_factory) -> list[dict]:
    """Every record of a few runs written by tracker itself: the shapes the fast paths are for."""
    folder = tmp_path_factory.mktemp("runs")
    records = []
    for index, config in enumerate([{"lr": 0.1, "model": {"depth": 8, "widths": [1, 2]}}, {}, {"opt": "sgd"}]):
        run = tracker.init(project="p", name=f"run-{index}", dir=str(folder), capture=False, config=config,
                           tags=["a", "b"] if index != 1 else None, notes="a note" if index == 0 else None)
        for step in range(5):
            run.log({"loss": 1 / (step + 1), "flag": step % 2 == 0, "int": step}, step=step)
            if index == 2:  # its state holds the "NaN" marker and a boolean: the detailed path's to convert
                run.log({"nan": math.nan, "flag": True}, step=step)
        run.summary["best"] = 0.5
        run.finish()
        for file in events_files(run.path):
            with open(file, "rb") as handle:
                parsed, _ = parse_lines(handle.read(), 1, file, Problems(warn=False))
            records += parsed
    return records


def mutations(value, rng: random.Random, count: int):
    """``count`` copies of ``value``, each changed at one random place."""
    for _ in range(count):
        changed = copy.deepcopy(value)
        _mutate_somewhere(changed, rng)
        yield changed


def _mutate_somewhere(value, rng: random.Random) -> None:
    """Replace, remove or add one value, at a place drawn from every place in ``value`` alike."""
    holder, key = rng.choice(list(_places(value)))
    action = rng.random()
    if action < 0.15 and type(holder) is dict:
        del holder[key]
    elif action < 0.25 and type(holder) is dict:
        holder[rng.choice(["extra", "time", "count", "min"])] = copy.deepcopy(rng.choice(HOSTILE))
    else:
        holder[key] = copy.deepcopy(rng.choice(HOSTILE))


def _places(value):
    """(container, key) of every value inside ``value``."""
    for key in list(value) if type(value) is dict else range(len(value)):
        yield value, key
        if type(value[key]) in (dict, list):
            yield from _places(value[key])


def detailed_record(record: dict):
    """check_record's field checks one by one (the path the fast check stands in for)."""
    problems = Problems(warn=False)
    kind = record["type"]
    return _checked_fields(record, kind, SCHEMAS[kind], "f:1", problems), list(problems)


def test_written_records_take_the_fast_path(written_records):
    kinds = {record["type"] for record in written_records if record["type"] in SCHEMAS}
    assert {"run", "start", "end", "config", "metrics", "tags", "summary", "notes"} <= kinds
    for record in written_records:
        schema = SCHEMAS.get(record["type"])
        if schema is not None:
            assert schema.passes(record), record
            assert detailed_record(record) == (record, [])


def test_passes_is_the_detailed_check_on_mutated_records(written_records):
    rng = random.Random(12)
    taken = refused = 0
    for seed in written_records:
        if seed["type"] not in SCHEMAS:
            continue
        for record in mutations(seed, rng, MUTATIONS_PER_SEED // 10):
            if type(record.get("type")) is not str or record["type"] not in SCHEMAS:
                continue
            checked, problems = detailed_record(record)
            unchanged = checked is record and not problems
            assert SCHEMAS[record["type"]].passes(record) == unchanged, record
            taken += unchanged
            refused += not unchanged
            # and check_record, which takes the fast path first, says what the detailed one says
            fast_problems = Problems(warn=False)
            result = check_record(copy.deepcopy(record), "f:1", fast_problems)
            slow_problems = Problems(warn=False)
            expected = check_record_detailed(copy.deepcopy(record), slow_problems)
            assert as_text(result) == as_text(expected)
            assert list(fast_problems) == list(slow_problems)
    assert taken > 100 and refused > 100  # both ways were tried


def check_record_detailed(record: dict, problems: Problems):
    """check_record with the fast check left out."""
    from tracker.record_schema import FREE_FORM, _bounded

    kind = record["type"]
    record = _checked_fields(record, kind, SCHEMAS[kind], "f:1", problems)
    if record is not None and kind in FREE_FORM:
        record = _bounded(record, kind, "f:1", problems)
    return record


def end_states(records: list[dict]) -> list[dict]:
    return [record["state"] for record in records if record["type"] == "end"]


def test_written_end_states_take_the_fast_path(written_records):
    states = end_states(written_records)
    assert len(states) == 3
    for state in states[:2]:
        fast = _plain_end_state(state)
        assert fast is not None
        assert as_text(fast) == as_text(_checked_end_state(state, _same))
        assert as_text(check_end_state(state, escapes=False)) == as_text(fast)
    assert _plain_end_state(states[2]) is None
    assert check_end_state(states[2], escapes=False)["metrics"]["nan"]["last"][1] != "NaN"


def test_plain_end_state_is_the_detailed_check_on_mutated_states(written_records):
    rng = random.Random(7)
    taken = refused = 0
    for seed in end_states(written_records):
        for state in mutations(seed, rng, MUTATIONS_PER_SEED):
            try:
                expected = as_text(_checked_end_state(copy.deepcopy(state), _same))
            except EndStateError as error:
                expected = f"EndStateError: {error}"
            fast = _plain_end_state(copy.deepcopy(state))
            if fast is None:
                refused += 1
            else:
                taken += 1
                assert as_text(fast) == expected, state
            try:
                through_check = as_text(check_end_state(copy.deepcopy(state), escapes=False))
            except EndStateError as error:
                through_check = f"EndStateError: {error}"
            assert through_check == expected  # the same value, or the same message
    assert taken > 50 and refused > 300  # both ways were tried
