"""query.js in headless Chromium against the same query_cases.json that test_query.py runs: on
rows (matches, sortRuns, resolveField) and on the columns of an index (matchIndex, sortIndex,
fieldColumn) as the build writes them (sitegen/index_data.py) and index-data.js reads them."""
import json
from pathlib import Path

import pytest

from sitegen.index_data import columns_of

ROOT = Path(__file__).resolve().parent.parent
QUERY_JS = ROOT / "themes" / "default" / "static" / "js" / "query.js"
INDEX_DATA_JS = ROOT / "themes" / "default" / "static" / "js" / "index-data.js"
BASE64_JS = ROOT / "themes" / "default" / "static" / "js" / "base64.js"
CASES = json.loads((Path(__file__).parent / "query_cases.json").read_text())

RUN_CASES_JS = """
(cases) => {
  const query = window.TrackerQuery;
  const keptIds = (text) => {
    try {
      return cases.runs.filter((run) => query.matches(text, run)).map((run) => run.id);
    } catch (error) {
      return "threw: " + error.message;
    }
  };
  const rejection = (text) => {
    try {
      query.parse(text);
      return null;
    } catch (error) {
      return {position: error.position, message: error.message};
    }
  };
  const byId = Object.fromEntries(cases.runs.map((run) => [run.id, run]));
  return {
    api: Object.keys(query),
    matches: cases.matches.map((c) => keptIds(c.query)),
    errors: cases.errors.map((c) => rejection(c.query)),
    sort: cases.sort.map((c) =>
      [...cases.runs].sort((a, b) => query.compareForSort(a, b, c.field)).map((run) => run.id)),
    sortRuns: cases.sort.map((c) => query.sortRuns(cases.runs, c.field).map((run) => run.id)),
    resolve: cases.resolve.map((c) => query.resolveField(byId[c.run], c.field)),
    wildcards: cases.wildcards.cases.map((c) => query.matches(`name="${c.pattern}"`,
      {id: "x", name: c.text.repeat(c.repeat ?? 1) + (c.tail ?? "")})),
  };
}
"""


@pytest.fixture
def js_results(page, tmp_path):
    """Every shared case evaluated by query.js in a page that loads only that script."""
    html = tmp_path / "query.html"
    html.write_text(f'<!doctype html><meta charset="utf-8"><script src="{QUERY_JS.as_uri()}"></script>')
    page.goto(html.as_uri())
    results = page.evaluate(RUN_CASES_JS, CASES)
    assert page.errors == []
    return results


def mismatches(section, key, actual_values, expected_of):
    return [
        f"{case[key]!r}: got {actual!r}, expected {expected_of(case)!r}"
        for case, actual in zip(CASES[section], actual_values)
        if actual != expected_of(case)
    ]


def test_exposes_the_documented_api(js_results):
    assert js_results["api"] == ["parse", "matches", "resolveField", "compareForSort", "sortRuns", "globMatches",
                                 "matchIndex", "sortIndex", "fieldColumn"]


def test_queries_keep_the_expected_runs(js_results):
    assert mismatches("matches", "query", js_results["matches"], lambda case: case["ids"]) == []


def test_invalid_queries_are_rejected_at_the_same_position(js_results):
    expected = lambda case: {"position": case["position"], "message": case["message"]}  # noqa: E731
    assert mismatches("errors", "query", js_results["errors"], expected) == []


def test_sort_orders_runs(js_results):
    assert mismatches("sort", "field", js_results["sort"], lambda case: case["ids"]) == []


def test_sort_runs_orders_them_as_the_comparator_does(js_results):
    assert mismatches("sort", "field", js_results["sortRuns"], lambda case: case["ids"]) == []


def test_resolve_field(js_results):
    assert mismatches("resolve", "field", js_results["resolve"], lambda case: case["value"]) == []


def test_wildcards_match_in_linear_time(js_results):
    # A backtracking RegExp would not finish the long cases (seconds to minutes each).
    expected = [case["matches"] for case in CASES["wildcards"]["cases"]]
    assert js_results["wildcards"] == expected


# --- the same cases on an index's columns ---------------------------------------------------------

