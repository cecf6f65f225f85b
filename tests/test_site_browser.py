"""A built site in real headless Chromium, opened from file:// and from a sub-path over HTTP."""
from __future__ import annotations

import functools
import gzip
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_site_support import EVIL, LONG_STEPS, make_runs, run_cli


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Runs logged with the real logger, built once; served as http://127.0.0.1:PORT/sub/path/."""
    root = tmp_path_factory.mktemp("runs")
    paths = make_runs(root)
    parent = tmp_path_factory.mktemp("served")
    out = parent / "sub" / "path"
    code, _, _ = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http_base = f"http://127.0.0.1:{server.server_port}/sub/path/"
    yield {"out": out, "paths": paths, "bases": {"file": out.as_uri() + "/", "http": http_base}}
    server.shutdown()


def open_page(page, site, scheme: str, relative: str):
    """Go to a page, recording every request and any dialog; returns (requests, dialogs)."""
    requests, dialogs = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(site["bases"][scheme] + relative)
    page.wait_for_load_state("load")
    return requests, dialogs


def run_page(site, name: str) -> str:
    return f"runs/{os.path.basename(site['paths'][name])}/index.html"


def table_names(page) -> list[str]:
    return page.locator("#runs-table tbody td.name").all_inner_texts()


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_index_lists_filters_and_sorts_runs(page, site, scheme):
    requests, dialogs = open_page(page, site, scheme, "index.html")
    assert sorted(table_names(page)) == sorted(["baseline", "fast-lr", "diverged", "broken-loader", "long-run", EVIL])
    search = page.get_by_role("searchbox", name="Filter runs")
    search.fill("fast")
    page.wait_for_function("document.querySelectorAll('#runs-table tbody tr').length === 1")
    assert table_names(page) == ["fast-lr"]
    search.fill("status:failed")
    page.wait_for_function("document.querySelectorAll('#runs-table tbody tr').length === 1")
    assert table_names(page) == ["broken-loader"]
    search.fill("lr>=")
    page.wait_for_function("document.getElementById('filter-message').classList.contains('error')")
    assert "invalid filter" in page.locator("#filter-message").inner_text()
    search.fill("")
    page.get_by_role("button", name="Name", exact=True).click()
    ascending = table_names(page)
    assert ascending == sorted(ascending, key=str.lower)
    page.get_by_role("button", name="Name", exact=True).click()
    assert table_names(page) == ascending[::-1]
    assert "1 run folder could not be read" in page.locator(".notice-warn").inner_text()
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, site, scheme)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_run_page_charts_hold_the_logged_data(page, site, scheme):
    requests, _ = open_page(page, site, scheme, run_page(site, "baseline"))
    page.wait_for_function("document.querySelector('figure[data-metric=\"loss\"] .plot').data")
    traces = page.evaluate("document.querySelector('figure[data-metric=\"loss\"] .plot').data"
                           ".map(t => ({x: Array.from(t.x), y: Array.from(t.y)}))")
    assert traces[0]["x"] == list(range(10))
    assert traces[0]["y"] == pytest.approx([1.0 / (s + 1) for s in range(10)])
    assert page.get_by_role("heading", name="baseline").is_visible()
    assert page.errors == []
    assert_inside_site(requests, site, scheme)


def test_non_finite_values_are_markers_and_long_series_are_downsampled(page, site):
    open_page(page, site, "file", run_page(site, "diverged"))
    page.wait_for_function("document.querySelector('figure[data-metric=\"loss\"] .plot').data")
    marks = page.evaluate("document.querySelector('figure[data-metric=\"loss\"] .plot').data[1].text")
    assert marks == ["Infinity at step 2", "NaN at step 3", "-Infinity at step 4"]
    open_page(page, site, "file", run_page(site, "long"))
    page.wait_for_function("document.querySelector('figure[data-metric=\"loss\"] .plot').data")
    trace = page.evaluate("(() => { const t = document.querySelector('figure[data-metric=\"loss\"] .plot').data[0];"
                          " return {n: t.y.length, max: Math.max(...t.y)}; })()")
    assert 1000 < trace["n"] <= 5002 and trace["max"] > 4  # fewer points, the spike at step 12345 kept
    note = page.locator("figure[data-metric=\"loss\"] .chart-note").inner_text()
    assert note == f"showing {trace['n']:,} of {LONG_STEPS:,} points; the CSV has all"
    with page.expect_download() as download:  # a reduced page links the CSV the build wrote of every point
        page.get_by_role("link", name="Download CSV").click()
    lines = gzip.decompress(open(download.value.path(), "rb").read()).decode("utf-8").splitlines()
    assert lines[0] == "metric,step,seconds_since_start,wall_time_utc,value" and len(lines) == LONG_STEPS + 1
    assert lines[12_346].startswith("loss,12345,") and float(lines[12_346].rsplit(",", 1)[1]) > 4


def test_failed_run_shows_its_traceback_at_the_top(page, site):
    open_page(page, site, "file", run_page(site, "failed"))
    failure = page.locator("#failure")
    assert "This run failed" in failure.inner_text() and "RuntimeError: loader worker died" in failure.inner_text()
    assert page.errors == []


@pytest.mark.parametrize("relative", ["index.html", "evil"])
def test_logged_markup_shows_as_text_and_runs_no_script(page, site, relative):
    relative = run_page(site, "evil") if relative == "evil" else relative
    requests, dialogs = open_page(page, site, "http", relative)
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert EVIL in page.locator("body").inner_text()
    assert page.errors == []
    assert_inside_site(requests, site, "http")


def assert_inside_site(requests: list[str], site, scheme: str) -> None:
    base = site["bases"][scheme]
    outside = [url for url in requests if not url.startswith(base) and not url.startswith("blob:")]
    assert requests and outside == []
