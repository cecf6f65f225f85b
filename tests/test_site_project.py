"""The project view in real Chromium, from file:// and from an HTTP sub-path: which knob moved the score."""
from __future__ import annotations

import functools
import math
import threading
from http.server import ThreadingHTTPServer

import pytest

from test_site_browser import QuietHandler, assert_inside_site, open_page
from test_site_links import cold_page
from test_site_support import EVIL, log_run, run_cli

LRS = [0.001 * (n + 1) for n in range(12)]
SEEDS = [7, 2, 11, 5, 0, 9, 3, 10, 1, 8, 4, 6]  # unrelated to the learning rate


def final_loss(lr: float) -> float:
    return 0.1 + 20 * lr  # the learning rate drives the loss, monotonically


def final_acc(seed: int) -> float:
    return 0.5 + 0.01 * seed


def spearman_without_ties(xs, ys) -> float:
    rank = lambda values: {value: position + 1 for position, value in enumerate(sorted(values))}  # noqa: E731
    rx, ry = rank(xs), rank(ys)
    n = len(xs)
    return 1 - 6 * sum((rx[x] - ry[y]) ** 2 for x, y in zip(xs, ys)) / (n * (n * n - 1))


@pytest.fixture(scope="module")
def project_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for number, (lr, seed) in enumerate(zip(LRS, SEEDS)):
        log_run(root, f"sweep-{number}", project="sweep",
                config={"lr": lr, "seed": seed, "optimizer": "adam" if number % 2 else "sgd", "epochs": 10},
                metrics=[{"loss": 1.0, "acc": 0.1}, {"loss": final_loss(lr), "acc": final_acc(seed)}])
    log_run(root, "diverged", project="sweep", config={"lr": 0.5, "seed": 99, "optimizer": "sgd", "epochs": 10},
            metrics=[{"loss": math.nan, "acc": final_acc(99)}])
    log_run(root, "other", project=EVIL, config={EVIL: 1.0}, metrics=[{"loss": 0.3}])
    parent = tmp_path_factory.mktemp("served")
    out = parent / "sub" / "path"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"out": out, "bases": {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}}
    server.shutdown()


IMPORTANCE = "document.getElementById('importance-chart')"
PROGRESS = "document.getElementById('progress-chart')"


def table(page, table_id: str) -> list[list[str]]:
    return page.evaluate(f"[...document.querySelectorAll('#{table_id} tbody tr')].map(tr => [...tr.cells].map(td => td.textContent))")


def wait_for_charts(page) -> None:
    page.wait_for_function(f"{IMPORTANCE}.data && {PROGRESS}.data")


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_importance_ranks_the_param_that_drives_the_metric_first(page, project_site, scheme):
    requests, dialogs = open_page(page, project_site, scheme, "project.html#project=sweep")
    wait_for_charts(page)
    assert page.locator("#project-title").inner_text() == "Project sweep"
    assert page.locator("#project-metric").input_value() == "loss"
    assert page.locator("#project-direction").input_value() == "min"  # a loss: lower is better
    bars = page.evaluate(f"{IMPORTANCE}.data[0]")
    assert bars["y"][::-1] == ["lr", "seed"]  # plotly draws the first bar at the bottom: lr is on top
    assert bars["x"][::-1][0] == pytest.approx(1.0)
    seed_rho = spearman_without_ties(SEEDS, [final_loss(lr) for lr in LRS])
    assert bars["x"][::-1][1] == pytest.approx(abs(seed_rho))
    assert table(page, "importance-table") == [["lr", "1.00", "12"], ["seed", f"{seed_rho:.2f}", "12"]]
    skipped = page.locator("#importance-skipped").inner_text()
    assert "Not ranked, not numbers: optimizer." in skipped and "The same in every run: epochs." in skipped
    assert page.locator("#project-summary").inner_text() == \
        "13 runs; 12 with a finite loss (1 left out: no value, NaN or infinite)"
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, project_site, scheme)


def test_best_runs_follow_the_direction_and_the_link_keeps_it(page, project_site):
    open_page(page, project_site, "file", "project.html#project=sweep")
    wait_for_charts(page)
    best = table(page, "best-table")
    assert [row[1] for row in best[:3]] == ["sweep-0", "sweep-1", "sweep-2"]  # the smallest lr, the lowest loss
    assert best[0][4:] == ["0.001", "7"]  # the two ranked params beside each run
    page.locator("#project-direction").select_option("max")
    page.wait_for_function("document.querySelector('#best-table tbody td.name').textContent === 'sweep-11'")
    page.wait_for_function("location.hash.includes('dir=max')")
    other = cold_page(page)
    other.goto(page.url)
    other.wait_for_function(f"{IMPORTANCE}.data")
    assert other.locator("#project-direction").input_value() == "max"
    assert table(other, "best-table")[0][1] == "sweep-11"
    assert other.errors == []


def test_a_link_to_another_metric_opens_cold_with_its_view(page, project_site):
    other = cold_page(page)
    other.goto(project_site["bases"]["http"] + "project.html#project=sweep&metric=acc")
    other.wait_for_function(f"{PROGRESS}.data")
    assert other.locator("#project-metric").input_value() == "acc"
    assert other.locator("#project-direction").input_value() == "max"  # not a loss: higher is better
    ranked = table(other, "importance-table")
    assert ranked[0][:2] == ["seed", "1.00"]  # the seed drives acc here
    points = other.evaluate(f"{PROGRESS}.data.map(trace => Array.from(trace.y))")
    assert len(points[0]) == 13  # the diverged run has a finite acc: every run is a point
    assert points[1] == sorted(points[1])  # best so far never gets worse
    assert other.errors == []


def test_projects_are_linked_from_the_index_and_their_names_stay_text(page, project_site):
    open_page(page, project_site, "file", "index.html")
    page.locator(".project-links").get_by_role("link", name="sweep").click()
    page.wait_for_url("**/project.html#project=sweep")
    wait_for_charts(page)
    assert page.locator("#project-title").inner_text() == "Project sweep"
    page.locator("#project-select").select_option(label=f"{EVIL} (1)")
    page.wait_for_function("document.getElementById('project-title').textContent.includes('onerror')")
    assert page.locator("#project-title").inner_text() == f"Project {EVIL}"
    assert "Parameter importance needs 3 or more runs" in page.locator("#project-message").inner_text()
    assert page.evaluate("window.__pwned === undefined") and page.locator("img[src='x']").count() == 0
    assert page.errors == []
