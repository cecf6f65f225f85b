"""``tracker build`` end to end without a browser: exit codes, report lines, files, secrets, safety."""
from __future__ import annotations

import os
import re

import pytest

import tracker
from sitegen.errors import UnknownThemeError
from test_site_support import EVIL, TOKEN, append_record, make_runs, run_cli, site_files


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    paths = make_runs(root)
    # a token that reached the records (an older writer, another language): the build must catch it
    append_record(paths["baseline"], {"type": "config", "time": 1.0, "values": {"endpoint": f"https://x/?t={TOKEN}"}})
    return root, paths


@pytest.fixture(scope="module")
def built(runs_dir, tmp_path_factory):
    root, paths = runs_dir
    out = tmp_path_factory.mktemp("out") / "site"
    code, stdout, stderr = run_cli("build", "--runs", str(root), "--out", str(out), "--title", "Team runs")
    return out, code, stdout, stderr, paths


def test_build_reports_runs_pages_and_the_index_path(built):
    out, code, stdout, _, _ = built
    assert code == 0
    assert re.match(r"built 6 runs, skipped 1 unreadable, redacted 1 token-shaped string\(s\); 9 pages, \d+ files in \d+\.\ds\n",
                    stdout)
    assert stdout.splitlines()[-1] == f"open {out / 'index.html'}"


def test_site_layout_is_static_files_with_relative_links(built):
    out, _, _, _, paths = built
    run_id = os.path.basename(paths["baseline"])
    for relative in ("index.html", "compare.html", "data/index.js", f"runs/{run_id}/index.html", f"data/runs/{run_id}.js",
                     "assets/css/site.css", "assets/js/query.js", "assets/js/index-table.js"):
        assert (out / relative).is_file(), relative
    assert len(list((out / "assets" / "vendor").glob("plotly-*.min.js"))) == 1
    for path in site_files(out):
        if path.endswith((".html", ".css")) or "/data/" in path:
            text = open(path, encoding="utf-8").read()
            assert not re.search(r'(?:src|href)="(?:/|https?:)', text), path  # relative only, nothing remote
            assert "fetch(" not in text and "XMLHttpRequest" not in text


def test_unreadable_run_is_warned_and_listed_on_the_index(built):
    out, _, _, stderr, paths = built
    corrupt = os.path.basename(paths["corrupt"])  # relative to its runs folder: no build-machine path
    assert f"tracker: warning: skipped unreadable run {corrupt}: no readable 'run' or 'start' record\n" in stderr
    index = (out / "index.html").read_text()
    assert "1 run folder could not be read" in index and corrupt in index and paths["corrupt"] not in index


def test_token_is_redacted_everywhere_and_the_warning_names_run_and_key(built):
    out, _, _, stderr, paths = built
    run_id = os.path.basename(paths["baseline"])
    assert f"tracker: warning: run {run_id} (baseline): config.endpoint: token-shaped string redacted (GitHub token)" in stderr
    leaking = [path for path in site_files(out) if TOKEN.encode() in open(path, "rb").read()]
    assert leaking == []
    assert "[REDACTED]" in (out / "data" / "index.js").read_text()


def test_strict_fails_on_the_token_and_publishes_nothing(runs_dir, tmp_path):
    root, paths = runs_dir
    code, stdout, stderr = run_cli("build", "--runs", str(root), "--out", str(tmp_path / "site"), "--strict")
    assert code == 2 and stdout == ""
    assert "config.endpoint: token-shaped string redacted" in stderr and "unreadable run" in stderr
    assert not (tmp_path / "site").exists()


def test_evil_strings_are_escaped_in_pages_and_data(built):
    out, _, _, _, paths = built
    page = (out / "runs" / os.path.basename(paths["evil"]) / "index.html").read_text()
    assert EVIL not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>window.__pwned" not in page and 'href="javascript:' not in page
    for path in site_files(out / "data"):
        text = open(path, encoding="utf-8").read()
        assert "</script" not in text and "<img" not in text


def test_artifact_copies_stay_inside_the_site_and_runs_with_one_id_merge(runs_dir, tmp_path):
    root, _ = runs_dir
    code, stdout, _ = run_cli("build", "--runs", str(root), "--runs", str(root), "--out", str(tmp_path / "s"))
    assert code == 0 and stdout.startswith("built 6 runs")  # the same run ids in two roots: shown once


