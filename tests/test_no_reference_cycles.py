"""Reading a run and rendering its page leave nothing for the cycle collector: every object they
make is freed by reference counting when they are done. A cycle there (a reduced series holding its
reading's bound method, a nested function that calls itself) kept each run's columns alive until
a collection, and the collections that walked them cost a cold build about a millisecond a run."""
from __future__ import annotations

import gc
import tempfile
import warnings

import tracker
from sitegen.assets import plan_assets
from sitegen.load import PAGE_POINTS_PER_SERIES, read_run
from sitegen.model import PageSettings
from sitegen.run_pages import render_run
from sitegen.theme import resolve_theme
from tracker.reader import load_run


def logged_run(tmp_path) -> str:
    run = tracker.init(project="p", name="cycles", dir=str(tmp_path), config={"lr": 0.1}, capture=False)
    for step in range(300):
        tracker.log({"loss": 1.0 / (step + 1), "acc": step, "lr": 0.1})
    tracker.finish()
    return run.path


def unreachable_after(work) -> int:
    """How many objects ``work()`` left that only the cycle collector could free."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        if was_enabled:
            gc.enable()


def test_reading_a_run_leaves_no_reference_cycles(tmp_path):
    folder = logged_run(tmp_path)
    read_run(folder)  # the first read builds the decoders, once a process
    assert unreachable_after(lambda: read_run(folder)) == 0  # reduced series, as the site reads
    assert unreachable_after(lambda: load_run(folder)) == 0
    assert unreachable_after(lambda: load_run(folder, max_points=20)) == 0  # past its first width


def test_rendering_a_run_page_leaves_no_reference_cycles(tmp_path):
    folder = logged_run(tmp_path)
    theme = resolve_theme(None)
    settings = PageSettings("Experiments", theme, plan_assets(theme.static_dirs)[1], "tracker", None, None)
    with tempfile.TemporaryDirectory() as staging, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = render_run(folder, "key", settings, staging)  # the first compiles the templates
        assert outcome.error is None
        assert unreachable_after(lambda: render_run(folder, "key", settings, staging)) == 0
    assert PAGE_POINTS_PER_SERIES > 300  # the page held every point: no CSV written
