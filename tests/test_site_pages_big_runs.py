"""Big runs stay usable on the site: a long run's page holds reduced series and links a CSV of every
point; a run of thousands of metrics draws only the charts in view, and a filter finds the rest."""
from __future__ import annotations

import gzip
import json
import math
import os

import pytest

from sitegen.load import PAGE_POINTS_PER_SERIES
from sitegen.metrics_csv import HEADER, METRICS_CSV_FILE, csv_cell, metrics_csv_chunks
from test_site_links import cold_page
from test_site_support import run_cli, run_data

CREATED = 1_790_000_000.0
LONG_STEPS = 300_000
SPIKE_STEP = 123_457
SPIKE = 1e6
WIDE_METRICS = 5_000
DRAWN = "document.querySelectorAll('figure.chart .plot.js-plotly-plot').length"


def write_run(folder, run_id: str, steps: int, values_at) -> str:
    """A run written straight as JSON lines (docs/format.md), as any writer may."""
    path = os.path.join(folder, run_id)
    os.makedirs(path)
    with open(os.path.join(path, "events.jsonl"), "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "run", "schema": 1, "id": run_id, "project": "big", "name": run_id,
                                 "time": CREATED}) + "\n")
        handle.write(json.dumps({"type": "start", "writer": "w0", "time": CREATED, "pid": 1, "host": "h",
                                 "user": "u"}) + "\n")
        for step in range(steps):
            handle.write(json.dumps({"type": "metrics", "step": step, "time": CREATED + step * 0.25,
                                     "values": values_at(step)}) + "\n")
        handle.write(json.dumps({"type": "end", "writer": "w0", "time": CREATED + steps * 0.25,
                                 "status": "finished"}) + "\n")
    return path


def long_values(step: int) -> dict:
    loss = SPIKE if step == SPIKE_STEP else 1.0 / (1 + step / 1000)
    return {"loss": loss, "acc": math.nan if step == 7 else step / LONG_STEPS}


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_run(root, "long-run", LONG_STEPS, long_values)
    write_run(root, "wide-run", 3, lambda step: {f"m_{n:04d}": n + step for n in range(WIDE_METRICS)})
    out = tmp_path_factory.mktemp("site") / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    return out


def test_a_long_runs_page_data_holds_reduced_series_with_the_spike_and_the_count(big_site):
    data = run_data(big_site, "long-run")
    loss, acc = data["metrics"]["loss"], data["metrics"]["acc"]
    assert loss["count"] == acc["count"] == LONG_STEPS
    assert len(loss["values"]) <= PAGE_POINTS_PER_SERIES * 1.05 and len(acc["values"]) <= PAGE_POINTS_PER_SERIES * 1.05
    spike = loss["values"].index(SPIKE)
    assert loss["steps"][spike] == SPIKE_STEP
    assert any(map(math.isnan, acc["values"]))  # a non-finite value survives the reduction
    assert os.path.getsize(big_site / "data" / "runs" / "long-run.js") < 1_000_000


def test_the_csv_beside_a_reduced_page_has_every_logged_point(big_site):
    with gzip.open(big_site / "runs" / "long-run" / METRICS_CSV_FILE, "rt", encoding="utf-8") as handle:
        header = handle.readline()
        rows = [line.rstrip("\n").split(",") for line in handle]
    assert header == HEADER and len(rows) == 2 * LONG_STEPS
    assert rows[0] == ["loss", "0", "0", "2026-09-21T14:13:20.000Z", "1.0"]
    assert rows[15] == ["acc", "7", "1.75", "2026-09-21T14:13:21.750Z", "NaN"]
    assert rows[2 * SPIKE_STEP] == ["loss", str(SPIKE_STEP), "30864.25", "2026-09-21T22:47:44.250Z", repr(SPIKE)]
    assert [float(row[4]) for row in rows[1::2][:3]] == [0.0, 1 / LONG_STEPS, 2 / LONG_STEPS]  # full precision
    assert not (big_site / "runs" / "wide-run" / METRICS_CSV_FILE).exists()  # not reduced: the page has it all


def test_the_long_run_page_says_its_charts_are_reduced_and_links_the_full_csv(page, big_site):
    page.goto((big_site / "runs" / "long-run" / "index.html").as_uri())
    plot = "document.querySelector('figure[data-metric=\"loss\"] .plot')"
    page.wait_for_function(f"{plot}.data")
    drawn = page.evaluate(f"{plot}.data[0].y.length")
    assert page.evaluate(f"Math.max(...{plot}.data[0].y)") == SPIKE
    note = page.locator("figure[data-metric=\"loss\"] figcaption").inner_text()
    assert note == f"loss showing {drawn:,} of {LONG_STEPS:,} points; the CSV has all"
    link = page.get_by_role("link", name="Download CSV")
    assert link.get_attribute("href") == METRICS_CSV_FILE
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == METRICS_CSV_FILE
    assert gzip.decompress(open(download.value.path(), "rb").read()).count(b"\n") == 2 * LONG_STEPS + 1
    assert page.errors == []


