"""Report pages in real Chromium, from file:// and from an HTTP sub-path: the views a report's blocks
ask for, drawn from the runs the build read, and nothing a report or a run says runs as script."""
from __future__ import annotations

import functools
import threading
from http.server import ThreadingHTTPServer

import numpy as np
import pytest

import tracker
from test_site_browser import QuietHandler, assert_inside_site, open_page
from test_site_support import EVIL, SCRIPT_EVIL, float32, log_run, run_cli

# (name, optimizer, lr, steps logged): the runs' lengths differ, so the bands interpolate.
RUNS = [("adam-a", "adam", 0.1, 6), ("adam-b", "adam", 0.01, 4), ("adam-c", "adam", 0.03, 5),
        ("sgd-a", "sgd", 0.1, 6), ("sgd-b", "sgd", 0.01, 3)]


def acc(lr: float, step: int) -> float:
    return 0.5 + lr * step + (0.01 if lr < 0.05 else 0.0)


REPORT = f"""# Sweep 42: what we learnt

Adam beats SGD, mostly. {EVIL} {SCRIPT_EVIL}

<script>window.__pwned = 1</script>

```chart
title: Validation accuracy
metric: valid/acc
filter: project:sweep optimizer:adam
```

```runs
filter: project:sweep
columns: [name, lr, optimizer, valid/acc]
sort: -valid/acc
limit: 3
```

```chart
metric: valid/acc
filter: project:sweep
group_by: optimizer
```

```runs
filter: project:evil
columns: [name, loss]
```

```chart
metric: loss
filter: project:evil
```

```media
run: classifier
key: val/confusion
step: 1
```

```compare
runs: [adam-a, sgd-b]
```
"""
TRUE = [0, 0, 1, 1, 1, 2]
PREDICTED = {0: [0, 1, 1, 1, 1, 2], 1: [0, 0, 1, 2, 1, 2], 2: [0, 0, 1, 1, 1, 2]}  # by step


@pytest.fixture(scope="module")
def report_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    runs = base / "tracker-runs"
    for name, optimizer, lr, steps in RUNS:
        log_run(runs, name, project="sweep", config={"optimizer": optimizer, "lr": lr},
                metrics=[{"valid/acc": acc(lr, step)} for step in range(steps)])
    log_run(runs, EVIL, project="evil", config={"x": 1}, metrics=[{"loss": 1.0}, {"loss": 0.5}])
    run = tracker.init(project="media", name="classifier", dir=str(runs), capture=False)
    for step, predicted in PREDICTED.items():
        run.log_confusion_matrix("val/confusion", TRUE, predicted, step=step)
    run.finish()
    (base / "reports").mkdir()
    (base / "reports" / "sweep-42.md").write_text(REPORT, encoding="utf-8")
    parent = tmp_path_factory.mktemp("served")
    out = parent / "sub" / "path"
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(out))
    assert code == 0, stderr
    assert "1 report" in stdout and "warning" not in stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"out": out, "bases": {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}}
    server.shutdown()


def plot_data(page, number: int) -> list[dict]:
    selector = f"#block-{number} .report-plot"
    page.wait_for_function(f"document.querySelector('{selector}').data")
    return page.evaluate(f"document.querySelector('{selector}').data.map(t => ({{name: t.name, x: t.x, y: t.y,"
                         " fill: t.fill || null, legendgroup: t.legendgroup || null}))")


