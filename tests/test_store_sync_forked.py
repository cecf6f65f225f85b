"""A command-line process syncs a store in a forked child (store_cache.synced_locations(forks=True)):
the process itself never loads s3fs nor starts fsspec's event-loop thread, so it may still fork
later (the build's workers and stamp checks, tracker ls's), and the command's own imports run
meanwhile. Against a real S3-compatible server (moto on 127.0.0.1), in fresh processes.
"""
from __future__ import annotations

import os
import subprocess
import sys

from s3_server import s3_server  # noqa: F401 (a fixture)
from scripts import script_env
from test_site_support import log_run
from test_store_reading import bucket  # noqa: F401 (a fixture)

from tracker.store_upload import sync_run

SYNC_IN_A_CHILD = """
import sys, threading
from tracker.store_cache import synced_locations
said, ran = [], []
resolved = synced_locations([sys.argv[1]], cache_dir=sys.argv[2], say=said.append, forks=True,
                            meanwhile=lambda: ran.append(threading.active_count()))
print(resolved[0])
print(said[0])
print(ran, threading.active_count(), "s3fs" in sys.modules, "fsspec" in sys.modules)
"""


def test_a_store_synced_in_a_forked_child_leaves_this_process_without_s3fs_or_its_thread(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folder = log_run(tmp_path / "local", "forked")
    sync_run(folder, store, os.path.basename(folder))
    env = script_env()  # the bucket fixture put the server's endpoint and credentials in the environment

    done = subprocess.run([sys.executable, "-c", SYNC_IN_A_CHILD, store, str(tmp_path / "cache")], env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    runs_folder, line, facts = done.stdout.splitlines()
    assert os.path.isfile(os.path.join(runs_folder, os.path.basename(folder), "events.jsonl"))
    assert line.startswith(f"synced {store}: 1 run, ")
    assert facts == "[1] 1 False False"  # meanwhile ran; no thread, no s3fs, no fsspec here


def test_tracker_build_from_a_store_in_its_own_process_builds_the_synced_runs(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folder = log_run(tmp_path / "local", "built-from-store", metrics=[{"loss": 0.5}])
    sync_run(folder, store, os.path.basename(folder))
    env = script_env(TRACKER_CACHE_DIR=str(tmp_path / "cache"))  # with the bucket fixture's endpoint and credentials

    done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", store, "--out",
                           str(tmp_path / "site")], env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert f"tracker: synced {store}: 1 run, " in done.stderr and done.stdout.startswith("built 1 run")
    assert os.path.isfile(tmp_path / "site" / "runs" / os.path.basename(folder) / "index.html")


def test_tracker_build_from_a_store_to_a_bucket_in_its_own_process_publishes_the_synced_runs(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folder = log_run(tmp_path / "local", "published-from-store", metrics=[{"loss": 0.5}])
    sync_run(folder, store, os.path.basename(folder))
    env = script_env(TRACKER_CACHE_DIR=str(tmp_path / "cache"))  # with the bucket fixture's endpoint and credentials

    done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", store, "--out",
                           f"s3://{name}/site", "--cache", str(tmp_path / "ci-cache")], env=env,
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert f"tracker: synced {store}: 1 run, " in done.stderr and done.stdout.startswith("built 1 run")
    fs.invalidate_cache()
    assert fs.exists(f"{name}/site/runs/{os.path.basename(folder)}/index.html")
