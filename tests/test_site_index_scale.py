"""The index with 10,000 runs in real Chromium: paged rows, search and sort across every page.

Building 10,000 real runs would take a minute, so a small real site is built and its
data/index.js is replaced by 10,000 rows in the exact shape the build writes (each a copy of a
real row with its own id, name, project, config and summary). bench/bench_site.py measures the
load and redraw times on real 10,000-run builds; tests here check only what a person sees.
"""
from __future__ import annotations

import copy

import pytest
from playwright.sync_api import expect

from sitegen.index_data import index_files, index_of_text
from sitegen.render import script_json
from test_site_links import cold_page
from test_site_support import log_run, run_cli

RUNS = 10_000
PER_PAGE = 100


def synthetic_row(template: dict, number: int) -> dict:
    row = copy.deepcopy(template)
    row.update(id=f"run-{number:05d}", name=f"sweep-{number:05d}", slug=template["slug"], url=template["url"],
               project=f"project-{number % 4}", created=1_790_000_000 + number * 60,
               config={"lr": round(0.0001 * (1 + number % 97), 6), "seed": number},
               summary={"loss": round(1.0 + (number * 7919 % RUNS) / RUNS, 6)})
    return row


@pytest.fixture(scope="module")
def big_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    log_run(root, "template", config={"lr": 0.1, "seed": 1}, metrics=[{"loss": 0.5}])
    log_run(root, "other", config={"lr": 0.2, "seed": 2}, metrics=[{"loss": 0.4}])
    out = tmp_path_factory.mktemp("site") / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    template = index_of_text((out / "data" / "index.js").read_text())["runs"][0]
    rows = [script_json(synthetic_row(template, number)) for number in range(RUNS)]
    (out / "data" / "index.js").write_text(index_files(rows, [])["data/index.js"])  # as a build writes them
    return out


def open_index(page, site, fragment: str = "") -> None:
    page.goto((site / "index.html").as_uri() + fragment)
    page.wait_for_function("performance.getEntriesByName('tracker:index-ready').length > 0")


def names(page) -> list[str]:
    return page.locator("#runs-table tbody td.name").all_inner_texts()


def column(page, label: str) -> list[str]:
    """The visible texts of one column of the table, by its header."""
    return page.evaluate("""(label) => {
        const headers = [...document.querySelectorAll('#runs-table thead th')].map((th) => th.textContent.replace(/[▲▼]/g, ''));
        const index = headers.indexOf(label);
        return [...document.querySelectorAll('#runs-table tbody tr')].map((tr) => tr.cells[index].textContent);
    }""", label)


def pager_status(page) -> str:
    return page.locator("#pager-status").inner_text()


def test_only_one_page_of_ten_thousand_rows_is_in_the_table(page, big_index):
    open_index(page, big_index)
    assert page.locator("#runs-table tbody tr").count() == PER_PAGE
    assert pager_status(page) == "1–100 of 10,000"
    assert page.locator("#run-count").inner_text() == "10,000 runs"
    assert names(page)[0] == "sweep-09999"  # newest first
    assert page.get_by_role("button", name="Previous").is_disabled()
    page.get_by_role("button", name="Next").click()
    assert pager_status(page) == "101–200 of 10,000"
    assert names(page)[0] == "sweep-09899"
    expect(page.get_by_role("link", name="sweep-09899")).to_be_in_viewport()  # not left at the page's bottom
    page.wait_for_function("location.hash === '#page=2'")
    page.get_by_label("Rows per page").select_option("1000")
    assert pager_status(page) == "1–1,000 of 10,000"  # the first run shown before stays on screen
    assert page.locator("#runs-table tbody tr").count() == 1000
    assert page.errors == []


def test_search_and_sort_reach_every_page(page, big_index):
    open_index(page, big_index)
    search = page.get_by_role("searchbox", name="Filter runs")
    search.fill("sweep-00123")  # on page 99 of the unfiltered list
    page.wait_for_function("document.getElementById('pager-status').offsetParent === null")  # one page: no pager
    assert names(page) == ["sweep-00123"]
    search.fill("sweep-00123 lr>")  # half typed: the error shows, the last good rows stay
    page.wait_for_function("document.getElementById('filter-message').classList.contains('error')")
    assert names(page) == ["sweep-00123"]
    search.fill("sweep-00123")  # back to the search already listed: the error goes
    page.wait_for_function("document.getElementById('filter-message').textContent === '1 of 10,000 runs match'")
    assert search.get_attribute("aria-invalid") == "false"
    search.fill("project:project-2 lr<0.0003")
    expected = [f"sweep-{n:05d}" for n in reversed(range(RUNS)) if n % 4 == 2 and 0.0001 * (1 + n % 97) < 0.0003]
    message = f"{len(expected)} of 10,000 runs match"
    page.wait_for_function(f"document.getElementById('filter-message').textContent === {message!r}")
    assert names(page) == expected  # fewer than a page: all of them, newest first
    search.fill("")
    page.wait_for_function("document.getElementById('pager-status').textContent === '1–100 of 10,000'")
    page.locator("#runs-table thead th", has_text="loss").get_by_role("button").click()  # descending first
    page.wait_for_function("document.querySelector('#runs-table th[aria-sort=descending]')")
    losses = [float(text) for text in column(page, "loss")]
    assert losses[0] == max(1.0 + (n * 7919 % RUNS) / RUNS for n in range(RUNS))
    assert losses == sorted(losses, reverse=True)
    assert page.errors == []


def test_a_link_to_a_page_of_a_sorted_search_opens_cold(page, big_index):
    open_index(page, big_index)
    page.get_by_role("searchbox", name="Filter runs").fill("project:project-1")
    page.wait_for_function("document.getElementById('pager-status').textContent === '1–100 of 2,500'")
    page.locator("#runs-table thead th", has_text="loss").get_by_role("button").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    shown = names(page)
    page.wait_for_function("location.hash === '#q=project%3Aproject-1&sort=-summary.loss&page=3'")
    link = page.url
    other = cold_page(page)
    other.goto(link)
    other.wait_for_function("performance.getEntriesByName('tracker:index-ready').length > 0")
    assert other.locator("#pager-status").inner_text() == "201–300 of 2,500"
    assert names(other) == shown
    assert other.errors == []


def test_selection_survives_paging_and_compare_opens_with_it(page, big_index):
    open_index(page, big_index)
    page.get_by_role("checkbox", name="Select sweep-09999").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("checkbox", name="Select sweep-09899").check()
    page.get_by_role("button", name="Previous").click()
    assert page.get_by_role("checkbox", name="Select sweep-09999").is_checked()
    assert page.locator("#compare-message").inner_text() == "2 selected"
    assert page.errors == []
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_url("**/compare.html#runs=*")
    assert page.url.endswith("#runs=run-09999,run-09899")


def test_grouping_counts_each_project_across_all_pages(page, big_index):
    open_index(page, big_index)
    page.get_by_label("Group by project").check()
    groups = page.locator("#runs-table tbody tr.group-row").all_inner_texts()
    assert groups == ["project-0 · 2,500"]  # the first page holds only the first project
    assert pager_status(page) == "1–100 of 10,000"
    assert page.errors == []
