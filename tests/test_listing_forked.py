"""tracker ls's forked child stats the run folders while the parent decodes the listing cache
(tracker/forked_stamps.py): the listing is the one made without it, and only the command line forks."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import tracker
from tracker import forked_stamps
from tracker.listing import LISTING_FILE, list_runs
from test_site_support import append_record, log_run, run_cli

T0 = 1_790_000_000.0


@pytest.fixture
def runs(tmp_path, monkeypatch, threads_of_this_test):
    """A runs folder of usual runs and odd ones, listed once (its cache written, its folders stamped)."""
    monkeypatch.setattr("tracker.run_keys.RACY_S", 0.0)  # stamp folders changed a moment ago
    monkeypatch.setattr(forked_stamps, "FORKED_MIN_FOLDERS", 1)
    monkeypatch.setattr(forked_stamps, "MIN_IDLE_CORES", -1e9)  # forks whatever the machine's load
    root = tmp_path / "runs"
    paths = {name: log_run(root, name, config={"lr": n / 10}, metrics=[{"loss": float(n)}])
             for n, name in enumerate(["a", "b", "c", "d", "e", "two-files", "with-files"])}
    (Path(paths["two-files"]) / "notes.txt").write_text("a stamp of two files")
    (Path(paths["with-files"]) / "files" / "deep").mkdir(parents=True, exist_ok=True)  # of three folders
    (root / "notes.txt").write_text("not a run")
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    (root / "link").symlink_to(paths["a"])  # a second folder of the same run: a copy
    time.sleep(0.05)
    list_runs(root)
    return root, paths


def listed(listing) -> tuple:
    return listing.rows, listing.errors, listing.copies, listing.keys


def cold_listing(root) -> tuple:
    """What a listing without any cache finds (the cache put back after)."""
    kept = (root / LISTING_FILE).read_bytes()
    (root / LISTING_FILE).unlink()
    try:
        return listed(list_runs(root))
    finally:
        (root / LISTING_FILE).write_bytes(kept)


def parent_calls(monkeypatch) -> dict[str, list[str]]:
    """The paths os.stat and os.scandir are called with in this process from now on (a child
    forked later counts its own calls in its own memory)."""
    calls = {"stat": [], "scandir": []}
    real_stat, real_scandir = os.stat, os.scandir

    def stat(path, *arguments, **options):
        calls["stat"].append(os.fspath(path))
        return real_stat(path, *arguments, **options)

    def scandir(path="."):
        calls["scandir"].append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr("tracker.run_keys._stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    return calls


def test_a_forked_listing_is_the_listing_without_a_cache(runs, monkeypatch):
    root, paths = runs
    append_record(paths["b"], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.25}})
    (Path(paths["c"]) / "notes.txt").write_text("a file added: its folder's change time moves on")
    append_record(paths["two-files"], {"type": "metrics", "time": T0, "step": 2, "values": {"loss": 0.125}})
    shutil.rmtree(paths["d"])
    log_run(root, "new", metrics=[{"loss": 9.0}])
    monkeypatch.setattr(forked_stamps, "CHILD_SHARE", 1.0)  # every folder the child's
    calls = parent_calls(monkeypatch)
    forked = listed(list_runs(root, forks=True))
    monkeypatch.undo()
    assert forked == cold_listing(root)
    assert {row["name"]: row["summary"]["loss"] for row in forked[0]}["b"] == 0.25
    # the parent stat'ed and scanned only the folders that changed or that the cache does not
    # name: the child checked the others' stamps, of one file, of two, of three folders
    changed = {os.path.basename(paths[name]) for name in ("b", "c", "two-files")}
    changed.add(os.path.basename(next(row["path"] for row in forked[0] if row["name"] == "new")))
    assert {os.path.basename(path) for path in calls["scandir"] if path != str(root)} == changed
    stat_folders = {os.path.relpath(path, root).split(os.sep)[0] for path in calls["stat"]
                    if path.startswith(str(root) + os.sep)}
    assert stat_folders == changed | {"loop", "dangling", "notes.txt"}  # not in the cache: told from files here


@pytest.mark.parametrize("share", [0.0, 0.5, 2 / 3])
def test_the_child_checks_a_share_of_the_folders_and_the_parent_the_others(runs, monkeypatch, share):
    root, paths = runs
    monkeypatch.setattr(forked_stamps, "CHILD_SHARE", share)
    for name in ("a", "c", "with-files"):
        append_record(paths[name], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.25}})
    forked = listed(list_runs(root, forks=True))
    assert forked == cold_listing(root)
    assert {row["name"]: row["summary"]["loss"] for row in forked[0]}["with-files"] == 0.25


def test_a_child_that_fails_costs_only_its_stats(runs, monkeypatch):
    root, paths = runs
    append_record(paths["e"], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.75}})

    def fails(cache, folders):
        raise OSError("no stats today")

    monkeypatch.setattr(forked_stamps, "held_keys", fails)  # in the child, which exits 1
    forked = listed(list_runs(root, forks=True))
    assert forked == cold_listing(root)
    assert {row["name"]: row["summary"]["loss"] for row in forked[0]}["e"] == 0.75


@pytest.mark.filterwarnings("ignore:tracker:UserWarning")  # the odd folders of the fixture, warned about
def test_only_the_command_line_forks(runs, monkeypatch):
    root, paths = runs
    forks, real_fork = [], os.fork

    def counted_fork():
        forks.append(os.getpid())
        return real_fork()

    monkeypatch.setattr(os, "fork", counted_fork)
    expected = listed(list_runs(root))
    assert [run.name for run in tracker.runs(str(root))] == [row["name"] for row in expected[0]]
    assert forks == []  # a library call, as a training script makes it: no fork
    code, out, _ = run_cli("ls", "--runs", str(root))
    assert code == 0 and "two-files" in out
    assert forks == [os.getpid()]



def test_a_busy_machine_lists_without_a_child(runs, monkeypatch):
    root, paths = runs
    monkeypatch.undo()
    monkeypatch.setattr(forked_stamps, "FORKED_MIN_FOLDERS", 1)
    monkeypatch.setattr(os, "getloadavg", lambda: (os.cpu_count() + 1.0, 0.0, 0.0))  # every core busy
    forks, real_fork = [], os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    append_record(paths["e"], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.75}})
    assert listed(list_runs(root, forks=True)) == cold_listing(root)
    assert forks == []
