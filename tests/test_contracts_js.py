"""The site's JavaScript in headless Chromium against the same tests/contracts/*.json cases that
test_contracts.py runs in Python: flattening config, which columns vary, lower-is-better, duration
and value text, and the index row the scripts read (docs/site-data.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen.index_data import columns_of
from test_contracts import AGGREGATE, CONTRACTS, INDEX, RUN_DATA, built_site, close, index_of  # noqa: F401 (built_site is a fixture)

JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js"
MODULES = ("run-fields.js", "format.js", "stats.js")

RUN_CASES_JS = """
(texts) => {
  // parsed here, as the site parses its data: JSON's 1.0 is the number 1, "__proto__" a plain key
  const [flatten, columns, lower, text] = texts.map((t) => JSON.parse(t));
  const { TrackerFields: Fields, TrackerFormat: Format, TrackerStats: Stats } = window;
  return {
    flatten: flatten.cases.map((c) => Object.entries(Fields.flatten(c.config))),
    columns: columns.cases.map((c) => Fields.of(c.runs)),
    lower: lower.cases.map((c) => Stats.lowerIsBetter(c.metric, lower.words)),
    duration: text.duration.map((c) => Format.formatDuration(c.seconds)),
    value: text.value.map((c) => Format.formatValue(c.value)),
    missing: Format.MISSING,
  };
}
"""


def contract_text(name: str) -> str:
    return (CONTRACTS / f"{name}.json").read_text(encoding="utf-8")


def load_modules(page, tmp_path, modules) -> None:
    html = tmp_path / "contracts.html"
    html.write_text('<!doctype html><meta charset="utf-8">' + "".join(f'<script src="{(JS / name).as_uri()}"></script>' for name in modules))
    page.goto(html.as_uri())


@pytest.fixture
def results(page, tmp_path):
    """Every case evaluated by the site's modules in a page that loads only them."""
    html = tmp_path / "contracts.html"
    scripts = "".join(f'<script src="{(JS / name).as_uri()}"></script>' for name in MODULES)
    html.write_text(f'<!doctype html><meta charset="utf-8">{scripts}')
    page.goto(html.as_uri())
    names = ("flatten", "columns", "lower_is_better", "text")
    evaluated = page.evaluate(RUN_CASES_JS, [contract_text(name) for name in names])
    assert page.errors == []
    return evaluated, {name: json.loads(contract_text(name)) for name in names}


def mismatches(cases, actual, expected_of, label_of) -> list[str]:
    return [f"{label_of(case)}: got {got!r}, expected {expected_of(case)!r}"
            for case, got in zip(cases, actual) if got != expected_of(case)]


def test_flatten(results):
    evaluated, contracts = results
    assert mismatches(contracts["flatten"]["cases"], evaluated["flatten"], lambda case: case["flat"],
                      lambda case: case["name"]) == []


def test_run_fields(results):
    evaluated, contracts = results
    expected = lambda case: {key: case[key] for key in ("params", "metrics", "defaultColumns")}  # noqa: E731
    assert mismatches(contracts["columns"]["cases"], evaluated["columns"], expected, lambda case: case["name"]) == []


INDEX_COLUMNS_JS = """
(datas) => datas.map((data) => {
  window.TrackerData = { index: data };
  return window.TrackerFields.ofIndex(window.TrackerIndex.load());
})
"""


@pytest.mark.parametrize("share", [0.0, 1.0], ids=["plain columns", "dictionary-coded columns"])
def test_run_fields_on_an_index(page, tmp_path, share):
    """TrackerFields.ofIndex on the cases' runs as the build stores them: the same as of(runs)."""
    load_modules(page, tmp_path, ("run-fields.js", "base64.js", "index-data.js"))
    cases = json.loads(contract_text("columns"))["cases"]
    datas = [{"format": 2, "count": len(case["runs"]), "columns": columns_of(case["runs"], share)} for case in cases]
    evaluated = page.evaluate(INDEX_COLUMNS_JS, datas)
    assert page.errors == []
    expected = lambda case: {key: case[key] for key in ("params", "metrics", "defaultColumns")}  # noqa: E731
    assert mismatches(cases, evaluated, expected, lambda case: case["name"]) == []


def test_lower_is_better(results):
    evaluated, contracts = results
    assert mismatches(contracts["lower_is_better"]["cases"], evaluated["lower"], lambda case: case["lower"],
                      lambda case: repr(case["metric"])) == []


def test_duration_and_value_text(results):
    evaluated, contracts = results
    text = contracts["text"]
    assert mismatches(text["duration"], evaluated["duration"], lambda case: case["text"],
                      lambda case: repr(case["seconds"])) == []
    assert mismatches(text["value"], evaluated["value"], lambda case: case["text"], lambda case: repr(case["value"])) == []
    assert evaluated["missing"] == text["missing"]


