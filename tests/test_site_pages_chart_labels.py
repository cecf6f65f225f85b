"""Labels in charts are text: logged strings with HTML in them show literally in every plotly chart.

Plotly draws a subset of HTML in legends, axis titles and ticks, hover labels, scatter text and
parallel-coordinates labels; a run named with an <a href> in it must not become a live link there.
"""
from __future__ import annotations

import pytest

from test_site_support import log_run, run_cli

LINK = '<a href="https://127.0.0.1:9/evil">clickme</a>'
# Dots in a config key or metric name are nesting, so the key and metric use a link without any.
KEY_LINK = '<a href="/evil">clickme</a>'
PARAM = f"lr {KEY_LINK}"
METRIC = f"loss {KEY_LINK}"
RUNS = 4

# Every <a> in the page (SVG ones too) whose link points at the planted target.
LINKS = ("[...document.querySelectorAll('a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')"
         ".filter(href => href.includes('evil'))")
CHART_TEXT = "(selector) => [...document.querySelectorAll(selector)].map(t => t.textContent)"


@pytest.fixture(scope="module")
def label_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for number in range(RUNS):
        log_run(root, f"run{number} {LINK}", project="labels",
                config={PARAM: 0.1 * (number + 1), "seed": (number * 7) % 5,
                        "mixed": 1.0 if number == 0 else f"opt{number} {LINK}"},
                metrics=[{METRIC: 1.0}, {METRIC: 0.5 - 0.1 * number}])
    out = tmp_path_factory.mktemp("site") / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    return out


def hover_point(page, plot: str, point: int = 0) -> None:
    """Show the hover label of a point of the first trace, as a mouse over it would."""
    page.evaluate(f"Plotly.Fx.hover(document.querySelector('{plot}'), [{{curveNumber: 0, pointNumber: {point}}}])")
    page.wait_for_function(f"document.querySelector('{plot} .hoverlayer').textContent !== ''")


def assert_no_planted_link(page) -> None:
    assert page.evaluate(LINKS) == []
    assert page.errors == []


def test_run_page_chart_shows_a_metric_name_with_markup_as_text(page, label_site):
    [run_page] = sorted(label_site.glob("runs/*/index.html"))[:1]
    page.goto(run_page.as_uri())
    page.wait_for_function("document.querySelector('figure.chart .plot').data")
    hover_point(page, "figure.chart .plot")
    assert page.locator("figure.chart figcaption").inner_text() == METRIC
    # the run page hides the legend; shown, it names the trace by the metric, as text
    page.evaluate("Plotly.relayout(document.querySelector('figure.chart .plot'), {showlegend: true})")
    assert page.evaluate(CHART_TEXT, "figure.chart .legendtext") == [METRIC]
    assert_no_planted_link(page)


def test_compare_charts_show_run_names_config_keys_and_values_literally(page, label_site):
    page.goto((label_site / "index.html").as_uri())
    ids = page.evaluate("TrackerData.index.runs.map(r => r.id)")
    page.goto((label_site / "compare.html").as_uri() + f"#runs={','.join(ids)}&param=mixed")
    page.wait_for_function("document.querySelector('#compare-charts .plot') && document.querySelector('#compare-charts .plot').data"
                           " && document.getElementById('compare-scatter').data")
    legend = page.evaluate("[...document.querySelectorAll('#compare-charts .legendtext')].map(t => t.textContent)")
    assert sorted(legend) == [f"run{number} {LINK}" for number in range(RUNS)]
    parcoords = page.evaluate(CHART_TEXT, "#compare-parcoords text.axis-title")
    assert PARAM in parcoords and METRIC in parcoords
    scatter = page.evaluate(CHART_TEXT, "#compare-scatter text")
    assert f"run0 {LINK}" in scatter  # the point labels
    assert "mixed" in scatter and METRIC in scatter  # axis titles
    assert f"opt1 {LINK}" in scatter  # a text config value is a category tick
    hover_point(page, "#compare-scatter")
    assert f"run0 {LINK}" in page.locator("#compare-scatter .hoverlayer").text_content()
    hover_point(page, "#compare-charts .plot")
    assert_no_planted_link(page)


def test_project_charts_show_param_metric_and_run_names_literally(page, label_site):
    page.goto((label_site / "project.html").as_uri() + "#project=labels")
    page.wait_for_function("document.getElementById('importance-chart').data && document.getElementById('progress-chart').data")
    assert PARAM in page.evaluate(CHART_TEXT, "#importance-chart .ytick text")
    assert METRIC in page.evaluate(CHART_TEXT, "#progress-chart text.ytitle")
    hover_point(page, "#progress-chart")
    assert "run" in page.locator("#progress-chart .hoverlayer").text_content()
    assert LINK in page.locator("#progress-chart .hoverlayer").text_content()
    hover_point(page, "#importance-chart", 1)  # lr: the top bar, drawn last
    assert PARAM in page.locator("#importance-chart .hoverlayer").text_content()
    assert_no_planted_link(page)