def test_a_page_of_5000_metrics_draws_the_charts_in_view_and_the_filter_finds_the_rest(page, big_site):
    page.goto((big_site / "runs" / "wide-run" / "index.html").as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function(f"{DRAWN} > 0")
    assert page.locator("figure.chart").count() == WIDE_METRICS
    assert page.evaluate(DRAWN) < 40  # a screenful, not 5,000
    search = page.get_by_role("searchbox", name="Filter metrics")
    search.fill("m_004*")
    page.wait_for_function("location.hash.includes('metrics=m_004*')")
    shown = page.locator("figure.chart:visible figcaption").all_text_contents()
    assert shown == [f"m_{n:04d}" for n in range(40, 50)]
    assert page.locator("#metric-filter-status").inner_text() == f"10 of {WIDE_METRICS:,} charts"
    page.wait_for_function("document.querySelector('figure[data-metric=\"m_0040\"] .plot').data")
    page.locator("figure[data-metric=\"m_0049\"]").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('figure[data-metric=\"m_0049\"] .plot').data")
    assert page.evaluate("document.querySelector('figure[data-metric=\"m_0049\"] .plot').data[0].y") == [49, 50, 51]
    search.fill("4999")  # no "*": a substring of the name
    page.wait_for_function("document.querySelectorAll('figure.chart:not([hidden])').length === 1")
    page.wait_for_function("document.querySelector('figure[data-metric=\"m_4999\"] .plot').data"
                           " && location.hash === '#metrics=4999'")
    other = cold_page(page)
    other.goto(page.url)  # the filter is in the link
    other.wait_for_function("document.querySelectorAll('figure.chart:not([hidden])').length === 1")
    assert other.get_by_role("searchbox", name="Filter metrics").input_value() == "4999"
    assert page.errors == [] and other.errors == []


def test_charts_scrolled_into_view_are_drawn_and_redrawn_when_a_control_changes(page, big_site):
    page.goto((big_site / "runs" / "wide-run" / "index.html").as_uri())
    page.wait_for_function(f"{DRAWN} > 0")
    last = "document.querySelector('figure[data-metric=\"m_4999\"] .plot')"
    assert page.evaluate(f"{last}.data") is None
    page.locator("figure[data-metric=\"m_4999\"]").scroll_into_view_if_needed()
    page.wait_for_function(f"{last}.data")
    page.get_by_role("checkbox", name="Log scale").check()  # scrolls up to the controls: the first charts are in view
    page.wait_for_function("document.querySelector('figure[data-metric=\"m_0000\"] .plot').layout.yaxis.type === 'log'")
    page.locator("figure[data-metric=\"m_4999\"]").scroll_into_view_if_needed()
    page.wait_for_function(f"{last}.layout.yaxis.type === 'log'")  # back in view, it follows the control
    assert page.evaluate("document.querySelector('figure[data-metric=\"m_2500\"] .plot').data") is None  # never in view
    assert page.errors == []


def test_csv_rows_follow_the_logged_order_and_names_are_cleaned_and_quoted():
    records = [(0, CREATED + 0.5, {"a,b": 1, "=cmd": math.inf}), (1, CREATED + 1.0, {"a,b": -math.inf})]
    text = "".join(metrics_csv_chunks(records, CREATED, str.upper))
    assert text.splitlines() == [HEADER.strip(),
                                 '"A,B",0,0.5,2026-09-21T14:13:20.500Z,1',
                                 "'=CMD,0,0.5,2026-09-21T14:13:20.500Z,Infinity",
                                 '"A,B",1,1,2026-09-21T14:13:21.000Z,-Infinity']
    assert csv_cell("-1.5") == "-1.5" and csv_cell("-x") == "'-x"


def test_the_csv_is_written_in_the_same_read_only_for_runs_it_reduced(tmp_path):
    """The CSV is spooled while the run is read for its page: a run of more records than the page's
    budget whose series all fit it (two metrics taking turns) gets no CSV file, and the build leaves
    no spool file behind; a run it reduced gets every point, seconds counted from the run's start."""
    root = tmp_path / "runs"
    turns = PAGE_POINTS_PER_SERIES + 2_000
    write_run(root, "taking-turns", turns, lambda step: {"even" if step % 2 == 0 else "odd": float(step)})
    write_run(root, "long-enough", PAGE_POINTS_PER_SERIES + 7, lambda step: {"loss": 1.0 / (step + 1)})
    out = tmp_path / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    names = sorted(os.path.relpath(os.path.join(parent, name), out)
                   for parent, folders, files in os.walk(out) for name in files + folders)
    assert not [name for name in names if "spool" in name]
    assert not (out / "runs" / "taking-turns" / METRICS_CSV_FILE).exists()
    with gzip.open(out / "runs" / "long-enough" / METRICS_CSV_FILE, "rt", encoding="utf-8") as handle:
        rows = handle.read().splitlines()
    assert rows[0] == HEADER.strip() and len(rows) == 1 + PAGE_POINTS_PER_SERIES + 7
    assert rows[1] == "loss,0,0,2026-09-21T14:13:20.000Z,1.0"
    assert rows[-1].startswith(f"loss,{PAGE_POINTS_PER_SERIES + 6},{(PAGE_POINTS_PER_SERIES + 6) * 0.25:g},")