def table_rows(page, number: int) -> list[list[str]]:
    return page.evaluate(f"[...document.querySelectorAll('#block-{number} tbody tr')]"
                         ".map(tr => [...tr.cells].map(td => td.textContent))")


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_a_chart_and_a_table_block_show_the_runs_they_select(page, report_site, scheme):
    requests, dialogs = open_page(page, report_site, scheme, "index.html")
    link = page.get_by_role("link", name="Sweep 42: what we learnt")
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("reports/sweep-42.html")
    assert page.get_by_role("heading", name="Sweep 42: what we learnt").is_visible()
    traces = plot_data(page, 1)
    assert [(trace["name"], len(trace["x"])) for trace in traces] == [("adam-a", 6), ("adam-b", 4), ("adam-c", 5)]
    assert traces[1]["y"] == pytest.approx([float32(acc(0.01, step)) for step in range(4)])
    assert page.locator("#block-1").get_by_role("heading").inner_text() == "Validation accuracy"
    rows = table_rows(page, 3)
    assert rows == [["adam-a", "0.1", "adam", f"{acc(0.1, 5):g}"], ["sgd-a", "0.1", "sgd", f"{acc(0.1, 5):g}"],
                    ["adam-c", "0.03", "adam", f"{acc(0.03, 4) :g}"]]
    assert page.locator("#block-3").inner_text().count("The first 3 of 5 runs.") == 1
    page.locator("#block-3").get_by_role("link", name="sgd-a").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "sgd-a"
    assert dialogs == [] and page.errors == []
    assert_inside_site(requests, report_site, scheme)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_a_grouped_chart_draws_each_groups_mean_and_band_as_numpy_computes_them(page, report_site, scheme):
    open_page(page, report_site, scheme, "reports/sweep-42.html")
    traces = plot_data(page, 5)
    means = {trace["legendgroup"]: trace for trace in traces if trace["name"].endswith(("mean of 3", "mean of 2"))}
    assert sorted(means) == ["adam", "sgd"]
    assert means["adam"]["name"] == "optimizer = adam: mean of 3"
    for optimizer in ("adam", "sgd"):
        runs = [(lr, steps) for _, group, lr, steps in RUNS if group == optimizer]
        grid = list(range(max(steps for _, steps in runs)))
        # each run covers its own steps only (no extrapolation): NumPy's mean and std over the runs at each step
        at_step = [[float32(acc(lr, step)) for lr, steps in runs if step < steps] for step in grid]
        assert means[optimizer]["x"] == grid
        assert means[optimizer]["y"] == pytest.approx([np.mean(values) for values in at_step])
        band = next(trace for trace in traces if trace["legendgroup"] == optimizer and trace["fill"] == "toself")
        high = [np.mean(values) + np.std(values) for values in at_step]
        low = [np.mean(values) - np.std(values) for values in at_step]
        assert band["y"] == pytest.approx(high + low[::-1])
        thin = [trace["name"] for trace in traces if trace["legendgroup"] == optimizer and trace is not means[optimizer]
                and trace is not band]
        assert thin == [name for name, group, _, _ in RUNS if group == optimizer]
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_markup_in_the_report_and_in_a_run_name_shows_as_text_and_runs_no_script(page, report_site, scheme):
    requests, dialogs = open_page(page, report_site, scheme, "reports/sweep-42.html")
    plot_data(page, 9)
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("img[src='x']").count() == 0
    text = page.locator("#report").inner_text()
    assert EVIL in text and "<script>window.__pwned = 1</script>" in text
    assert table_rows(page, 7) == [[EVIL, "0.5"]]
    assert page.evaluate("document.querySelector('#block-9 .report-plot').data[0].name") == \
        EVIL.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert page.locator("#block-9 .legendtext").first.text_content() == EVIL  # plotly decodes the escape once
    assert page.errors == []
    assert_inside_site(requests, report_site, scheme)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_a_media_block_shows_the_key_at_its_step_and_a_compare_block_the_differences(page, report_site, scheme):
    requests, dialogs = open_page(page, report_site, scheme, "reports/sweep-42.html")
    page.wait_for_function("document.querySelectorAll('#block-11 td.media-cm-cell').length === 9")
    cells = page.evaluate("[...document.querySelectorAll('#block-11 tr')].map(tr => "
                          "[...tr.querySelectorAll('td.media-cm-cell')].map(td => td.textContent)).filter(r => r.length)")
    expected = np.zeros((3, 3), int)
    for true, predicted in zip(TRUE, PREDICTED[1]):
        expected[true][predicted] += 1
    assert cells == [[str(count) for count in row] for row in expected]
    assert page.locator("#block-11").get_by_role("link", name="classifier").is_visible()
    rows = table_rows(page, 13)
    assert rows == [["optimizer", "adam", "sgd"], ["lr", "0.1", "0.01"],
                    ["valid/acc", f"{acc(0.1, 5):g}", f"{acc(0.01, 2):g}"]]  # the config keys that differ, then metrics
    assert dialogs == [] and page.errors == []
    assert_inside_site(requests, report_site, scheme)
    page.locator("#block-13").get_by_role("link", name="Open in the compare view").click()  # the compare page's own
    page.wait_for_load_state("load")                                                        # tests check its console
    page.wait_for_function("document.getElementById('compare-runs-list').textContent !== ''")
    assert page.locator("#compare-runs-list").inner_text() == "adam-a · sgd-b"