# --- the data files: what the pages' scripts read of data/index.js and data/runs/<slug>.js ------

# Wraps the index the pages get from TrackerIndex.load() (index-data.js), each row it makes, each
# run's data and each of its series, noting every key a script reads (or tests with "in"), before
# the page's scripts run; they then run unchanged. A column or section asked of the index is a read
# of that row key; a row made, or the count, is a read of the index's runs.
RECORD_READS_JS = """
(() => {
  const reads = { index: new Set(), row: new Set(), run: new Set(), series: new Set() };
  const noting = (target, into) => new Proxy(target, {
    get(object, key, receiver) { if (typeof key === "string") into.add(key); return Reflect.get(object, key, receiver); },
    has(object, key) { if (typeof key === "string") into.add(key); return Reflect.has(object, key); },
  });
  const notingRun = (run) => {
    for (const group of [run.metrics || {}, run.system || {}]) {
      for (const name of Object.keys(group)) group[name] = noting(group[name], reads.series);
    }
    return noting(run, reads.run);
  };
  const runs = new Proxy({}, { set: (target, id, run) => Reflect.set(target, id, notingRun(run)) });
  window.TrackerData = { runs };
  const recorded = new WeakMap();
  const recording = (index) => {
    if (!recorded.has(index)) {
      window.__loadedIndex = index;
      const made = new Map();
      const row = (run) => {
        reads.index.add("runs");
        if (!made.has(run)) made.set(run, noting(index.row(run), reads.row));
        return made.get(run);
      };
      const api = {
        row,
        rows: () => index.rows().map((_, run) => row(run)),
        column: (key) => { reads.row.add(key); return index.column(key); },
        section: (name) => { reads.row.add(name); return index.section(name); },
      };
      for (const key of ["count", "unreadable", "maxCompareRuns", "lowerIsBetter"]) {
        Object.defineProperty(api, key, { get: () => { reads.index.add(key === "count" ? "runs" : key); return index[key]; } });
      }
      recorded.set(index, api);
    }
    return recorded.get(index);
  };
  let loader;
  Object.defineProperty(window, "TrackerIndex", {
    get: () => loader,
    set: (value) => { loader = { ...value, load: () => { const index = value.load(); return index && recording(index); } }; },
  });
  window.__contractReads = () => Object.fromEntries(Object.entries(reads).map(([kind, keys]) => [kind, [...keys].sort()]));
})();
"""

# The rows as the loader makes them, checked against the contract's types as JavaScript sees them.
ROW_TYPE_PROBLEMS_JS = """
(contract) => {
  const type = (value) => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);
  const problems = [];
  for (const row of (window.__loadedIndex ? window.__loadedIndex.rows() : [])) { // a run page has no index
    for (const [key, spec] of Object.entries(contract.row)) {
      if (!spec.types.includes(type(row[key]))) problems.push(`${row.id}.${key}: ${type(row[key])}`);
    }
  }
  return problems;
}
"""


def open_recording(page, site, name: str, hash_text: str = ""):
    page.add_init_script(RECORD_READS_JS)
    page.goto((site / name).as_uri() + hash_text)
    page.wait_for_load_state("load")


def reads_of(page) -> dict:
    reads = page.evaluate("window.__contractReads()")
    assert page.evaluate(ROW_TYPE_PROBLEMS_JS, INDEX) == []
    assert page.errors == []
    return reads


def test_the_index_page_reads_only_the_contracts_keys(page, built_site):
    open_recording(page, built_site, "index.html")
    search = page.get_by_role("searchbox", name="Filter runs")
    search.fill("sweep")  # free text: every field the filter language searches
    page.wait_for_function("document.getElementById('run-count').textContent === '1 run'")
    search.fill("")
    page.get_by_role("button", name="Duration", exact=True).click()
    reads = reads_of(page)
    assert set(reads["row"]) <= set(INDEX["row"]), sorted(set(reads["row"]) - set(INDEX["row"]))
    assert set(reads["index"]) <= set(INDEX["index"]), reads["index"]
    # what the table shows by default was read, so the check above saw the table's reads
    assert {"id", "name", "url", "status", "created", "duration_s", "last_seen", "tags", "config", "summary"} \
        <= set(reads["row"])


