"""Groups on the site, in headless Chromium from file:// and from an HTTP sub-path: five seeds of two
optimizers grouped on the index (counts, mean ± std, min – max, NaN skipped and counted, sorting and
filtering, the view in the URL opened cold) and the compare view's group chart (each group's mean and
band equal NumPy over the runs at every step, runs interpolated onto the common steps)."""
from __future__ import annotations

import functools
import re
import threading
from http.server import ThreadingHTTPServer

import numpy
import pytest

from grouping_runs import OPTIMIZERS, band_at, log_runs, summary_values
from test_site_browser import QuietHandler
from test_site_links import cold_page
from test_site_support import run_cli

GROUP_ROWS = "#runs-table tbody tr.agg-group-row"
GROUP_PLOT = "document.querySelector('#groups-charts figure[data-metric=\"loss\"] .plot')"


@pytest.fixture(scope="module")
def groups_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    log_runs(root)
    parent = tmp_path_factory.mktemp("served")
    out = parent / "sub" / "path"
    code, _, err = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0, err
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}
    server.shutdown()


def group_rows(page) -> list[list[str]]:
    """Each group row's name cell and its metric cells' text (loss, val_loss: the default columns)."""
    return page.evaluate("""() => [...document.querySelectorAll('#runs-table tbody tr.agg-group-row')].map((tr) => {
      const heads = [...document.querySelectorAll('#runs-table thead th')].map((th) => th.textContent.replace(/[▲▼]/g, '').trim());
      const cells = [...tr.cells];
      return [cells[heads.indexOf('Name')].innerText.replace(/\\s+/g, ' ').trim(),
              cells[heads.indexOf('loss')].innerText.trim(), cells[heads.indexOf('val_loss')].innerText.trim()];
    })""")


def numbers(text: str) -> list[float]:
    return [float(found) for found in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text.split("\n")[0] if "±" in text else text)]


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_the_index_groups_runs_by_optimizer_with_counts_and_numpy_aggregates(page, groups_site, scheme):
    page.goto(groups_site[scheme] + "index.html")
    page.get_by_label("Group by", exact=True).select_option(label="optimizer")
    page.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    rows = group_rows(page)
    assert [row[0] for row in rows] == ["optimizer: adam 5 runs chart", "optimizer: sgd 5 runs chart"]
    assert page.locator("#run-count").inner_text() == "10 runs in 2 groups"
    for row, optimizer in zip(rows, OPTIMIZERS):
        for cell, metric in ((row[1], "loss"), (row[2], "val_loss")):
            values = summary_values(optimizer, metric)
            mean, std = numbers(cell.split("\n")[0])
            assert (mean, std) == pytest.approx((numpy.mean(values), numpy.std(values)), rel=1e-5)  # 6 digits shown
    assert rows[0][2].split("\n")[-1] == "1 NaN/Inf skipped" and "skipped" not in rows[1][2]

    page.get_by_label("Show").select_option(label="min – max")
    page.wait_for_function("location.hash.includes('agg=minmax')")
    low, high = numbers(group_rows(page)[1][2])
    assert (low, high) == pytest.approx((summary_values("sgd", "val_loss").min(), summary_values("sgd", "val_loss").max()))

    page.get_by_role("button", name="optimizer: sgd").click()  # a group expands to its runs
    assert page.get_by_role("button", name="optimizer: sgd").get_attribute("aria-expanded") == "true"
    assert sorted(page.locator("#runs-table tbody tr.in-group td.name").all_inner_texts()) == [f"sgd-{seed}" for seed in range(5)]

    page.get_by_role("button", name="val_loss", exact=True).click()  # sorts the groups by their mean, highest first
    page.wait_for_function("location.hash.includes('sort=-summary.val_loss')")
    assert [row[0].split(" ")[1] for row in group_rows(page)] == ["sgd", "adam"]
    page.get_by_role("searchbox", name="Filter runs").fill("seed<2")  # filters runs, then groups them
    page.wait_for_function("document.getElementById('run-count').textContent === '4 runs in 2 groups'")
    assert [row[0] for row in group_rows(page)] == ["optimizer: sgd 2 runs chart", "optimizer: adam 2 runs chart"]
    assert page.errors == []

    page.wait_for_function("location.hash.includes('groupby=config.optimizer') && location.hash.includes('q=')")
    other = cold_page(page)  # the URL reopens the grouped view
    other.goto(page.url)
    other.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    assert other.get_by_label("Group by", exact=True).input_value() == "config.optimizer"
    assert other.get_by_label("Show").input_value() == "minmax"
    assert [row[0] for row in group_rows(other)] == ["optimizer: sgd 2 runs chart", "optimizer: adam 2 runs chart"]
    assert other.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_two_nested_fields_group_within_groups(page, groups_site, scheme):
    page.goto(groups_site[scheme] + "index.html#groupby=config.optimizer,config.seed")
    page.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    page.get_by_role("button", name="optimizer: adam").click()
    inner = page.locator(f"{GROUP_ROWS}.level-1 td.name").all_inner_texts()
    assert [text.split("\n")[0].split(" ")[:3] for text in inner] == [["seed:", str(seed), "1"] for seed in range(5)] \
        or [" ".join(text.split()[:3]) for text in inner] == [f"seed: {seed} 1" for seed in range(5)]
    assert page.get_by_label("then by").input_value() == "config.seed"
    assert page.errors == []


