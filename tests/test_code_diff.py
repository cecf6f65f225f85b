"""The code difference between runs (tracker/code_diff.py): the line diff against the contract cases
that line-diff.js runs too (test_code_diff_js.py), `tracker diff --code` in its own process inside and
outside the repository, the commit diff's caps, which commit pairs a build diffs, and the files a build
writes for the compare view (runs/<slug>/code.js, data/commits/*.js) with their secrets redacted."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tracker

from code_runs import PAYLOAD_LINE, git, log_code_runs
from sitegen.commit_diffs import ALL_PAIRS_MAX_COMMITS, MAX_COMMIT_PAIRS, commit_diff_key, commit_pairs
from test_site_support import TOKEN
from tracker.code_diff import MAX_COMMIT_DIFF_FILES, commit_diff, resolve_commits, unified_diff

CONTRACT = json.loads((Path(__file__).parent / "contracts" / "line_diff.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CONTRACT["cases"], ids=lambda case: case["name"])
def test_unified_diff_contract(case):
    assert unified_diff(case["a"], case["b"], case["aName"], case["bName"], case.get("context", 3),
                        case.get("maxEdits", 2000)) == case["diff"]


@pytest.fixture(scope="module")
def code_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("code")
    return log_code_runs(base / "repo", base / "runs")


def tracker_cli(*argv: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_diff_code_in_the_repository_prints_the_commits_diff_then_the_scripts(code_runs):
    done = tracker_cli("diff", "--code", "first", "second", "--runs", code_runs["runs"], cwd=code_runs["repo"])
    assert done.returncode == 0, done.stderr
    first, second = (commit[:12] for commit in code_runs["commits"])
    lines = done.stdout.splitlines()
    assert lines[:5] == ["# Code: first -> second", "", "## Commits", "", f"{first} -> {second}: 2 files changed."]
    commits = done.stdout.split("## Uncommitted changes")[0]
    assert "diff --git a/train.py b/train.py" in commits and "diff --git a/util.py b/util.py" in commits
    assert "\n-lr = 0.1\n+lr = 0.2\n" in commits and "\n-helper = 1\n+helper = 2\n" in commits
    assert "Neither run has one (no uncommitted changes)." in done.stdout
    script = done.stdout.split("## Entry script")[1]
    assert "--- first/train.py\n+++ second/train.py\n" in script and "\n-lr = 0.1\n+lr = 0.2\n" in script


def test_diff_code_shows_the_difference_of_the_uncommitted_patches(code_runs):
    done = tracker_cli("diff", "--code", "second", "third", "--runs", code_runs["runs"], cwd=code_runs["repo"])
    assert done.returncode == 0, done.stderr
    second = code_runs["commits"][1][:12]
    assert f"Same commit {second}." in done.stdout
    patches = done.stdout.split("## Uncommitted changes (files/diff.patch)")[1].split("## Entry script")[0]
    assert "--- second/diff.patch\n+++ third/diff.patch\n" in patches
    assert f"\n++{PAYLOAD_LINE}\n" in patches  # the patch's added line, added to the patch
    assert done.stdout.rstrip().endswith("## Entry script\n\nIdentical.")


def test_diff_code_outside_the_repository_says_where_to_run_it(code_runs, tmp_path):
    done = tracker_cli("diff", "--code", "first", "second", "--runs", code_runs["runs"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = (commit[:12] for commit in code_runs["commits"])
    assert f"{first} -> {second}: run this inside the git repository to see the diff between the commits." in done.stdout
    assert "\n-lr = 0.1\n+lr = 0.2\n" in done.stdout  # the script snapshots need no repository


def test_commit_diff_is_capped_by_files_and_bytes(tmp_path):
    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "keep.txt").write_text("x\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    before = git(repo, "rev-parse", "HEAD").strip()
    for index in range(MAX_COMMIT_DIFF_FILES + 5):
        (repo / f"f{index:03}.txt").write_text("".join(f"line {line} token={TOKEN}\n" for line in range(40)))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two")
    after = git(repo, "rev-parse", "HEAD").strip()
    diff = commit_diff(str(repo), before, after)
    assert diff.files_total == MAX_COMMIT_DIFF_FILES + 5 and len(diff.files) == MAX_COMMIT_DIFF_FILES
    assert diff.text.count("diff --git ") == MAX_COMMIT_DIFF_FILES and not diff.bytes_cut
    assert TOKEN not in diff.text and "[REDACTED]" in diff.text
    small = commit_diff(str(repo), before, after, max_bytes=1000)
    assert small.bytes_cut and len(small.text.encode()) <= 1000 and small.text.endswith("\n")
    assert small.notice() == f"5 of {MAX_COMMIT_DIFF_FILES + 5} changed files not shown (at most 50); cut at 1000 bytes"
    assert commit_diff(str(repo), before, "0" * 40).error is not None


def test_commit_pairs_every_pair_of_few_commits_else_neighbours_and_the_baseline():
    few = [f"c{index}" for index in range(ALL_PAIRS_MAX_COMMITS)]
    assert len(commit_pairs(few, {})) == ALL_PAIRS_MAX_COMMITS * (ALL_PAIRS_MAX_COMMITS - 1) // 2
    many = [f"c{index:03}" for index in range(200)]
    pairs = commit_pairs(many, {"c050": 9, "c010": 3})
    assert len(pairs) == MAX_COMMIT_PAIRS
    assert pairs[0] == ("c198", "c199")  # the newest neighbours first
    both = commit_pairs(many[:20], {"c010": 3})
    assert ("c009", "c010") in both and ("c010", "c019") in both and ("c000", "c010") in both
    assert all(many.index(older) < many.index(newer) for older, newer in both)  # older first
    assert len(both) == len(set(both)) == 19 + 17  # neighbours, and the baseline with the 17 it is not next to


def test_build_in_the_repository_writes_code_files_and_the_commit_diff(code_runs, tmp_path):
    out, runs = tmp_path / "site", tmp_path / "runs"
    shutil.copytree(code_runs["runs"], runs)
    script = runs / code_runs["ids"]["first"] / "files" / "code" / "train.py"
    script.write_text(script.read_text() + f"# {TOKEN}\n")  # a token the capture would not have kept
    done = tracker_cli("build", "--runs", str(runs), "--out", str(out), cwd=code_runs["repo"])
    assert done.returncode == 0, done.stderr
    assert "entry script train.py: token-shaped string redacted" in done.stdout + done.stderr
    codes = {}
    for name, run_id in code_runs["ids"].items():
        codes[name] = data_of(out / "runs" / run_id / "code.js", f'TrackerData.code["{run_id}"]=')
    assert TOKEN not in json.dumps(codes) and "[REDACTED]" in codes["first"]["scriptText"]
    assert codes["first"]["commit"] == code_runs["commits"][0] and codes["third"]["commit"] == code_runs["commits"][1]
    assert codes["second"]["patch"] is None and f"+{PAYLOAD_LINE}\n" in codes["third"]["patch"]
    assert codes["third"]["script"] == "train.py" and "lr = 0.2" in codes["third"]["scriptText"]
    key = commit_diff_key(*code_runs["commits"])
    assert sorted(os.listdir(out / "data" / "commits")) == [f"{key}.js", "index.js"]  # two commits: one pair
    assert data_of(out / "data" / "commits" / "index.js", "TrackerData.commitDiffIndex=") == {"repository": True,
                                                                                           "keys": [key]}
    diff = data_of(out / "data" / "commits" / f"{key}.js", f'["{key}"]=')
    assert (diff["from"], diff["to"]) == tuple(code_runs["commits"]) and diff["filesTotal"] == 2
    assert "-lr = 0.1\n+lr = 0.2\n" in diff["text"] and diff["notice"] is None


def test_build_outside_a_repository_writes_no_commit_diff(code_runs, tmp_path):
    out = tmp_path / "site"
    done = tracker_cli("build", "--runs", code_runs["runs"], "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert os.listdir(out / "data" / "commits") == ["index.js"]
    assert data_of(out / "data" / "commits" / "index.js", "TrackerData.commitDiffIndex=") == {"repository": False, "keys": []}
    assert all((out / "runs" / run_id / "code.js").is_file() for run_id in code_runs["ids"].values())


def test_a_run_without_a_patch_or_script_has_its_commit_in_its_run_data_and_no_code_file(tmp_path):
    bare = tracker.init(project="code", name="bare", dir=str(tmp_path / "runs"), capture=False)
    bare.finish()
    on_git = tracker.init(project="code", name="on git", dir=str(tmp_path / "runs"), capture=False)
    on_git.finish()
    with open(tmp_path / "runs" / on_git.id / "events.jsonl", "a", encoding="utf-8") as events:  # as capture writes it
        events.write(json.dumps({"type": "git", "time": 1.8e9, "commit": "a" * 40, "branch": "main",
                                 "dirty": False}) + "\n")
    done = tracker_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "site"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for run, code in ((bare, {"commit": None, "branch": None}), (on_git, {"commit": "a" * 40, "branch": "main"})):
        assert not (tmp_path / "site" / "runs" / run.id / "code.js").exists()
        data = data_of(tmp_path / "site" / "data" / "runs" / f"{run.id}.js", f'TrackerData.runs["{run.id}"]=')
        assert list(data)[-1] == "code" and data["code"] == code


def data_of(path, marker: str):
    """The JSON value a data script registers after ``marker``."""
    return json.loads(path.read_text().split(marker, 1)[1].rstrip().rstrip(";"))


def test_a_rebuild_takes_the_commit_diffs_from_the_site_and_resolves_commits_in_one_call(code_runs, tmp_path):
    out = tmp_path / "site"
    assert tracker_cli("build", "--runs", code_runs["runs"], "--out", str(out), cwd=code_runs["repo"]).returncode == 0
    diff_file = out / "data" / "commits" / f"{commit_diff_key(*code_runs['commits'])}.js"
    diff_file.write_text(diff_file.read_text().replace("+lr = 0.2", "+lr = kept"))  # a mark git would not write
    assert tracker_cli("build", "--runs", code_runs["runs"], "--out", str(out), cwd=code_runs["repo"]).returncode == 0
    assert "+lr = kept" in diff_file.read_text()
    assert tracker_cli("build", "--full", "--runs", code_runs["runs"], "--out", str(out),
                       cwd=code_runs["repo"]).returncode == 0
    assert "+lr = kept" not in diff_file.read_text() and "+lr = 0.2" in diff_file.read_text()
    first, second = code_runs["commits"]
    assert resolve_commits(code_runs["repo"], [first[:7], second[:9], "0000000", "zz", first[:7]]) == {
        first[:7]: first, second[:9]: second}