def test_the_compare_page_reads_only_the_contracts_keys(page, built_site):
    ids = [row["id"] for row in index_of(built_site)["runs"]]
    open_recording(page, built_site, "compare.html", f"#runs={','.join(ids)}")
    page.wait_for_function("document.querySelectorAll('#compare-summary tbody tr').length > 1")
    reads = reads_of(page)
    assert set(reads["row"]) <= set(INDEX["row"]), sorted(set(reads["row"]) - set(INDEX["row"]))
    assert set(reads["index"]) <= set(INDEX["index"]), reads["index"]
    assert {"slug", "commit", "datasets", "packages", "config", "summary"} <= set(reads["row"])
    assert {"maxCompareRuns", "lowerIsBetter"} <= set(reads["index"])
    assert set(reads["run"]) <= set(RUN_DATA["run"]), sorted(set(reads["run"]) - set(RUN_DATA["run"]))
    assert set(reads["series"]) <= set(RUN_DATA["series"]), sorted(set(reads["series"]) - set(RUN_DATA["series"]))
    assert {"created", "metrics"} <= set(reads["run"]) and {"values", "times", "stepRange", "steps"} <= set(reads["series"])


def test_the_run_page_reads_only_the_contracts_keys(page, built_site):
    slugs = {row["name"]: row["slug"] for row in index_of(built_site)["runs"]}
    open_recording(page, built_site, f"runs/{slugs['sparse-steps']}/index.html")
    page.wait_for_function("[...document.querySelectorAll('figure.chart .plot')].every((plot) => plot.data)")
    with page.expect_download():
        page.get_by_role("button", name="Download CSV").click()  # run-csv.js reads the data file too
    reads = reads_of(page)
    assert set(reads["run"]) <= set(RUN_DATA["run"]), sorted(set(reads["run"]) - set(RUN_DATA["run"]))
    assert set(reads["series"]) <= set(RUN_DATA["series"]), sorted(set(reads["series"]) - set(RUN_DATA["series"]))
    assert {"name", "created", "timeAxes", "metrics", "system"} <= set(reads["run"])
    assert {"values", "times", "steps"} <= set(reads["series"])


def test_the_project_page_reads_only_the_contracts_keys(page, built_site):
    open_recording(page, built_site, "project.html")
    page.wait_for_function("document.querySelectorAll('#best-table tbody tr').length > 0")
    reads = reads_of(page)
    assert set(reads["row"]) <= set(INDEX["row"]), sorted(set(reads["row"]) - set(INDEX["row"]))
    assert set(reads["index"]) <= set(INDEX["index"]), reads["index"]
    assert {"project", "created", "url", "summary", "config"} <= set(reads["row"])


def test_a_key_outside_the_contract_is_caught(page, built_site):
    """The recorder sees a read of a key the contract lacks (the check above can fail)."""
    open_recording(page, built_site, "index.html")
    page.evaluate("TrackerIndex.load().row(0).not_in_the_contract")
    assert "not_in_the_contract" in page.evaluate("window.__contractReads()")["row"]



# --- groups: tests/contracts/aggregate.json in grouping.js (tracker/grouping.py runs it in test_contracts.py) ---

GROUPING_CASES_JS = """
(text) => {
  const cases = JSON.parse(text);
  const G = window.TrackerGrouping;
  const plain = (value) => JSON.parse(JSON.stringify(value, (key, item) =>
    typeof item === "number" && !Number.isFinite(item) ? String(item) : item));
  return plain({
    none: G.NONE,
    aggregate: cases.aggregate.map((c) => G.aggregate(c.values)),
    group: cases.group.map((c) => G.group(c.runs, c.fields).map((g) => ({ key: g.key, runs: g.runs.map((r) => r.id) }))),
    band: cases.band.map((c) => {
      const result = G.band(c.series);
      return { result, bounds: Object.fromEntries(G.BANDS.map((kind) => [kind, G.bounds(result, kind)])) };
    }),
    unknown: (() => { try { G.bounds(G.band([]), "iqr"); return null; } catch (error) { return error.message; } })(),
    frozen: Object.isFrozen(G),
  });
}
"""


@pytest.fixture
def grouping_results(page, tmp_path):
    load_modules(page, tmp_path, ("query.js", "format.js", "grouping.js"))
    evaluated = page.evaluate(GROUPING_CASES_JS, contract_text("aggregate"))
    assert page.errors == []
    return evaluated


def test_aggregate(grouping_results):
    assert grouping_results["none"] == AGGREGATE["none"] and grouping_results["frozen"]
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["aggregate"], grouping_results["aggregate"])
             if not close(got, case["expected"])]
    assert wrong == []


def test_group_rows(grouping_results):
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["group"], grouping_results["group"]) if got != case["groups"]]
    assert wrong == []


def test_band(grouping_results):
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["band"], grouping_results["band"])
             if not close(got["result"], case["expected"]) or not close(got["bounds"], case["bounds"])]
    assert wrong == []
    assert grouping_results["unknown"] == 'unknown band "iqr"; choose one of std, minmax, stderr'
