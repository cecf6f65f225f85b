"""The compare view in real Chromium: runs chosen on the index, overlaid on compare.html, from file:// and HTTP."""
from __future__ import annotations

import pytest

from sitegen.model import packages_fingerprint
from test_site_browser import assert_inside_site, open_page, site  # noqa: F401 (site is a fixture)
from test_site_links import cold_page

LOSS_PLOT = "document.querySelector('#compare-charts figure[data-metric=\"loss\"] .plot')"
BASELINE_LOSS = [1.0 / (s + 1) for s in range(10)]
FAST_LOSS = [2.0 / (s + 1) for s in range(10)]


def loss_traces(page) -> dict[str, list[float]]:
    page.wait_for_function(f"{LOSS_PLOT} && {LOSS_PLOT}.data && {LOSS_PLOT}.data.length === 2")
    traces = page.evaluate(f"{LOSS_PLOT}.data.map(t => ({{name: t.name, y: Array.from(t.y)}}))")
    return {trace["name"]: trace["y"] for trace in traces}


def assert_baseline_and_fast(page) -> None:
    traces = loss_traces(page)
    assert sorted(traces) == ["baseline", "fast-lr"]
    assert traces["baseline"] == pytest.approx(BASELINE_LOSS)
    assert traces["fast-lr"] == pytest.approx(FAST_LOSS)
    differs = page.locator("#differs-list").inner_text()
    assert "Config: 2 keys differ (lr, batch)" in differs


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_selecting_two_runs_and_comparing_overlays_their_curves(page, site, scheme):
    requests, dialogs = open_page(page, site, scheme, "index.html")
    compare = page.get_by_role("button", name="Compare", exact=True)
    assert compare.is_disabled()
    page.get_by_role("checkbox", name="Select baseline").check()
    assert compare.is_disabled()
    page.get_by_role("checkbox", name="Select fast-lr").check()
    assert compare.is_enabled()
    page.wait_for_function("location.hash.startsWith('#sel=')")
    compare.click()
    page.wait_for_url("**/compare.html#runs=*")
    assert_baseline_and_fast(page)
    # the other runs are not drawn; the best value per summary row is marked
    best = page.locator("#compare-summary td.best").all_inner_texts()
    assert [text.rstrip(" ★") for text in best] == ["0.1", "0.9"]  # lower loss, higher acc: both baseline's
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, site, scheme)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_a_compare_link_opens_cold_with_its_view(page, site, scheme):
    open_page(page, site, scheme, "index.html")
    ids = page.evaluate("TrackerData.index.runs.filter(r => ['baseline', 'fast-lr'].includes(r.name)).map(r => r.id)")
    other = cold_page(page)
    requests = []
    other.on("request", lambda request: requests.append(request.url))
    other.goto(site["bases"][scheme] + f"compare.html#runs={','.join(ids)}&x=relative&log=1")
    other.wait_for_load_state("load")
    assert_baseline_and_fast(other)
    assert other.get_by_label("X axis").input_value() == "relative"
    assert other.evaluate(f"{LOSS_PLOT}.layout.yaxis.type") == "log"
    assert other.locator("#compare-parcoords .plot-container").count() == 1
    other.get_by_role("checkbox", name="Log scale").uncheck()
    other.wait_for_function("!location.hash.includes('log=1') && location.hash.includes('x=relative')")
    assert other.errors == []
    assert_inside_site(requests, site, scheme)


def test_selection_is_kept_in_the_index_hash_and_too_few_runs_are_explained(page, site):
    open_page(page, site, "file", "index.html")
    first = page.evaluate("TrackerData.index.runs.find(r => r.name === 'baseline').id")
    page.goto(site["bases"]["file"] + f"index.html#sel={first}")
    page.reload()
    assert page.get_by_role("checkbox", name="Select baseline").is_checked()
    assert page.get_by_role("button", name="Compare", exact=True).is_disabled()
    page.goto(site["bases"]["file"] + f"compare.html#runs={first}")
    page.wait_for_load_state("load")
    assert "Choose 2 or more runs" in page.locator("#compare-message").inner_text()
    assert page.errors == []


def test_packages_fingerprint_is_equal_for_the_same_versions_in_any_order():
    same = packages_fingerprint({"packages": {"numpy": "2.1.0", "torch": "2.4.0"}})
    assert same == packages_fingerprint({"packages": {"torch": "2.4.0", "numpy": "2.1.0"}})
    assert same != packages_fingerprint({"packages": {"numpy": "2.1.1", "torch": "2.4.0"}})
    assert packages_fingerprint(None) is None and packages_fingerprint({"packages": {}}) is None


def test_non_finite_values_are_marked_on_the_overlaid_curves_by_run(page, site):
    open_page(page, site, "file", "index.html")
    ids = page.evaluate("TrackerData.index.runs.filter(r => ['baseline', 'diverged'].includes(r.name)).map(r => r.id)")
    page.goto(site["bases"]["file"] + f"compare.html#runs={','.join(ids)}")
    page.wait_for_function(f"{LOSS_PLOT} && {LOSS_PLOT}.data && {LOSS_PLOT}.data.length === 3")
    markers = page.evaluate(f"{LOSS_PLOT}.data.filter(t => t.name === 'NaN / Infinity')"
                            ".map(t => ({text: Array.from(t.text), symbols: Array.from(t.marker.symbol)}))")
    assert markers == [{"text": ["diverged: Infinity at step 2", "diverged: NaN at step 3", "diverged: -Infinity at step 4"],
                        "symbols": ["triangle-up", "x", "triangle-down"]}]
    assert page.errors == []