RUN_INDEX_CASES_JS = """
([cases, data]) => {
  const query = window.TrackerQuery;
  window.TrackerData = { index: data };
  const index = window.TrackerIndex.load();
  const ids = index.column("id");
  const idOf = (run) => (ids.codes ? ids.values[ids.codes[run]] : ids.values[run]);
  const keptIds = (text) => {
    try {
      const found = query.matchIndex(query.parse(text), index);
      return [...found.keys()].filter((run) => found[run]).map(idOf);
    } catch (error) {
      return "threw: " + error.message;
    }
  };
  const position = Object.fromEntries(cases.runs.map((run, at) => [run.id, at]));
  return {
    matches: cases.matches.map((c) => keptIds(c.query)),
    sort: cases.sort.map((c) => query.sortIndex(index, c.field).map(idOf)),
    resolve: cases.resolve.map((c) => {
      const column = query.fieldColumn(index, c.field), run = position[c.run];
      return (column.codes ? column.values[column.codes[run]] : column.values[run]) ?? null;
    }),
    rows: index.rows(),
  };
}
"""

# each value stored as it is; each column dictionary-coded (the runs hold few values); the rows whole
ENCODINGS = {"plain columns": 0.0, "dictionary-coded columns": 1.0, "rows": None}


@pytest.fixture(params=list(ENCODINGS))
def index_results(request, page, tmp_path):
    """Every shared case evaluated on the cases' runs as an index: each encoding the loader reads."""
    share = ENCODINGS[request.param]
    runs = CASES["runs"]
    data = ({"runs": runs} if share is None
            else {"format": 2, "count": len(runs), "columns": columns_of(runs, share)})
    html = tmp_path / "query.html"
    html.write_text('<!doctype html><meta charset="utf-8">'
                    + "".join(f'<script src="{path.as_uri()}"></script>' for path in (QUERY_JS, BASE64_JS, INDEX_DATA_JS)))
    page.goto(html.as_uri())
    results = page.evaluate(RUN_INDEX_CASES_JS, [CASES, data])
    assert page.errors == []
    return results


def test_queries_on_columns_keep_the_expected_runs(index_results):
    assert mismatches("matches", "query", index_results["matches"], lambda case: case["ids"]) == []


def test_sort_on_columns_orders_runs(index_results):
    assert mismatches("sort", "field", index_results["sort"], lambda case: case["ids"]) == []


def test_resolve_field_on_columns(index_results):
    assert mismatches("resolve", "field", index_results["resolve"], lambda case: case["value"]) == []


def test_the_loader_gives_back_the_rows(index_results):
    keys = list(CASES["runs"][0])  # an index row has every key; a case's run may lack some (null)
    expected = [{key: run.get(key) for key in keys} for run in CASES["runs"]]
    assert index_results["rows"] in (expected, CASES["runs"])  # the old format gives its rows as they are


# --- sortIndex on an order already there (the stored order, or it reversed), with ties ---------------

SORT_BOTH_WAYS_JS = """
([data, rows, fields]) => {
  const query = window.TrackerQuery;
  window.TrackerData = { index: data };
  const index = window.TrackerIndex.load();
  return fields.map((field) => [query.sortIndex(index, field).map((run) => rows[run].id),
                                query.sortRuns(rows, field).map((run) => run.id)]);
}
"""


@pytest.mark.parametrize("created", [[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [1, 2, 2, 3, 3, 4], [4, 3, 3, 2, 2, 1],
                                     [1, None, 2, 3, 4, 5], [2, 2, 2, 2, 2, 2], [5], []],
                         ids=["ascending", "descending", "ascending-ties", "descending-ties", "missing", "all-equal",
                              "one", "none"])
def test_sort_of_an_order_already_there_is_sortRuns_order(page, tmp_path, created):
    rows = [{"id": f"r{at}", "name": f"n{at % 2}", "created": value} for at, value in enumerate(created)]
    data = {"format": 2, "count": len(rows), "columns": columns_of(rows, 0.0)}
    html = tmp_path / "sort.html"
    html.write_text('<!doctype html><meta charset="utf-8">'
                    + "".join(f'<script src="{path.as_uri()}"></script>' for path in (QUERY_JS, BASE64_JS, INDEX_DATA_JS)))
    page.goto(html.as_uri())
    found = page.evaluate(SORT_BOTH_WAYS_JS, [data, rows, ["created", "-created", "name", "-name", "id", "-id"]])
    assert page.errors == []
    assert [by_columns for by_columns, _ in found] == [by_rows for _, by_rows in found]
