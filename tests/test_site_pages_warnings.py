"""Read warnings on a run page name files relative to the runs folder: no build-machine path on a page."""
from __future__ import annotations

import os

from sitegen.model import relative_to_runs_folder
from test_site_support import log_run, run_cli


def test_read_warnings_on_the_run_page_name_files_relative_to_the_runs_folder(tmp_path, page):
    root = tmp_path / "build-machine" / "runs"
    path = log_run(root, "torn", metrics=[{"loss": 1.0}, {"loss": 0.5}])
    with open(os.path.join(path, "events.jsonl"), "a", encoding="utf-8") as handle:
        handle.write("this is not json\n")
    run_id = os.path.basename(path)
    out = tmp_path / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    [run_page] = out.glob("runs/*/index.html")
    page.goto(run_page.as_uri())
    page.get_by_text("problem(s) reading this run's records").click()
    warning = page.locator(".notice-warn li").inner_text()
    assert warning.startswith(f"{run_id}/events.jsonl:") and "corrupt line" in warning
    for site_file in [run_page, *out.glob("data/runs/*.js")]:
        assert str(tmp_path) not in site_file.read_text(encoding="utf-8")
    assert page.errors == []


def test_paths_are_made_relative_wherever_the_warning_names_them():
    run_path = os.path.join(os.sep, "home", "ci", "runs", "abc")
    text = f"{run_path}/events.jsonl:3: corrupt line; skipped (see also {run_path}/events-w2.jsonl)"
    assert relative_to_runs_folder(text, run_path) == \
        "abc/events.jsonl:3: corrupt line; skipped (see also abc/events-w2.jsonl)"
    assert relative_to_runs_folder("no path here", "abc") == "no path here"  # a bare run folder: nothing to strip
