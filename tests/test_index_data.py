"""data/index.js by column (sitegen/index_data.py): what the build writes comes back as the same rows,
in Python (index_of_text) and in Chromium (index-data.js, TrackerIndex), and stays script-safe."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from sitegen.index_data import ASSIGNMENT, CODE_ALPHABET, index_files, index_of_text
from sitegen.render import script_json

JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js"


def row(number: int, **changes) -> dict:
    """An index row in the documented key order."""
    run_id = f"run-{number:04d}"
    base = {"id": run_id, "name": f"sweep-{number}", "project": f"project-{number % 3}", "group": None,
            "status": "finished", "tags": ["a", "b"] if number % 2 else [], "user": "ana", "host": None, "notes": "",
            "created": 1_790_000_000.25 + number, "duration_s": 12.5, "config": {"lr": 0.1 * number, "seed": number},
            "summary": {"loss": 1.0 / (number + 1)}, "url": f"runs/{run_id}/index.html", "slug": run_id,
            "last_seen": None if number % 5 == 0 else 1_790_000_100.5 + number, "commit": None, "datasets": {},
            "packages": "abc", "media": 0, "alerts": number % 2}
    return base | changes


def hostile_rows() -> list[dict]:
    """Every kind of value a row holds, in columns plain and dictionary-coded."""
    rows = [row(number) for number in range(200)]
    rows[0] |= {"notes": "</script><script>alert(1)</script> & \u2028 \u2029 é 😀", "group": "g",
                "config": {"seed": 0, "lr": -0.0, "nested": {"a": {"b": [1, 2.5, None]}}, "flag": True, "big": 1e300,
                           "empty": {}, "dotted.key": "x"},
                "summary": {"loss": "NaN", "acc": "-Infinity", "steps": 3}, "datasets": {"train": None}}
    rows[1] |= {"config": {"lr": 1, "seed": 1.0}, "duration_s": None, "created": None, "commit": "abcdef1"}
    rows[2] |= {"config": {}, "summary": {}}
    rows[3] |= {"config": {"seed": 3, "lr": True}}  # another key order, a bool among numbers
    for number, found in enumerate(rows):
        found["user"] = f"user-{number % 90}"  # more distinct values than CODE_ALPHABET has: codes as numbers
    return rows


def encoded(rows: list[dict]) -> str:
    return index_files([script_json(found) for found in rows], [("bad", "unreadable: <why>")])["data/index.js"]


def columns_of_text(text: str) -> dict:
    line = next(line for line in text.splitlines() if line.startswith(ASSIGNMENT))
    return msgspec.json.decode(line.removeprefix(ASSIGNMENT).removesuffix(";"))["columns"]


def test_the_rows_come_back_as_they_were_written():
    rows = hostile_rows()
    index = index_of_text(encoded(rows))
    assert index["runs"] == rows
    assert [type(found["config"].get("lr")) for found in index["runs"][:4]] == [float, int, type(None), bool]
    assert index["unreadable"] == [{"path": "bad", "reason": "unreadable: <why>"}]
    assert index["maxCompareRuns"] == 50


def test_repeated_values_are_coded_and_derivable_columns_left_out():
    columns = columns_of_text(encoded(hostile_rows()))
    assert columns["project"]["values"] == ["project-0", "project-1", "project-2"]
    assert set(columns["project"]["codes"]) <= set(CODE_ALPHABET)
    assert len(columns["user"]["values"]) == 90 and isinstance(columns["user"]["codes"], list)
    assert (columns["url"], columns["slug"]) == ("slug", "id")
    assert set(columns["created"]) == {"f64"}  # floats and nulls, packed
    assert columns["config"]["keys"][:3] == ["seed", "lr", "nested"]  # in the order they first appear


def test_a_column_that_does_not_follow_from_another_is_kept():
    rows = [row(number) for number in range(3)]
    rows[1] |= {"slug": "other", "url": "runs/elsewhere/index.html"}
    text = encoded(rows)
    columns = columns_of_text(text)
    assert (columns["url"]["separator"], columns["slug"]["separator"]) == ("|", "|")  # stored, not derived
    assert index_of_text(text)["runs"] == rows


@pytest.mark.parametrize("configs", [[{}, {"": 1}], [{"a\0b": 1}, {"a": 1, "b": 2}], [{"a\0": 1, "b": 2}, {"a": 1, "\0b": 2}]],
                         ids=["empty and the empty key", "a key holding NUL", "NUL moved between keys"])
def test_configs_whose_keys_join_to_the_same_text_keep_their_own_keys(configs):
    """The build tells the shapes of configs apart by their keys joined by NUL when no key holds one."""
    rows = [row(number, config=configs[number % 2]) for number in range(40)]
    assert index_of_text(encoded(rows))["runs"] == rows


def test_a_row_that_is_not_an_object_is_named_by_its_place():
    with pytest.raises(msgspec.ValidationError, match=r"Expected `object`, got `null` - at `\$\[1\]`"):
        index_files([script_json(row(0)), "null"], [])


def test_the_file_is_script_safe():
    line = next(line for line in encoded(hostile_rows()).splitlines() if line.startswith(ASSIGNMENT))
    data = line.removeprefix(ASSIGNMENT)
    assert not any(char in data for char in "<>&\u2028\u2029")


def test_no_runs():
    assert index_of_text(encoded([]))["runs"] == []



LOAD_JS = """
() => {
  const index = window.TrackerIndex.load();
  const ids = index.column("id");
  return { rows: index.rows(), count: index.count, unreadable: index.unreadable,
           firstRow: index.row(0), legacy: window.TrackerData.index.runs.length,
           ids: Array.from(ids.values), sections: index.section("config").keys };
}
"""


@pytest.mark.parametrize("first", ["a row first", "a column first"])
def test_the_browser_loader_makes_the_same_rows(page, tmp_path, first):
    """index-data.js: rows made one by one (from single values) or after whole columns are decoded."""
    rows = hostile_rows()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index.js").write_text(encoded(rows), encoding="utf-8")
    (tmp_path / "index.html").write_text('<!doctype html><meta charset="utf-8"><script src="data/index.js"></script>'
                                         f'<script src="{(JS / "base64.js").as_uri()}"></script>'
                                         f'<script src="{(JS / "index-data.js").as_uri()}"></script>')
    page.goto((tmp_path / "index.html").as_uri())
    if first == "a column first":
        page.evaluate("['created', 'last_seen', 'url', 'slug'].forEach((key) => TrackerIndex.load().column(key))")
    loaded = page.evaluate(LOAD_JS)
    assert page.errors == []
    assert json.loads(json.dumps(loaded["rows"])) == rows
    assert loaded["firstRow"]["notes"] == rows[0]["notes"]
    assert (loaded["count"], loaded["legacy"]) == (200, 200)
    assert loaded["unreadable"] == [{"path": "bad", "reason": "unreadable: <why>"}]
    assert loaded["ids"] == [found["id"] for found in rows]
    assert loaded["sections"][:3] == ["seed", "lr", "nested"]


@pytest.mark.parametrize("names, separator", [
    (["a", "b", "c"], "|"),
    (["a|b", "c", "d"], "~"),             # the first separator that no value holds
    (["a|~^", "b", ""], "`"),
    (["a|", "b~", "c^", "d`"], None),     # every separator taken: the values as a list
], ids=["bar", "tilde", "backtick", "none-free"])
def test_strings_that_barely_repeat_are_one_string_split_on_a_free_separator(names, separator):
    rows = [row(number) | {"name": name} for number, name in enumerate(names)]
    columns = columns_of_text(encoded(rows))
    if separator is None:
        assert columns["name"] == names
    else:
        assert columns["name"] == {"joined": separator.join(names), "separator": separator}
    assert columns["id"]["separator"] == "|"  # ids, unique: joined too
    assert [found["name"] for found in index_of_text(encoded(rows))["runs"]] == names
