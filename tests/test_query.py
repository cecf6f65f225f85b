"""tracker.query against the shared cases in query_cases.json (test_query_js.py runs them in Chromium)."""
import ast
import json
import math
import sys
from pathlib import Path

import pytest

from tracker import query
from tracker.query import QueryError, filter_runs, parse, resolve_field, sort_key

CASES = json.loads((Path(__file__).parent / "query_cases.json").read_text())
RUNS = CASES["runs"]
RUNS_BY_ID = {run["id"]: run for run in RUNS}


def case_id(case):
    return repr(case.get("query", case.get("field")))


@pytest.mark.parametrize("case", CASES["matches"], ids=case_id)
def test_query_keeps_the_expected_runs(case):
    assert [run["id"] for run in filter_runs(case["query"], RUNS)] == case["ids"]


@pytest.mark.parametrize("case", CASES["errors"], ids=case_id)
def test_invalid_query_names_the_problem_and_position(case):
    with pytest.raises(QueryError) as caught:
        parse(case["query"])
    assert (caught.value.query, caught.value.position) == (case["query"], case["position"])
    assert str(caught.value) == case["message"]


@pytest.mark.parametrize("case", CASES["sort"], ids=case_id)
def test_sort_orders_runs(case):
    assert [run["id"] for run in sorted(RUNS, key=sort_key(case["field"]))] == case["ids"]


@pytest.mark.parametrize("case", CASES["resolve"], ids=lambda case: f"{case['run']}:{case['field']}")
def test_resolve_field(case):
    assert resolve_field(RUNS_BY_ID[case["run"]], case["field"]) == case["value"]


def test_query_error_is_a_value_error():
    assert issubclass(QueryError, ValueError)


def test_parsed_query_keeps_its_text_and_matches_runs():
    parsed = parse("status:failed")
    assert parsed.text == "status:failed"
    assert [parsed.matches(run) for run in RUNS].count(True) == 1
    assert query.matches("status:failed", RUNS_BY_ID["run-b"])


def test_non_finite_floats_from_json_loads_behave_like_their_stored_strings():
    # json.loads turns a bare NaN/Infinity into floats; they must act like the strings on disk.
    run = {"id": "x", "summary": {"loss": math.nan, "best": math.inf}}
    assert query.matches("loss=nan best>1e308 -loss<1", run)


def test_public_names_are_pinned():
    assert query.__all__ == [
        "Query", "QueryError", "filter_runs", "matches", "parse", "resolve_field", "sort_key",
    ]


def test_module_imports_only_the_standard_library():
    # `tracker ls` imports this on every call, so it must stay cheap to import.
    imported = set()
    for node in ast.walk(ast.parse(Path(query.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= sys.stdlib_module_names


def wildcard_name(case) -> str:
    return case["text"] * case.get("repeat", 1) + case.get("tail", "")


@pytest.mark.parametrize("case", CASES["wildcards"]["cases"], ids=lambda case: f"{case['pattern']}:{case.get('repeat', 1)}")
def test_wildcards_match_in_linear_time(case):
    # A backtracking matcher would not finish the long cases (seconds to minutes each).
    run = {"id": "x", "name": wildcard_name(case)}
    assert query.matches(f'name="{case["pattern"]}"', run) is case["matches"]