def test_unknown_theme_names_the_available_ones(runs_dir, tmp_path):
    root, _ = runs_dir
    code, _, stderr = run_cli("build", "--runs", str(root), "--out", str(tmp_path / "s"), "--theme", "drk")
    assert code == 2
    assert stderr.startswith("tracker: error: unknown theme 'drk'; available: default")
    assert UnknownThemeError("drk", ["default"]).available == ["default"]


def test_a_theme_folder_overrides_one_template(runs_dir, tmp_path):
    root, _ = runs_dir
    theme = tmp_path / "mytheme" / "templates"
    theme.mkdir(parents=True)
    (theme / "base.html").write_text(
        "<!doctype html><title>{{ title }}</title><p>custom theme</p>{% block content %}{% endblock %}")
    code, _, _ = run_cli("build", "--runs", str(root), "--out", str(tmp_path / "s"), "--theme", str(theme.parent))
    assert code == 0
    index = (tmp_path / "s" / "index.html").read_text()
    assert "custom theme" in index and 'id="runs-table"' in index  # base replaced, index.html from default


def test_nothing_to_build_is_an_error(tmp_path):
    code, _, stderr = run_cli("build", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path / "s"))
    assert code == 2 and "no readable runs in" in stderr


def test_refuses_to_replace_a_folder_it_did_not_build(runs_dir, tmp_path):
    root, _ = runs_dir
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "keep.txt").write_text("mine")
    code, _, stderr = run_cli("build", "--runs", str(root), "--out", str(tmp_path / "docs"))
    assert code == 2 and "was not built by 'tracker build'" in stderr
    assert (tmp_path / "docs" / "keep.txt").read_text() == "mine"


def test_rebuilding_replaces_the_previous_site(runs_dir, tmp_path):
    root, _ = runs_dir
    assert run_cli("build", "--runs", str(root), "--out", str(tmp_path / "s"))[0] == 0
    (tmp_path / "s" / "stale.html").write_text("old")
    assert run_cli("build", "--runs", str(root), "--out", str(tmp_path / "s"))[0] == 0
    assert not (tmp_path / "s" / "stale.html").exists()


def test_base_url_gives_absolute_canonical_links_and_link_previews(runs_dir, tmp_path):
    root, paths = runs_dir
    out = tmp_path / "site"
    code, _, _ = run_cli("build", "--runs", str(root), "--out", str(out), "--base-url", "https://ana.github.io/exp/")
    assert code == 0
    index = (out / "index.html").read_text()
    assert '<link rel="canonical" href="https://ana.github.io/exp/index.html">' in index
    assert '<meta property="og:title" content="Experiments">' in index
    assert re.search(r'<meta property="og:description" content="\d+ runs in \d+ projects?">', index)
    run_id = os.path.basename(paths["baseline"])
    page = (out / "runs" / run_id / "index.html").read_text()
    assert f'<meta property="og:url" content="https://ana.github.io/exp/runs/{run_id}/index.html">' in page
    assert re.search(r'<meta property="og:description" content="Finished run in [^"]+', page)
    # Without --base-url the pages stay free of absolute links.
    plain = (tmp_path / "plain")
    run_cli("build", "--runs", str(root), "--out", str(plain))
    assert "og:url" not in (plain / "index.html").read_text()


def test_text_artifacts_are_published_with_tokens_redacted_and_strict_refuses_them(tmp_path):
    notes, weights = tmp_path / "notes.txt", tmp_path / "weights.bin"
    notes.write_bytes(f"endpoint: https://example.com\r\ntoken: {TOKEN}\r\n".encode())
    weights.write_bytes(b"\0\1\2" + TOKEN.encode())  # binary: copied as it is
    run = tracker.init(project="p", name="with-artifacts", dir=str(tmp_path / "runs"), capture=False)
    run.log_artifact(notes)
    run.log_artifact(weights)
    run.finish()
    code, _, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "site"))
    assert code == 0
    run_id = os.path.basename(run.path)
    assert (f"tracker: warning: run {run_id} (with-artifacts): artifact notes.txt: token-shaped string redacted "
            "(GitHub token)") in stderr
    copies = tmp_path / "site" / "runs" / run_id / "artifacts"
    assert (copies / "notes.txt").read_bytes() == b"endpoint: https://example.com\r\ntoken: [REDACTED]\r\n"
    assert (copies / "weights.bin").read_bytes() == weights.read_bytes()

    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "strict"),
                                   "--strict")
    assert code == 2 and "artifact notes.txt: token-shaped string redacted" in stderr
    assert not (tmp_path / "strict").exists()
