"""Shareable links: the view lives in the URL's hash, a copied link opens it cold; "Copy link"."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from test_site_support import EVIL
from test_site_browser import open_page, run_page, site, table_names  # noqa: F401 (site is a fixture)

PLOT = "document.querySelector('figure[data-metric=\"loss\"] .plot')"


def cold_page(page):
    """Another tab in the same browser context, with its own error list: nothing carried over in JS."""
    other = page.context.new_page()
    other.errors = []
    other.on("pageerror", lambda exc: other.errors.append(f"pageerror: {exc}"))
    other.on("console", lambda msg: other.errors.append(f"console.{msg.type}: {msg.text}")
             if msg.type == "error" else None)
    return other


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_typing_a_search_puts_it_in_the_hash_and_the_link_opens_it_cold(page, site, scheme):
    open_page(page, site, scheme, "index.html")
    page.get_by_role("searchbox", name="Filter runs").fill("status:failed")
    page.wait_for_function("location.hash === '#q=status%3Afailed'")
    assert urlsplit(page.url).path.endswith("/index.html") and urlsplit(page.url).query == ""

    other = cold_page(page)
    other.goto(page.url)
    other.wait_for_load_state("load")
    assert other.get_by_role("searchbox", name="Filter runs").input_value() == "status:failed"
    assert table_names(other) == ["broken-loader"]
    assert "1 of 6 runs match" in other.locator("#filter-message").inner_text()
    assert page.errors == [] and other.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_sort_columns_and_grouping_in_the_hash_are_applied_cold(page, site, scheme):
    open_page(page, site, scheme, "index.html#sort=name&cols=config.lr&group=1")
    names = page.locator("#runs-table tbody tr:not(.group-row) td.name").all_inner_texts()
    assert names == ["broken-loader", "diverged", EVIL, "baseline", "fast-lr", "long-run"]  # by project, then name
    assert page.get_by_role("columnheader", name="Name").get_attribute("aria-sort") == "ascending"
    headers = page.locator("#runs-table thead th").all_inner_texts()
    assert headers[-1].strip() == "lr" and "acc" not in [h.strip() for h in headers]
    assert page.get_by_role("checkbox", name="Group by project").is_checked()
    assert [row.split(" ·")[0] for row in page.locator("#runs-table tr.group-row").all_inner_texts()] == ["nlp", "vision"]

    page.get_by_role("button", name="Name", exact=True).click()  # now descending, written back
    page.wait_for_function("location.hash.includes('sort=-name')")
    assert "cols=config.lr" in page.url and "group=1" in page.url
    page.evaluate("location.hash = '#q=fast'")  # an edited hash (hashchange) resets the rest
    page.wait_for_function("document.querySelectorAll('#runs-table tbody tr').length === 1")
    assert table_names(page) == ["fast-lr"]
    assert not page.get_by_role("checkbox", name="Group by project").is_checked()
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_run_page_link_opens_with_the_chart_controls_set(page, site, scheme):
    open_page(page, site, scheme, run_page(site, "baseline") + "#x=relative&smooth=0.5&log=1")
    page.wait_for_function(f"{PLOT}.layout")
    assert page.get_by_label("X axis").input_value() == "relative"
    assert page.get_by_role("checkbox", name="Log scale").is_checked()
    assert page.locator("#chart-smoothing-value").inner_text() == "0.5"
    layout = page.evaluate(f"(() => {{ const l = {PLOT}.layout; return {{y: l.yaxis.type, x: l.xaxis.title.text}}; }})()")
    assert layout == {"y": "log", "x": "seconds since start"}
    assert page.evaluate(f"{PLOT}.data.length") == 2  # raw and smoothed

    page.get_by_role("checkbox", name="Log scale").uncheck()
    page.wait_for_function("location.hash === '#x=relative&smooth=0.5'")
    assert page.evaluate(f"{PLOT}.layout.yaxis.type") == "linear"
    assert page.errors == []


def test_copy_link_uses_the_clipboard_over_http(page, site):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site["bases"]["http"].rstrip("/"))
    open_page(page, site, "http", "index.html#q=tag%3Asweep")
    page.get_by_role("button", name="Copy link").click()
    status = page.locator("#copy-link-status")
    page.wait_for_function("document.getElementById('copy-link-status').textContent === 'Copied'")
    assert status.get_attribute("aria-live") == "polite"
    assert page.evaluate("navigator.clipboard.readText()") == page.url
    assert page.url.endswith("/sub/path/index.html#q=tag%3Asweep")
    assert page.errors == []


@pytest.mark.parametrize("relative", ["index.html", "baseline"])
def test_copy_link_falls_back_without_the_clipboard_api_on_file_urls(page, site, relative):
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    relative = run_page(site, "baseline") + "#log=1" if relative == "baseline" else relative + "#q=fast"
    open_page(page, site, "file", relative)
    page.evaluate("document.addEventListener('copy', () => { window.copied = document.activeElement.value; })")
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("document.getElementById('copy-link-status').textContent === 'Copied'")
    assert page.evaluate("window.copied") == page.url  # the read-only input was selected and copied
    assert page.locator("#copy-link-input").is_hidden()
    assert page.errors == []
