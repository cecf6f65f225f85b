"""grouping.js in headless Chromium against tests/contracts/aggregate.json, the cases
tracker/grouping.py runs in test_grouping.py: one truth for groups, aggregates and bands."""
from __future__ import annotations

import pytest

from test_contracts_js import JS, contract_text
from test_grouping import AGGREGATE, close

MODULES = ("query.js", "format.js", "grouping.js")

CASES_JS = """
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
def results(page, tmp_path):
    html = tmp_path / "grouping.html"
    html.write_text('<!doctype html><meta charset="utf-8">'
                    + "".join(f'<script src="{(JS / name).as_uri()}"></script>' for name in MODULES))
    page.goto(html.as_uri())
    evaluated = page.evaluate(CASES_JS, contract_text("aggregate"))
    assert page.errors == []
    return evaluated


def test_aggregate(results):
    assert results["none"] == AGGREGATE["none"] and results["frozen"]
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["aggregate"], results["aggregate"])
             if not close(got, case["expected"])]
    assert wrong == []


def test_group(results):
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["group"], results["group"]) if got != case["groups"]]
    assert wrong == []


def test_band(results):
    wrong = [(case["name"], got) for case, got in zip(AGGREGATE["band"], results["band"])
             if not close(got["result"], case["expected"]) or not close(got["bounds"], case["bounds"])]
    assert wrong == []
    assert results["unknown"] == 'unknown band "iqr"; choose one of std, minmax, stderr'
