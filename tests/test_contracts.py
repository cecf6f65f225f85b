"""The Python side of what Python and the site's JavaScript both compute, against the cases in
tests/contracts/*.json (test_contracts_js.py runs the same cases in Chromium; docs/site-data.md)."""
from __future__ import annotations

import base64
import json
import math
import struct
from pathlib import Path

import pytest

import tracker
from sitegen.index_data import index_data_json, index_of_text
from test_site_support import log_run, run_cli
from tracker.formatting import flatten, format_column, format_duration, format_value, run_fields
from tracker.grouping import NONE, aggregate, band, band_bounds, group_rows
from tracker.rundiff import LOWER_IS_BETTER_WORDS, lower_is_better
from tracker.values import TEXT_TO_NON_FINITE

CONTRACTS = Path(__file__).parent / "contracts"


def contract(name: str) -> dict:
    return json.loads((CONTRACTS / f"{name}.json").read_text(encoding="utf-8"))


def as_read(value):
    """The value as the reader gives it: the non-finite markers of the site's data as floats."""
    if isinstance(value, str):
        return TEXT_TO_NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {key: as_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_read(item) for item in value]
    return value


def named(case: dict) -> str:
    return case["name"]


FLATTEN = contract("flatten")
COLUMNS = contract("columns")
LOWER = contract("lower_is_better")
TEXT = contract("text")
INDEX = contract("index_row")
RUN_DATA = contract("run_data")
AGGREGATE = contract("aggregate")
REDUCED_STEPS = 6_000  # past the page's per-series budget (sitegen/load.py), so the series has "count"


@pytest.mark.parametrize("case", FLATTEN["cases"], ids=named)
def test_flatten(case):
    assert [list(pair) for pair in flatten(case["config"]).items()] == case["flat"]


@pytest.mark.parametrize("case", COLUMNS["cases"], ids=named)
@pytest.mark.parametrize("values", ["as in the index", "as read"])
def test_run_fields(case, values):
    runs = case["runs"] if values == "as in the index" else as_read(case["runs"])
    fields = run_fields(runs)
    assert (fields.params, fields.metrics, fields.varying, fields.default_columns) == (
        case["params"], case["metrics"], case["varying"], case["defaultColumns"])


def test_tracker_ls_shows_no_column_for_lr_1_and_lr_1_0(tmp_path):
    log_run(tmp_path, "int-lr", config={"lr": 1, "seed": 1}, metrics=[{"loss": 0.5}])
    log_run(tmp_path, "float-lr", config={"lr": 1.0, "seed": 2}, metrics=[{"loss": 0.4}])
    code, out, err = run_cli("ls", "--runs", str(tmp_path))
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split() == ["id", "name", "project", "status", "start", "duration", "seed", "loss"]


@pytest.mark.parametrize("case", LOWER["cases"], ids=lambda case: repr(case["metric"]))
def test_lower_is_better(case):
    assert lower_is_better(case["metric"]) is case["lower"]


def test_the_index_ships_the_word_list_of_the_cases():
    index = json.loads(index_data_json([], []))
    assert index["lowerIsBetter"] == list(LOWER_IS_BETTER_WORDS) == LOWER["words"]


@pytest.mark.parametrize("case", TEXT["duration"], ids=lambda case: repr(case["seconds"]))
def test_duration_text(case):
    assert format_duration(case["seconds"]) == case["text"]
    assert format_duration(as_read(case["seconds"])) == case["text"]


@pytest.mark.parametrize("case", TEXT["value"], ids=lambda case: repr(case["value"]))
def test_value_text(case):
    assert format_value(case["value"]) == case["text"]
    assert format_value(as_read(case["value"])) == case["text"]


def test_a_column_of_values_has_each_values_text():
    # tracker ls formats a column of floats in one map and formats again what %g writes otherwise
    values = [as_read(case["value"]) for case in TEXT["value"]]
    floats = [value for value in values if type(value) is float]
    assert len(floats) >= 10
    for column in values, floats, floats[::-1], [0.5, *floats], [floats[0]]:
        assert format_column(column) == [format_value(value) for value in column]
    assert format_column(floats) == [case["text"] for case in TEXT["value"] if type(as_read(case["value"])) is float]


def test_missing_text_is_the_contracts():
    assert format_value(None) == format_duration(None) == TEXT["missing"]


# --- the index row: what a build writes into data/index.js ---------------------------------------

