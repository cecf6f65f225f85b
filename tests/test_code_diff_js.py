"""line-diff.js in headless Chromium against tests/contracts/line_diff.json, the cases that
tracker/code_diff.py's unified_diff() runs in test_code_diff.py: the compare view and
`tracker diff --code` show the same diff of the same texts."""
from __future__ import annotations

import json
from pathlib import Path

JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js" / "line-diff.js"
CONTRACT = Path(__file__).parent / "contracts" / "line_diff.json"


def test_unified_diff_contract_in_chromium(page, tmp_path):
    html = tmp_path / "line-diff.html"
    html.write_text(f'<!doctype html><meta charset="utf-8"><script src="{JS.as_uri()}"></script>')
    page.goto(html.as_uri())
    text = CONTRACT.read_text(encoding="utf-8")
    got = page.evaluate("""(text) => JSON.parse(text).cases.map((c) =>
        window.TrackerLineDiff.unifiedDiff(c.a, c.b, c.aName, c.bName, c.context ?? 3, c.maxEdits ?? 2000))""", text)
    cases = json.loads(text)["cases"]
    assert [f"{case['name']}: {diff!r}" for case, diff in zip(cases, got) if diff != case["diff"]] == []
    assert len(got) == len(cases) and page.errors == []
