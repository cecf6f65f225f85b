"""Which folders of a store's cache each sync touched (tracker/store_generations.py), and `tracker ls`
trusting the listing cache for every other folder: after a sync that changed one run of a store, the
listing checks that run's folder only. Against a real S3-compatible server (moto on 127.0.0.1).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from s3_server import s3_server  # noqa: F401 (a fixture)
from scripts import script_env
from test_site_ops import index_rows
from test_site_support import append_record, log_run, run_cli
from test_store_reading import bucket  # noqa: F401 (a fixture)

from tracker.listing import list_runs
from tracker.listing_cache import read_ahead
from tracker.run_keys import RACY_S, candidate_names, names_since
from tracker.store_cache import cache_folder
from tracker.store_generations import (LISTED_FILE, MAX_GENERATIONS, SYNCED_FILE, note_listed, record_sync,
                                       touched_since_listed)
from tracker.store_upload import sync_run


def test_the_folders_touched_since_a_listing_are_known_only_while_the_log_reaches_back_to_it(tmp_path):
    cache = tmp_path / "cache"
    runs = cache / "runs"
    runs.mkdir(parents=True)
    assert touched_since_listed(str(runs)) == (0, None)  # no log: every folder is checked
    assert record_sync(str(cache), {"a", "b"}) == 1
    assert touched_since_listed(str(runs)) == (1, None)  # no listing noted
    note_listed(str(runs), 1)
    assert touched_since_listed(str(runs)) == (1, set())  # nothing since
    record_sync(str(cache), {"c"})
    record_sync(str(cache), {"a"})
    assert touched_since_listed(str(runs)) == (3, {"a", "c"})
    record_sync(str(cache), {f"run-{n}" for n in range(5000)})  # a first sync of a big store: "unknown"
    assert touched_since_listed(str(runs)) == (4, None)
    note_listed(str(runs), 4)
    for _ in range(MAX_GENERATIONS + 1):  # the log keeps MAX_GENERATIONS: the noted one falls out
        record_sync(str(cache), {"d"})
    assert touched_since_listed(str(runs))[1] is None
    (cache / SYNCED_FILE).write_text("{not json")
    assert touched_since_listed(str(runs)) == (0, None)


def ls_rows(store: str) -> dict[str, dict]:
    code, stdout, stderr = run_cli("ls", "--runs", store, "--json")
    assert code == 0, stderr
    return {row["name"]: row for row in map(json.loads, stdout.splitlines())}


def test_tracker_ls_after_a_sync_checks_only_the_folders_that_sync_touched(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folders = {label: log_run(tmp_path / "local", label, metrics=[{"loss": 1.0}]) for label in ("a", "b", "c")}
    for folder in folders.values():
        sync_run(folder, store, os.path.basename(folder))
    assert {row["summary"]["loss"] for row in ls_rows(store).values()} == {1.0}
    runs_folder = os.path.join(cache_folder(store), "runs")
    time.sleep(RACY_S + 0.1)  # past the racy window since the sync wrote the folders: this ls stamps them
    ls_rows(store)
    assert touched_since_listed(runs_folder)[1] == set()  # the ls noted the generation it listed

    append_record(folders["a"], {"type": "summary", "time": time.time(), "values": {"loss": 0.25}})
    sync_run(folders["a"], store, os.path.basename(folders["a"]))
    # By hand, behind the syncs' back: what a listing that trusts the log does not look at.
    append_record(os.path.join(runs_folder, os.path.basename(folders["b"])),
                  {"type": "summary", "time": time.time(), "values": {"loss": 0.5}})

    new_run = log_run(tmp_path / "local", "d", metrics=[{"loss": 2.0}])
    sync_run(new_run, store, os.path.basename(new_run))  # a run the store did not have: listed too

    rows = ls_rows(store)

    assert rows["d"]["summary"]["loss"] == 2.0
    assert rows["a"]["summary"]["loss"] == 0.25  # the run the sync touched: read again
    assert rows["b"]["summary"]["loss"] == 1.0  # not checked: the log says no sync touched it
    os.remove(os.path.join(os.path.dirname(runs_folder), LISTED_FILE))
    assert ls_rows(store)["b"]["summary"]["loss"] == 0.5  # without the note, every folder is checked


def test_a_listing_cache_read_ahead_is_used_only_while_its_file_is_the_one_read(tmp_path):
    for label in ("x", "y"):
        log_run(tmp_path / "runs", label)
    root = str(tmp_path / "runs")
    list_runs(root)  # writes the listing cache
    ahead = read_ahead(root)
    assert list_runs(root, read_ahead={root: ahead}).caches[0] is ahead.cached
    log_run(tmp_path / "runs", "z")
    list_runs(root)  # the file gains z's entry: the one read ahead is stale
    listing = list_runs(root, read_ahead={root: ahead})
    assert listing.caches[0] is not ahead.cached and sorted(row["name"] for row in listing.rows) == ["x", "y", "z"]


def test_the_names_of_a_folder_listed_before_a_sync_are_brought_up_to_date_by_what_it_touched(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    listed = candidate_names(str(tmp_path))
    (tmp_path / "b").rmdir()
    for name in ("d", "0"):
        (tmp_path / name).mkdir()
    (tmp_path / "c").rmdir()  # gone, but no sync touched it: kept (the caller trusts every other name)

    names = names_since(listed, {"b", "d", "0", "e", ".lock"}, str(tmp_path))

    assert names == [(name, str(tmp_path / name), None) for name in ("0", "a", "c", "d")]
    assert names_since(listed, {"a", "b", "c", "d", "0"}, str(tmp_path)) == candidate_names(str(tmp_path))
    assert names_since(listed, set(), str(tmp_path)) is listed


def built_loss(site, run_id: str) -> float:
    [row] = [row for row in index_rows(site) if row["id"] == run_id]
    return row["summary"]["loss"]


def test_tracker_build_from_a_store_checks_only_the_folders_synced_since_its_last_build(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folders = {label: log_run(tmp_path / "local", label, metrics=[{"loss": 1.0}]) for label in ("a", "b")}
    ids = {label: os.path.basename(folder) for label, folder in folders.items()}
    for folder in folders.values():
        sync_run(folder, store, os.path.basename(folder))
    env = script_env(TRACKER_CACHE_DIR=str(tmp_path / "cache"))  # with the bucket fixture's endpoint and credentials
    site = tmp_path / "site"

    def build() -> str:
        done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", store, "--out", str(site)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    build()
    time.sleep(RACY_S + 0.1)  # the synced folders past the racy window: the next build stamps them
    assert build().startswith("built 2 runs (0 re-rendered, 2 unchanged)")
    runs_folder = os.path.join(cache_folder(store, str(tmp_path / "cache")), "runs")
    append_record(folders["a"], {"type": "summary", "time": time.time(), "values": {"loss": 0.25}})
    sync_run(folders["a"], store, ids["a"])
    append_record(os.path.join(runs_folder, ids["b"]), {"type": "summary", "time": time.time(), "values": {"loss": 0.5}})
    new_run = log_run(tmp_path / "local", "c", metrics=[{"loss": 2.0}])
    sync_run(new_run, store, os.path.basename(new_run))  # a run the store did not have: built too

    assert build().startswith("built 3 runs (2 re-rendered, 1 unchanged)")

    assert built_loss(site, os.path.basename(new_run)) == 2.0
    assert built_loss(site, ids["a"]) == 0.25  # synced since the last build: read again
    assert built_loss(site, ids["b"]) == 1.0  # changed behind the syncs' back: not looked at
    os.remove(os.path.join(os.path.dirname(runs_folder), "built-generations.json"))
    build()
    assert built_loss(site, ids["b"]) == 0.5  # without the note, every folder's stamp is checked