def make_varied_runs(root) -> None:
    """Runs with every kind of row and series value: nested config, NaN summaries, a group, a
    dataset, a failed run, one without a name, a long series (reduced on the page), steps that are
    not consecutive, and a folder that cannot be read."""
    log_run(root, "nested", config={"lr": 1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "extra": {}},
            tags=["a", "b"], notes="notes", metrics=[{"loss": 1.0, "acc": 0.1}, {"loss": math.nan, "acc": 0.2}])
    log_run(root, "float-lr", config={"lr": 1.0, "clip": math.inf}, metrics=[{"loss": 0.5}],
            status="failed", error="Traceback: boom")
    data = root / "data.csv"
    data.write_text("x,y\n1,2\n")
    run = tracker.init(project="other", group="sweep-1", config={"seed": 3}, dir=str(root), capture=False)
    run.log_dataset(str(data), name="train")
    run.summary["best"] = -math.inf
    run.summary["note"] = "text"
    run.log({"acc": 0.9})
    run.finish()
    log_run(root, "sparse-and-long", metrics=[{"loss": 1.0 / (step + 1)} for step in range(REDUCED_STEPS)])
    run = tracker.init(name="sparse-steps", dir=str(root), capture=False)
    for step in (0, 10, 25):
        run.log({"acc": step / 100, "loss": math.inf if step == 10 else 0.5}, step=step)
    run.finish()
    corrupt = root / "20990101-000000-corrupt1"
    corrupt.mkdir()
    (corrupt / "events.jsonl").write_text("this is not json\n")


def index_of(site) -> dict:
    """TrackerData.index as index-data.js reads it: its rows rebuilt from the columns of data/index.js."""
    return index_of_text((site / "data" / "index.js").read_text(encoding="utf-8"))


def run_data_of(path) -> dict:
    """TrackerData.runs[<id>] as a data/runs/<slug>.js file sets it."""
    line = path.read_text(encoding="utf-8").splitlines()[-1]
    return json.loads(line[line.index("]=") + 2:].removesuffix(";"))


def json_type(value) -> str:
    """The type's name as JavaScript's typeof sees the JSON value (null and arrays apart)."""
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def shape_problems(index: dict) -> list[str]:
    """Every way the index and its rows differ from the contract, each naming the run and key."""
    problems = [f"index: keys {sorted(index)}, expected {sorted(INDEX['index'])}"] if set(index) != set(INDEX["index"]) else []
    problems += [f"index.{key}: {json_type(index[key])}" for key, spec in INDEX["index"].items()
                 if key in index and json_type(index[key]) not in spec["types"]]
    for entry in index.get("unreadable", []):
        if set(entry) != set(INDEX["unreadable"]) or any(json_type(value) != "string" for value in entry.values()):
            problems.append(f"unreadable entry {entry!r}")
    for row in index.get("runs", []):
        where = f"row {row.get('id')}"
        if list(row) != list(INDEX["row"]):
            problems.append(f"{where}: keys {list(row)}, expected {list(INDEX['row'])}")
        for key, spec in INDEX["row"].items():
            value = row.get(key)
            if json_type(value) not in spec["types"]:
                problems.append(f"{where}.{key}: {json_type(value)} {value!r}, expected {spec['types']}")
            if "values" in spec and value not in spec["values"]:
                problems.append(f"{where}.{key}: {value!r}, expected one of {spec['values']}")
            items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
            if "items" in spec and any(json_type(item) not in spec["items"] for item in items):
                problems.append(f"{where}.{key}: an item not {spec['items']}: {value!r}")
    return problems


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """A site built by `tracker build` from the varied runs, one of them still running."""
    root = tmp_path_factory.mktemp("runs")
    make_varied_runs(root)
    running = tracker.init(name="still-running", config={"lr": 0.1}, dir=str(root), capture=False)
    running.log({"loss": 2.0})
    running.summary["duration"] = 1.5
    site = tmp_path_factory.mktemp("site")
    code, out, err = run_cli("build", "--runs", str(root), "--out", str(site))
    running.finish()
    assert code == 0, err
    return site


def test_a_builds_index_rows_have_the_contracts_keys_and_types(built_site):
    index = index_of(built_site)
    assert shape_problems(index) == []
    rows = {row["name"]: row for row in index["runs"]}
    # every kind of value the contract allows is there, so the check above saw each of them
    assert {row["status"] for row in rows.values()} >= {"finished", "failed", "running"}
    assert rows["nested"]["summary"]["loss"] == "NaN" and rows["float-lr"]["config"]["clip"] == "Infinity"
    assert any(row["group"] == "sweep-1" and row["datasets"] for row in rows.values())
    assert len(index["unreadable"]) == 1


def test_the_shape_check_names_what_differs():
    row = {key: None for key in INDEX["row"]} | {"id": "r1", "status": "finished", "tags": [1], "extra": 1}
    problems = shape_problems({"runs": [row], "unreadable": [], "maxCompareRuns": 50, "lowerIsBetter": []})
    assert f"row r1: keys {list(row)}, expected {list(INDEX['row'])}" in problems
    assert "row r1.tags: an item not ['string']: [1]" in problems
    assert "row r1.config: null None, expected ['object']" in problems


# --- the run data file: what a build writes into data/runs/<slug>.js -----------------------------

