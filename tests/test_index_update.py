"""A rebuild's data/index.js (sitegen/index_update.py): the last build's columns with the changed
runs' values put in, byte for byte the file a build from every row makes."""
from __future__ import annotations

import random

import pytest

from sitegen.index_update import updated_index_files
from sitegen.render import script_json
from test_index_data import encoded, hostile_rows, row

ERRORS = [("bad", "unreadable: <why>")]


def updated(previous_rows: list[dict], rows: list[dict], changed: set[str]) -> str | None:
    """A rebuild's data/index.js: the previous file with the ``changed`` runs' rows (and the first's) given."""
    given = {found["id"]: script_json(found) for found in rows if found["id"] in changed or found is rows[0]}
    files = updated_index_files(encoded(previous_rows), [found["id"] for found in rows], given, ERRORS)
    return files and files["data/index.js"]


def edited(rows: list[dict], generator: random.Random) -> tuple[list[dict], set[str]]:
    """``rows`` after a few of what happens between builds: runs changed, added, removed, moved."""
    rows = [dict(found) for found in rows]
    changed = set()
    for _ in range(generator.randint(1, 4)):
        place = generator.randrange(len(rows))
        edit = generator.choice(["summary", "config key", "status", "new run", "removed", "moved", "url", "type",
                                 "no config", "section value shared"])
        found = rows[place]
        if edit == "removed" and len(rows) > 2:
            del rows[place]
            continue
        if edit == "new run":
            found = row(1000 + len(rows) + generator.randrange(10**6), user="newcomer")
            rows.insert(place, found)
        elif edit == "summary":
            found["summary"] = {**(found["summary"] or {}), "loss": generator.random(), "acc": 0.5}
        elif edit == "config key":
            found["config"] = {"fresh": [1, {"x": None}], **(found["config"] or {})}
        elif edit == "status":
            found["status"] = generator.choice(["running", "crashed", "finished", "a status of its own"])
        elif edit == "moved":
            rows.append(rows.pop(place))
        elif edit == "url":
            found["url"] = "runs/elsewhere/index.html"
        elif edit == "type":
            found["duration_s"] = generator.choice(["12.5", 12, True, None, [1]])
        elif edit == "no config":
            found["config"] = None
        elif edit == "section value shared":
            found["summary"] = dict(rows[0]["summary"] or {})
        changed.add(found["id"])
    return rows, changed


@pytest.mark.parametrize("seed", range(60))
def test_an_updated_file_is_the_one_made_from_every_row(seed):
    """updated_index_files puts the changed runs' values in the previous file's columns and codes them
    again: byte for byte what index_files makes of all the rows, whichever runs changed."""
    generator = random.Random(seed)
    rows = hostile_rows()[:generator.choice([3, 40, 200])]
    rows[0]["user"] = "first"  # the first row's keys name the columns: keep them
    for _ in range(3):
        next_rows, changed = edited(rows, generator)
        assert updated(rows, next_rows, changed) == encoded(next_rows)
        rows = next_rows


def test_a_file_that_cannot_be_updated_says_so():
    rows = [row(number) for number in range(5)]
    assert updated(rows, rows, set()) == encoded(rows)
    assert updated(rows, [*rows, row(9)], set()) is None  # a run neither given nor in the file
    assert updated(rows, [row(0) | {"extra": 1}, *rows[1:]], set()) is None  # the first row's keys differ
    assert updated(rows, [row(0, config=[1]), *rows[1:]], {"run-0000"}) is None  # a config that is not an object
    given = {"run-0000": script_json(rows[0]), "run-0001": "null"}
    assert updated_index_files(encoded(rows), [found["id"] for found in rows], given, ERRORS) is None
    assert updated_index_files("/* not an index */", ["run-0000"], {"run-0000": script_json(rows[0])}, ERRORS) is None
