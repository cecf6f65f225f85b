"""`tracker report new`: the automatic report of a sweep, written as Markdown that builds into the site."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_site_support import log_run, run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACEBACK = 'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\nRuntimeError: loader worker died\n'


@pytest.fixture
def sweep(tmp_path):
    runs = tmp_path / "tracker-runs"
    for number, (lr, acc) in enumerate([(0.1, 0.9), (0.01, 0.6), (0.03, 0.8), (0.3, 0.7)]):
        log_run(runs, f"lr-{lr}", project="sweep", config={"lr": lr, "optimizer": "adam", "layers": 2 + number % 2},
                metrics=[{"valid/acc": acc * step / 3, "train/loss": 1 - acc * step / 3} for step in range(4)])
    log_run(runs, "broken", project="sweep", config={"lr": 0.1, "optimizer": "adam", "layers": 2},
            metrics=[{"train/loss": 1.0}], status="failed", error=TRACEBACK)
    log_run(runs, "other", project="elsewhere", config={"lr": 9.0}, metrics=[{"valid/acc": 0.1}])
    return tmp_path


def test_the_draft_says_what_varied_the_best_the_importance_the_curves_and_the_failures(sweep, monkeypatch):
    monkeypatch.chdir(sweep)
    code, stdout, stderr = run_cli("report", "new", "--filter", "project:sweep")
    assert code == 0, stderr
    path = sweep / "reports" / "project-sweep.md"
    assert stdout.splitlines()[0] == f"wrote {path}: 5 runs, ranked by valid/acc"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Report: project:sweep\n")
    assert "(4 finished, 1 failed)" in text
    assert "| lr | 0.1, 0.01, 0.03, 0.3 |\n| layers | 2, 3 |\n" in text  # optimizer is the same: not listed
    assert ("```runs\nfilter: project:sweep\ncolumns: [name, lr, layers, valid/acc]\nsort: -valid/acc\n"
            "limit: 10\n```") in text
    assert "```importance\nmetric: valid/acc\nfilter: project:sweep\n```" in text
    assert "```chart\nmetric: valid/acc\nfilter: project:sweep\nruns: [lr-0.1, lr-0.01]\n```" in text
    assert "- **broken** (`" in text and "failed): `RuntimeError: loader worker died`" in text

    code, stdout, stderr = run_cli("build", "--runs", "tracker-runs", "--out", "site", "--strict")
    assert code == 0, stderr
    page = (sweep / "site" / "reports" / "project-sweep.html").read_text(encoding="utf-8")
    assert page.index(">lr-0.1<") < page.index(">lr-0.03<") < page.index(">lr-0.3<") < page.index(">lr-0.01<")
    data = (sweep / "site" / "data" / "reports" / "project-sweep.js").read_text(encoding="utf-8")
    assert '"name":"lr-0.1"' in data and '"name":"lr-0.01"' in data and '"name":"lr-0.3"' not in data


def test_it_refuses_to_replace_a_report_without_force(sweep, monkeypatch):
    monkeypatch.chdir(sweep)
    out = sweep / "mine.md"
    out.write_text("my edits\n", encoding="utf-8")
    code, _, stderr = run_cli("report", "new", "--filter", "project:sweep", "--out", str(out))
    assert code == 2 and f"{out} exists; it may hold your edits" in stderr
    assert out.read_text(encoding="utf-8") == "my edits\n"
    assert run_cli("report", "new", "--filter", "project:sweep", "--out", str(out), "--force", "--metric",
                   "train/loss")[0] == 0
    text = out.read_text(encoding="utf-8")
    assert "By `train/loss` (lower is better)." in text and "sort: train/loss\n" in text


@pytest.mark.parametrize("argv, message", [
    (["--filter", "project:nothing"], "--filter 'project:nothing' selects no run of the 6 in tracker-runs"),
    (["--filter", "project:sweep", "--metric", "f1"], "--metric 'f1': no run the filter selects has it"),
    (["--filter", "lr>"], "invalid filter 'lr>'"),
])
def test_usage_errors_name_the_flag(sweep, monkeypatch, argv, message):
    monkeypatch.chdir(sweep)
    code, stdout, stderr = run_cli("report", "new", "--runs", "tracker-runs", *argv)
    assert code == 2 and stdout == "" and message in stderr
    assert not (sweep / "reports").exists()


def test_a_report_of_a_real_sweep_builds(tmp_path):
    runs = tmp_path / "tracker-runs"
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "sweep.py"), "--runs", str(runs), "--quick"],
                   check=True, capture_output=True, cwd=tmp_path)
    code, stdout, stderr = run_cli("report", "new", "--runs", str(runs), "--filter", "project:spirals status:finished")
    assert code == 0, stderr
    text = (tmp_path / "reports" / "project-spirals-status-finished.md").read_text(encoding="utf-8")
    assert "runs: [baseline, lr1.0-h32]" in text or "runs: [lr1.0-h32, baseline]" in text
    assert "Not ranked: fewer than 3 runs" in text  # two settings only
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "site"))
    assert code == 0 and "1 report" in stdout and "could not be filled" not in stdout
    assert "reports/" not in stderr
    assert (tmp_path / "site" / "reports" / "project-spirals-status-finished.html").is_file()