def band_traces(page, role: str) -> dict:
    return page.evaluate(f"""() => Object.fromEntries({GROUP_PLOT}.data.filter((t) => t.meta.role === '{role}')
      .map((t) => [t.meta.group, {{x: t.x, y: t.y, count: t.customdata || null, visible: t.visible}}]))""")


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_the_group_chart_has_a_band_per_group_equal_to_numpy(page, groups_site, scheme):
    page.goto(groups_site[scheme] + "index.html#groupby=config.optimizer")
    page.get_by_role("link", name="Chart groups").click()
    page.wait_for_function(f"{GROUP_PLOT} && {GROUP_PLOT}.data")
    assert "groups=config.optimizer" in page.url
    assert page.locator("#groups-summary").inner_text() == "optimizer: adam (5 runs), optimizer: sgd (5 runs)"
    assert page.locator("#groups-charts figure[data-metric='loss'] figcaption").inner_text() == "loss by step · 1 NaN/Inf point skipped"
    means, lows, highs = band_traces(page, "mean"), band_traces(page, "low"), band_traces(page, "high")
    assert sorted(means) == ["optimizer: adam", "optimizer: sgd"]
    for optimizer in OPTIMIZERS:
        label = f"optimizer: {optimizer}"
        assert means[label]["x"] == list(range(10))  # sgd-4 logged 0, 3, 6, 9 only: interpolated onto the others' steps
        for index, step in enumerate(means[label]["x"]):
            values = band_at(optimizer, step, numpy.float32)  # the site keeps these values as float32
            assert means[label]["count"][index] == len(values)
            assert means[label]["y"][index] == pytest.approx(numpy.mean(values), rel=1e-9)
            assert highs[label]["y"][index] - means[label]["y"][index] == pytest.approx(numpy.std(values), rel=1e-7, abs=1e-12)
            assert means[label]["y"][index] - lows[label]["y"][index] == pytest.approx(numpy.std(values), rel=1e-7, abs=1e-12)
    assert means["optimizer: adam"]["count"] == [5] * 6 + [4] * 4  # adam-4 stops at step 5: not extrapolated

    page.get_by_label("Band").select_option(label="min – max")
    page.get_by_label("Runs", exact=True).uncheck()
    page.wait_for_function("location.hash.includes('band=minmax') && location.hash.includes('grouplines=0')")
    lows, highs = band_traces(page, "low"), band_traces(page, "high")
    assert highs["optimizer: sgd"]["y"][1] == pytest.approx(max(band_at("sgd", 1, numpy.float32)), rel=1e-9)
    assert lows["optimizer: sgd"]["y"][1] == pytest.approx(min(band_at("sgd", 1, numpy.float32)), rel=1e-9)
    assert page.evaluate(f"[...new Set({GROUP_PLOT}.data.filter((t) => t.meta.role === 'run').map((t) => t.visible))]") == [False]
    assert page.errors == []

    other = cold_page(page)
    other.goto(page.url)
    other.wait_for_function(f"{GROUP_PLOT} && {GROUP_PLOT}.data")
    assert other.get_by_label("Band").input_value() == "minmax" and not other.get_by_label("Runs", exact=True).is_checked()
    assert band_traces(other, "high") == highs
    assert other.errors == []


def test_a_group_rows_chart_link_opens_the_groups_page(page, groups_site):
    page.goto(groups_site["file"] + "index.html#groupby=config.optimizer")
    page.get_by_role("link", name="Chart of optimizer: sgd").click()
    page.wait_for_function(f"{GROUP_PLOT} && {GROUP_PLOT}.data")
    assert page.locator("#compare-runs-list").inner_text().count("sgd-") == 5
    assert sorted(band_traces(page, "mean")) == ["optimizer: sgd"]
    assert page.evaluate(f"{GROUP_PLOT}.data.filter((t) => t.meta.role === 'run').map((t) => t.name).sort()") \
        == [f"sgd-{seed}" for seed in range(5)]
    assert page.errors == []


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme_color", ["light", "dark"])
def test_grouped_pages_fit_the_screen_in_light_and_dark(browser, groups_site, tmp_path, width, scheme_color):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme_color)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(groups_site["file"] + "index.html#groupby=config.optimizer&agg=all")
    page.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    page.screenshot(path=str(tmp_path / f"index-{width}-{scheme_color}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the table scrolls in its own box
    page.get_by_role("link", name="Chart groups").click()
    page.wait_for_function(f"{GROUP_PLOT} && {GROUP_PLOT}.data")
    page.screenshot(path=str(tmp_path / f"compare-{width}-{scheme_color}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()
