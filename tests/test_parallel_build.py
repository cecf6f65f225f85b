"""A build large enough to spread over worker processes: same site as one process, errors still precise."""
from __future__ import annotations

import os

import pytest

import sitegen.run_pages
from sitegen.build import BuildOptions, build
from sitegen.errors import TemplateRenderError
from sitegen.index_data import index_of_text
from test_site_support import log_run, run_cli

RUNS = 2 * sitegen.run_pages.PARALLEL_MIN_RUNS


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("many")
    for number in range(RUNS):
        log_run(root, f"sweep-{number}", project=f"p{number % 3}", config={"lr": 0.01 * (number + 1)},
                metrics=[{"loss": 1.0 / (step + number + 1)} for step in range(20)])
    return root


def run_files(site) -> dict[str, bytes]:
    """Every run page, run data file and download, by site-relative path."""
    found = {}
    for parent, _, names in os.walk(site):
        for name in names:
            relative = os.path.relpath(os.path.join(parent, name), site)
            if relative.startswith(("runs", os.path.join("data", "runs"))):
                with open(os.path.join(parent, name), "rb") as handle:
                    found[relative] = handle.read()
    return found


def test_workers_render_the_same_site_as_one_process(many_runs, tmp_path, monkeypatch):
    parallel = build(BuildOptions(runs=[str(many_runs)], out=str(tmp_path / "parallel")))
    # One worker per core, but never more than there are batches of runs to hand out.
    batches = -(-RUNS // sitegen.run_pages.RUNS_PER_TASK)
    assert parallel.workers == min(os.cpu_count() or 1, batches) and parallel.runs_built == RUNS
    monkeypatch.setattr(sitegen.run_pages, "PARALLEL_MIN_RUNS", RUNS + 1)
    serial = build(BuildOptions(runs=[str(many_runs)], out=str(tmp_path / "serial")))
    assert serial.workers == 1
    pages = run_files(tmp_path / "parallel")
    assert len([path for path in pages if path.endswith("index.html")]) == RUNS
    assert pages == run_files(tmp_path / "serial")
    index = index_of_text((tmp_path / "parallel" / "data" / "index.js").read_text())
    assert sorted(row["name"] for row in index["runs"]) == sorted(f"sweep-{number}" for number in range(RUNS))


def test_a_template_error_in_a_worker_names_the_run_and_the_template_line(many_runs, tmp_path):
    theme = tmp_path / "broken" / "templates"
    theme.mkdir(parents=True)
    (theme / "run.html").write_text('{% extends "base.html" %}\n{% block content %}\n{{ run.no_such_field }}\n'
                                    "{% endblock %}\n")
    with pytest.raises(TemplateRenderError) as caught:
        build(BuildOptions(runs=[str(many_runs)], out=str(tmp_path / "site"), theme=str(theme.parent)))
    assert caught.value.template.endswith("run.html") and caught.value.line == 3
    assert caught.value.source.startswith(str(many_runs))
    code, _, stderr = run_cli("build", "--runs", str(many_runs), "--out", str(tmp_path / "site"),
                              "--theme", str(theme.parent))
    assert code == 2 and "run.html:3" in stderr and str(many_runs) in stderr
    assert sorted(os.listdir(tmp_path)) == ["broken"]  # no site and no staging folder is left behind