def series_values(series: dict) -> list[float] | None:
    """A series' values as its base64 text packs them (little-endian floats of valueBits bits);
    None when the text or the width is not one the contract allows."""
    bits = series.get("valueBits")
    try:
        packed = base64.b64decode(series["values"], validate=True)
    except (ValueError, TypeError):
        return None
    if bits not in (32, 64) or len(packed) % (bits // 8):
        return None
    return list(struct.unpack(f"<{len(packed) // (bits // 8)}{'f' if bits == 32 else 'd'}", packed))


def series_steps(series: dict) -> list[int]:
    first, count, stride = series.get("stepRange") or [0, 0, 1]
    return series.get("steps") or [first + index * stride for index in range(count)]


def run_data_problems(data: dict) -> list[str]:
    """Every way one run's data differs from the contract, each naming the run, series and key."""
    where = f"run {data.get('id')}"
    expected = [key for key, spec in RUN_DATA["run"].items() if key in data or not spec.get("optional")]
    problems = [f"{where}: keys {list(data)}, expected {expected}"] if list(data) != expected else []
    problems += [f"{where}.{key}: {json_type(data.get(key))}" for key, spec in RUN_DATA["run"].items()
                 if key in expected and json_type(data.get(key)) not in spec["types"]]
    axes = data.get("timeAxes") or []
    problems += [f"{where}.timeAxes: {axis!r}" for axis in axes
                 if not all(isinstance(delta, int) or delta is None for delta in axis)]
    for group in ("metrics", "system"):
        for name, series in (data.get(group) or {}).items():
            at = f"{where}.{group}[{name!r}]"
            required = {key for key, spec in RUN_DATA["series"].items() if not spec.get("optional")}
            if not required <= set(series) <= set(RUN_DATA["series"]):
                problems.append(f"{at}: keys {sorted(series)}")
                continue
            if sum(key in series for key in RUN_DATA["oneOf"]) != 1:
                problems.append(f"{at}: not exactly one of {RUN_DATA['oneOf']}")
            problems += [f"{at}.{key}: {json_type(value)}" for key, value in series.items()
                         if json_type(value) not in RUN_DATA["series"][key]["types"]]
            values = series_values(series)
            if values is None:
                problems.append(f"{at}.values: {series['values']!r} is not base64 of {series['valueBits']!r}-bit floats")
                values = []
            steps = series_steps(series)
            times = axes[series["times"]] if isinstance(series["times"], int) and series["times"] < len(axes) else None
            if times is None or not len(values) == len(times) == len(steps):
                problems.append(f"{at}: {len(values)} values, {len(steps)} steps, times {series['times']!r}")
    return problems


def test_a_builds_run_data_files_have_the_contracts_keys_and_types(built_site):
    files = sorted((built_site / "data" / "runs").glob("*.js"))
    data = {run["name"]: run for run in map(run_data_of, files)}
    assert len(files) == len(index_of(built_site)["runs"])
    assert [problem for run in data.values() for problem in run_data_problems(run)] == []
    # each kind of series the contract allows is there, so the check above saw each of them
    assert data["sparse-steps"]["metrics"]["acc"]["steps"] == [0, 10, 25]
    assert series_values(data["sparse-steps"]["metrics"]["loss"]) == [0.5, math.inf, 0.5]
    assert data["sparse-and-long"]["metrics"]["loss"]["count"] == REDUCED_STEPS
    assert "stepRange" in data["nested"]["metrics"]["loss"]
    assert math.isnan(series_values(data["nested"]["metrics"]["loss"])[1])


def test_the_run_data_check_names_what_differs():
    data = {"id": "r1", "name": "r", "created": 1.0, "timeAxes": [[100, 100]],
            "metrics": {"loss": {"values": "AACAPwAAwH8=", "valueBits": 32, "times": 0, "stepRange": [0, 2, 1],
                                 "steps": [0, 1]},
                        "acc": {"values": "not base64!", "valueBits": 32, "times": 0, "steps": [0, 1]}}, "system": {}}
    assert run_data_problems(data) == ["run r1.metrics['loss']: not exactly one of ['stepRange', 'steps']",
                                       "run r1.metrics['acc'].values: 'not base64!' is not base64 of 32-bit floats",
                                       "run r1.metrics['acc']: 0 values, 2 steps, times 0"]


# --- groups: tests/contracts/aggregate.json (tracker/grouping.py; test_grouping.py checks it against NumPy) ---

def close(actual, expected) -> bool:
    """Equal, numbers to 12 significant digits (the contract's precision), in lists and dicts alike."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(close(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(close, actual, expected))
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-300)
    return actual == expected


def test_the_none_group_is_the_contracts():
    assert NONE == AGGREGATE["none"]


@pytest.mark.parametrize("values", ["as in the index", "as read"])
@pytest.mark.parametrize("case", AGGREGATE["aggregate"], ids=named)
def test_aggregate(case, values):
    given = case["values"] if values == "as in the index" else as_read(case["values"])
    assert close(aggregate(given), case["expected"]), aggregate(given)


@pytest.mark.parametrize("case", AGGREGATE["group"], ids=named)
def test_group_rows(case):
    groups = group_rows(as_read(case["runs"]), case["fields"])
    assert [{"key": list(group.key), "runs": [row["id"] for row in group.rows]} for group in groups] == case["groups"]


@pytest.mark.parametrize("case", AGGREGATE["band"], ids=named)
def test_band(case):
    result = band([(series["steps"], as_read(series["values"])) for series in case["series"]])
    assert close(result, case["expected"]), result
    for kind, expected in case["bounds"].items():
        assert close([list(side) for side in band_bounds(result, kind)], expected), kind
