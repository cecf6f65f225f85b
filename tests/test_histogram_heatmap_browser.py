"""A histogram logged at many steps, on its run page in headless Chromium: the heatmap loads at most
200 of its steps' data files, evenly spaced, keeps the marked step, and says what it left out."""
from __future__ import annotations

import numpy as np
import pytest

import tracker
from test_site_support import run_cli

STEPS = 450
HEATMAP_STEPS = 200  # media-panels.js HEATMAP_STEPS
MARKED_STEP = 8      # not on the evenly spaced grid of 450 steps (7 and 9 are)


@pytest.fixture(scope="module")
def histogram_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("histogram-runs")
    run = tracker.init(project="media", name="long-histogram", dir=str(root), capture=False)
    generator = np.random.default_rng(0)
    for step in range(STEPS):  # each step its own values: its own data file
        run.log_histogram("weights", values=generator.normal(step / 100, 1, 64), bins=16, step=step)
    run.finish()
    out = tmp_path_factory.mktemp("histogram-site")
    code, stdout, _ = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0, stdout
    return out / "runs" / run.path.rstrip("/").rsplit("/", 1)[-1] / "index.html"


def heatmap_steps(page) -> list[int]:
    panel = page.locator(".media-panel[data-key='weights']")
    panel.scroll_into_view_if_needed()
    page.wait_for_function("""() => {
        const plot = document.querySelector(".media-panel[data-key='weights'] .media-heatmap");
        return plot && plot.data && plot.data.length === 1;
    }""")
    return page.evaluate("[...document.querySelector(\".media-panel[data-key='weights'] .media-heatmap\").data[0].x]")


def test_a_long_histogram_loads_evenly_spaced_steps_and_keeps_the_marked_one(page, histogram_site):
    page.goto(histogram_site.as_uri() + f"#step={MARKED_STEP}")
    steps = heatmap_steps(page)
    assert len(steps) == HEATMAP_STEPS
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert steps[0] == 0 and steps[-1] == STEPS - 1 and MARKED_STEP in steps
    gaps = {later - earlier for earlier, later in zip(steps, steps[1:]) if MARKED_STEP not in (earlier, later)}
    assert gaps <= {2, 3}  # evenly spaced: 449 steps over 198 gaps
    loaded = page.evaluate("""[...document.scripts].filter((script) =>
        /\\/media\\/[0-9a-f]{2}\\/[0-9a-f]{64}\\.js$/.test(script.src)).length""")
    assert loaded == HEATMAP_STEPS  # a data file for each column shown, none for the steps left out
    notice = page.locator(".media-panel[data-key='weights'] .media-notice")
    assert notice.inner_text() == f"showing {HEATMAP_STEPS} of {STEPS} steps, evenly spaced"
    assert page.errors == []
