"""Reading runs from a store (`--runs s3://bucket/prefix`): the store's runs synced into a local cache
(tracker/store_cache.py) that tracker ls, show, diff and build read as a runs folder.

The runs are put in the store as docs/format.md's "Runs in object storage" lays them out (each events
file as closed segments plus an open one, every other file one object), from folders the client
logged or from records written by hand, and read back through a real S3-compatible server (moto on
127.0.0.1) whose request log counts what each sync downloaded.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from s3_server import s3_environment, s3_server  # noqa: F401 (a fixture)
from scripts import script_env, start_script
from test_serve import free_port, poll
from test_site_ops import index_rows
from test_site_support import log_run, run_cli

import fsspec  # noqa: E402  (s3_server skips this module without s3fs, which brings fsspec)

from tracker.reader import load_run
from tracker.segments import closed_segment_name, open_segment_name, segments_folder
from tracker.store_backends import list_files
from tracker.store_cache import STATE_FILE, StoreCache, cache_folder, extend_events_file
from tracker.store_plan import StoreObject, empty_state, plan_sync

SYNCED = re.compile(r"^tracker: synced (\S+): (\d+) runs?, (\d+) of (\d+) objects downloaded \([\d.]+ kB\), "
                    r"(\d+) removed in [\d.]+s$", re.M)


# -- putting runs in a store, as the uploader does -------------------------------------------------

def line_ends(data: bytes) -> list[int]:
    return [index + 1 for index, byte in enumerate(data) if byte == ord("\n")]


def put_events(fs, run_url: str, name: str, data: bytes, closed_ends: list[int], open_segment: bool = True) -> None:
    """An events file's bytes as closed segments ending at ``closed_ends`` (line ends), then the
    rest as the open segment."""
    folder = f"{run_url}/{segments_folder(name)}"
    start = 0
    for end in closed_ends:
        fs.pipe_file(f"{folder}/{closed_segment_name(start)}", data[start:end])
        start = end
    if open_segment and start < len(data):
        fs.pipe_file(f"{folder}/{open_segment_name(start)}", data[start:])


def put_run_folder(fs, store_url: str, folder: str, segment_lines: int = 5) -> str:
    """A run folder the client logged, put in the store: its events files in closed segments of
    ``segment_lines`` lines and an open one; every other file one object. Returns the run id."""
    run_id = os.path.basename(folder)
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            with open(path, "rb") as handle:
                data = handle.read()
            if "/" not in relative and relative.startswith("events") and relative.endswith(".jsonl"):
                ends = line_ends(data)
                put_events(fs, f"{store_url}/{run_id}", relative, data, ends[segment_lines - 1:-1:segment_lines])
            elif ".tmp-" not in name:
                fs.pipe_file(f"{store_url}/{run_id}/{relative}", data)
    return run_id


def records(*items: dict) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def started_run(run_id: str, t0: float, steps: range, writer: str = "w1") -> bytes:
    """A run written by hand as any language may: run and start records, then metrics of ``steps``."""
    head = records({"type": "run", "schema": 1, "id": run_id, "project": "store", "name": run_id, "time": t0},
                   {"type": "start", "writer": writer, "time": t0, "pid": 4242, "host": "node-a",
                    "heartbeat_interval_s": 10})
    return head + metrics_lines(t0, steps)


def metrics_lines(t0: float, steps: range) -> bytes:
    return records(*({"type": "metrics", "step": step, "time": t0 + step, "values": {"loss": 1.0 / (step + 1)}}
                     for step in steps))


def heartbeat(writer: str, at: float) -> bytes:
    return json.dumps({"writer": writer, "time": at, "pid": 4242}).encode()


# -- the plan: what a sync fetches (pure) ----------------------------------------------------------

def listing(*objects: tuple[str, int, str]) -> dict[str, StoreObject]:
    return {key: StoreObject(key, size, version) for key, size, version in objects}


def test_a_closed_segment_is_planned_once_and_an_unchanged_object_never():
    seg = "r1/events.jsonl.segments/"
    first = listing((seg + "0000000000000000", 100, "e1"), (seg + "0000000000000100.open", 40, "e2"),
                    ("r1/heartbeat-w1.json", 50, "h1"), ("r1/console.log", 7, "c1"))
    plan = plan_sync(first, empty_state(), lambda key: 0)
    assert sorted(plan.keys()) == sorted(first)
    state = {**empty_state(), "objects": {seg + "0000000000000100.open": [40, "e2"], "r1/heartbeat-w1.json": [50, "h1"],
                                          "r1/console.log": [7, "c1"]}, "closed": {"r1/events.jsonl": 100}}
    assert plan_sync(first, state, lambda key: 140).keys() == []  # nothing changed: nothing fetched
    # The writer closed the open segment (a new closed one, a new open one) and beat again.
    later = listing((seg + "0000000000000000", 100, "e1"), (seg + "0000000000000100", 60, "e3"),
                    (seg + "0000000000000160.open", 10, "e4"), ("r1/heartbeat-w1.json", 50, "h2"),
                    ("r1/console.log", 7, "c1"))
    plan = plan_sync(later, state, lambda key: 140)
    assert sorted(plan.keys()) == [seg + "0000000000000100", seg + "0000000000000160.open", "r1/heartbeat-w1.json"]
    assert plan.removed == [] and plan.removed_runs == []


def test_an_events_file_shorter_than_its_closed_segments_is_rebuilt_from_the_first():
    seg = "r1/events.jsonl.segments/"
    listed = listing((seg + "0000000000000000", 100, "e1"), (seg + "0000000000000100", 60, "e3"))
    state = {**empty_state(), "closed": {"r1/events.jsonl": 160}}
    plan = plan_sync(listed, state, lambda key: 20)  # someone cut the cached file
    assert plan.events[0].rebuild and plan.keys() == [seg + "0000000000000000", seg + "0000000000000100"]


def test_files_and_runs_gone_from_the_store_are_removed():
    state = {**empty_state(), "objects": {"r1/console.log": [7, "c1"], "r2/console.log": [3, "x"],
                                          "r2/files/diff.patch": [9, "d"]}, "closed": {"r2/events.jsonl": 10}}
    plan = plan_sync(listing(("r2/files/diff.patch", 9, "d")), state, lambda key: 10)
    assert plan.removed == ["r1/console.log", "r2/console.log", "r2/events.jsonl"]
    assert plan.removed_runs == ["r1"]


def test_a_plan_is_cut_into_batches_that_keep_each_events_files_segments_together():
    seg = "r1/events.jsonl.segments/"
    listed = listing((seg + "0000000000000000", 100, "e1"), (seg + "0000000000000100", 60, "e2"),
                     (seg + "0000000000000160.open", 9, "e3"), ("r1/console.log", 7, "c1"),
                     ("r2/console.log", 7, "c2"), ("r2/heartbeat-w1.json", 5, "h1"))
    plan = plan_sync(listed, empty_state(), lambda key: 0)

    batches = list(plan.batches(2))

    assert [batch.keys() for batch in batches] == [
        ["r1/console.log", "r2/console.log"], ["r2/heartbeat-w1.json", seg + "0000000000000000",
                                               seg + "0000000000000100", seg + "0000000000000160.open"]]
    assert [key for batch in batches for key in batch.keys()] == plan.keys()
    assert list(plan_sync(listed, {**empty_state(), "objects": {key: obj.stamp for key, obj in listed.items()},
                                   "closed": {"r1/events.jsonl": 160}}, lambda key: 169).batches(2)) == []


def test_a_sync_in_batches_of_two_objects_makes_the_same_cache_as_one_batch(tmp_path, monkeypatch):
    fs = fsspec.filesystem("memory")
    store = f"memory://{tmp_path.name}/runs"
    for name in ("b1", "b2", "b3"):
        put_run_folder(fs, store, log_run(tmp_path / "local", name, metrics=[{"loss": 1.0 / (step + 1)}
                                                                            for step in range(12)]), segment_lines=4)
    whole = StoreCache(store, str(tmp_path / "whole"))
    whole_report = whole.sync()
    monkeypatch.setattr("tracker.store_cache.DOWNLOAD_BATCH", 2)  # each cat() now fetches two objects
    batched = StoreCache(store, str(tmp_path / "batched"))

    report = batched.sync()

    assert (report.downloaded, report.downloaded_bytes, report.problems) == (
        whole_report.downloaded, whole_report.downloaded_bytes, []) and report.downloaded == report.listed > 6
    for parent, _, names in os.walk(whole.runs_folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as one, open(path.replace(whole.folder, batched.folder, 1), "rb") as other:
                assert other.read() == one.read(), name
    states = [json.load(open(os.path.join(cache.folder, STATE_FILE))) for cache in (whole, batched)]
    assert (states[1]["objects"], states[1]["closed"]) == (states[0]["objects"], states[0]["closed"])
    assert batched.sync().downloaded == 0


def test_a_local_events_file_only_grows_and_is_replaced_only_when_its_bytes_differ(tmp_path):
    path = str(tmp_path / "events.jsonl")
    extend_events_file(path, 0, b"a\nb\n")
    inode = os.stat(path).st_ino
    extend_events_file(path, 2, b"b\nc\n")  # the open segment grew: only "c\n" is appended
    assert open(path, "rb").read() == b"a\nb\nc\n" and os.stat(path).st_ino == inode
    extend_events_file(path, 2, b"b\n")  # a stale, shorter view of bytes already held: nothing to do
    assert open(path, "rb").read() == b"a\nb\nc\n"
    extend_events_file(path, 2, b"x\ny\nz\n")  # bytes that differ: replaced from the start offset
    assert open(path, "rb").read() == b"a\nx\ny\nz\n"


# -- memory:// (the same code as any backend, in this process) -------------------------------------

def test_a_synced_run_reads_as_the_run_the_client_logged(tmp_path):
    fs = fsspec.filesystem("memory")
    store = f"memory://{tmp_path.name}/runs"
    folder = log_run(tmp_path / "local", "logged", config={"lr": 0.1},
                     metrics=[{"loss": 1.0 / (step + 1), "acc": step / 30} for step in range(30)])
    run_id = put_run_folder(fs, store, folder)
    cache = StoreCache(store, str(tmp_path / "cache"))

    report = cache.sync()

    cached = os.path.join(cache.runs_folder, run_id)
    with open(os.path.join(folder, "events.jsonl"), "rb") as original, \
            open(os.path.join(cached, "events.jsonl"), "rb") as rebuilt:
        assert rebuilt.read() == original.read()  # byte for byte, from its segments
    local, synced = load_run(folder), load_run(cached)
    assert (synced.status, synced.name, synced.config) == (local.status, local.name, local.config) == (
        "finished", "logged", {"lr": 0.1})
    assert synced.histories["loss"].values == local.histories["loss"].values
    assert report.downloaded == report.listed == len(fs.find(store)) and not report.problems
    assert cache.sync().downloaded == 0  # nothing changed: nothing fetched
    assert "memory://" in open(os.path.join(cache.folder, STATE_FILE)).read()
    shutil.rmtree(cache.runs_folder)  # a person clears the runs but not the state: all is fetched again
    assert cache.sync().downloaded == report.listed
    assert sorted(os.listdir(cached)) == sorted(os.listdir(folder))


def test_a_missing_segment_is_a_problem_naming_it_and_the_run_reads_up_to_it(tmp_path):
    fs = fsspec.filesystem("memory")
    store = f"memory://{tmp_path.name}/runs"
    data = started_run("gap", 1_800_000_000.0, range(9))
    ends = line_ends(data)
    put_events(fs, f"{store}/gap", "events.jsonl", data[:ends[5]], [ends[3]], open_segment=False)
    missing = f"{store}/gap/events.jsonl.segments/{closed_segment_name(ends[3])}"
    fs.pipe_file(f"{store}/gap/events.jsonl.segments/{closed_segment_name(ends[5])}", data[ends[5]:])
    cache = StoreCache(store, str(tmp_path / "cache"))

    report = cache.sync()

    assert report.problems == [f"{store}/gap/events.jsonl.segments/{closed_segment_name(ends[5])}: starts at byte "
                               f"{ends[5]:,} but the segments before it end at byte {ends[3]:,}: a segment is "
                               "missing, and what follows cannot be read"]
    assert load_run(os.path.join(cache.runs_folder, "gap")).histories["loss"].steps == [0, 1]
    fs.pipe_file(missing, data[ends[3]:ends[5]])  # the late upload lands
    assert cache.sync().problems == []
    assert load_run(os.path.join(cache.runs_folder, "gap")).histories["loss"].steps == list(range(9))


def test_tracker_dir_may_name_a_store_and_commands_that_write_beside_the_runs_refuse_one(tmp_path, monkeypatch):
    fs = fsspec.filesystem("memory")
    store = f"memory://{tmp_path.name}/runs"
    put_run_folder(fs, store, log_run(tmp_path / "local", "from-env", metrics=[{"loss": 0.5}]))
    monkeypatch.setenv("TRACKER_DIR", store)
    monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "cache"))

    code, stdout, stderr = run_cli("ls")

    assert code == 0, stderr
    assert "from-env" in stdout and synced_line(stderr)[:2] == (1, len(fs.find(store)))
    code, stdout, stderr = run_cli("report", "new", "--filter", "name:from-env")
    assert (code, stderr) == (2, f"tracker: error: --runs {store}: tracker report writes beside the runs it "
                                 "reads, so it takes a runs folder, not a store\n")


def test_a_store_whose_backend_is_not_installed_is_one_line_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # as if not installed: importing it raises ImportError
    for protocol in ("gs", "gcs"):  # and not yet loaded by fsspec (another test may have used gs://)
        monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, protocol, raising=False)
    monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "cache"))

    code, stdout, stderr = run_cli("ls", "--runs", "gs://team-runs/experiments")

    assert (code, stdout) == (2, "")
    assert stderr == ("tracker: error: --runs gs://team-runs/experiments: reading gs:// needs gcsfs, which is not "
                      "installed: pip install 'serverless-ml-tracker[gcs]'\n")


# -- a real S3-compatible server -------------------------------------------------------------------

@pytest.fixture
def bucket(s3_server, monkeypatch, request, tmp_path):
    """A new bucket, the endpoint and dummy credentials in the environment, and a cache folder."""
    s3_environment(monkeypatch, s3_server.endpoint)
    monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "user-cache"))
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(name)
    s3_server.requests.clear()
    return name, fs


def synced_line(stderr: str) -> tuple[int, int, int, int]:
    """(runs, downloaded, listed, removed) of a command's 'synced' line."""
    found = SYNCED.search(stderr)
    assert found, stderr
    return int(found.group(2)), int(found.group(3)), int(found.group(4)), int(found.group(5))


def test_the_listing_of_a_bucket_is_what_find_answers_from_its_flat_pages(tmp_path, bucket, s3_server):
    name, fs = bucket
    keys = [f"runs/r{n}/events.jsonl.segments/{closed_segment_name(0)}" for n in range(3)]
    keys += ["runs/r0/console.log", "runs/r1/media/images/a.png", "runs/r2/", "runs-other/r9/console.log"]
    for number, key in enumerate(keys):
        fs.pipe_file(f"{name}/{key}", b"x\n" * (number + 1))
    s3_server.requests.clear()

    listed = list_files(fs, f"{name}/runs")

    assert s3_server.listings(name) == 1 and len(s3_server.requests) == 1  # one page: no HEAD, no GET
    fs.invalidate_cache()
    found = fs.find(f"{name}/runs", withdirs=False, detail=True)
    assert sorted(listed) == sorted(found) == sorted(f"{name}/{key}" for key in keys[:-1])
    assert {path: (info["size"], info["ETag"]) for path, info in listed.items()} == {
        path: (info["size"], info["ETag"]) for path, info in found.items()}
    with pytest.raises(FileNotFoundError):
        list_files(fs, "no-such-bucket-here/runs")
    s3_server.requests.clear()

    report = StoreCache(f"s3://{name}/runs", str(tmp_path / "cache")).sync()

    assert report.downloaded == 5 and not report.problems  # the placeholder "r2/" is no file of a run
    assert sorted((method, path) for method, path, query in s3_server.requests) == sorted(
        [("GET", f"/{name}")] + [("GET", f"/{name}/{key}") for key in keys[:5]])  # one GET each, no HEAD


def test_tracker_ls_lists_the_runs_of_a_bucket(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/team/runs"
    for n in range(2):
        put_run_folder(fs, store, log_run(tmp_path / "local", f"lr-{n}", config={"lr": 0.1 * (n + 1)},
                                          metrics=[{"loss": 1.0 / (s + n + 1)} for s in range(12)]))
    objects = len(fs.find(store))
    s3_server.requests.clear()

    code, stdout, stderr = run_cli("ls", "--runs", store)

    assert code == 0, stderr
    rows = [line.split() for line in stdout.splitlines()[2:]]
    assert sorted((row[1], row[3]) for row in rows) == [("lr-0", "finished"), ("lr-1", "finished")]
    assert synced_line(stderr) == (2, objects, objects, 0)
    assert s3_server.listings(name) == 1  # one listing of the prefix, whatever the number of runs
    assert os.path.isdir(os.path.join(cache_folder(store), "runs"))  # under $TRACKER_CACHE_DIR
    code, stdout_again, stderr = run_cli("ls", "--runs", store + "/")  # the same store, the same cache
    assert code == 0 and stdout_again == stdout and synced_line(stderr)[1] == 0


def test_tracker_show_and_diff_read_runs_of_a_bucket(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    ids = [put_run_folder(fs, store, log_run(tmp_path / "local", f"lr-{n}", config={"lr": 0.1 * (n + 1)},
                                             metrics=[{"loss": 0.5 / (n + 1)}]))
           for n in range(2)]
    code, stdout, stderr = run_cli("show", ids[0], "--runs", store)
    assert code == 0, stderr
    assert "lr-0" in stdout and "finished" in stdout
    code, stdout, stderr = run_cli("diff", ids[0], ids[1], "--runs", store)
    assert code == 0, stderr
    assert "lr" in stdout and "0.1" in stdout and "0.2" in stdout


def test_incremental_build_from_a_bucket_downloads_only_the_changed_objects(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/runs"
    for n in range(3):
        put_run_folder(fs, store, log_run(tmp_path / "local", f"done-{n}", metrics=[{"loss": 1.0 / (s + 1)}
                                                                                   for s in range(8)]))
    t0 = time.time() - 30
    data = started_run("live", t0, range(20))
    ends = line_ends(data)
    put_events(fs, f"{store}/live", "events.jsonl", data, [ends[9]])
    fs.pipe_file(f"{store}/live/heartbeat-w1.json", heartbeat("w1", time.time()))
    cache, site = tmp_path / "ci-cache", tmp_path / "site"

    code, stdout, stderr = run_cli("build", "--runs", store, "--out", str(site), "--cache", str(cache))
    assert code == 0, stderr
    assert stdout.startswith("built 4 runs") and os.path.isdir(cache / "store")
    assert not os.path.exists(cache_folder(store))  # --cache DIR, not the user's cache

    # The live run's writer closes its open segment and beats again; no other run changes.
    more = metrics_lines(t0, range(20, 30))
    grown = data + more
    closed = f"live/events.jsonl.segments/{closed_segment_name(ends[9])}"
    opened = f"live/events.jsonl.segments/{open_segment_name(len(data))}"
    fs.pipe_file(f"{store}/{closed}", data[ends[9]:])
    fs.pipe_file(f"{store}/{opened}", more)
    fs.rm(f"{store}/live/events.jsonl.segments/{open_segment_name(ends[9])}")
    fs.pipe_file(f"{store}/live/heartbeat-w1.json", heartbeat("w1", time.time()))
    s3_server.requests.clear()

    code, stdout, stderr = run_cli("build", "--runs", store, "--out", str(site), "--cache", str(cache))

    assert code == 0, stderr
    assert s3_server.object_gets(name) == sorted(["runs/" + closed, "runs/" + opened, "runs/live/heartbeat-w1.json"])
    assert s3_server.listings(name) == 1
    runs, downloaded, listed, removed = synced_line(stderr)
    assert (runs, downloaded, removed) == (4, 3, 0)
    assert "(1 re-rendered, 3 unchanged)" in stdout  # the build's manifest sees only the live run change
    rebuilt = os.path.join(cache_folder(store, str(cache)), "runs", "live", "events.jsonl")
    assert open(rebuilt, "rb").read() == grown
    live = next(row for row in index_rows(site) if row["id"] == "live")
    assert (live["status"], live["summary"]["loss"]) == ("running", pytest.approx(1.0 / 30))  # step 29, now shown


def test_a_run_whose_heartbeat_stopped_is_crashed_with_its_points_up_to_the_last_upload(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    now = time.time()
    # "killed": its writer stopped 60 s ago, mid-run (no end record, an open segment left);
    # "alive": beat just now. Both say heartbeat_interval_s 10: crashed 32 s after the last beat.
    for run_id, last_beat in (("killed", now - 60), ("alive", now)):
        data = started_run(run_id, now - 120, range(7))
        put_events(fs, f"{store}/{run_id}", "events.jsonl", data, [line_ends(data)[4]])
        fs.pipe_file(f"{store}/{run_id}/heartbeat-w1.json", heartbeat("w1", last_beat))

    code, stdout, stderr = run_cli("ls", "--runs", store, "--json")

    assert code == 0, stderr
    rows = {row["id"]: row for row in map(json.loads, stdout.splitlines())}
    assert (rows["killed"]["status"], rows["alive"]["status"]) == ("crashed", "running")
    assert rows["killed"]["summary"]["loss"] == pytest.approx(1.0 / 7)  # its last uploaded step, 6


def test_an_unreachable_store_after_a_sync_reads_the_cache_with_a_warning(tmp_path, bucket, monkeypatch):
    name, fs = bucket
    store = f"s3://{name}/runs"
    put_run_folder(fs, store, log_run(tmp_path / "local", "kept", metrics=[{"loss": 0.5}]))
    code, listed, stderr = run_cli("ls", "--runs", store)
    assert code == 0, stderr

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, stdout, stderr = run_cli("ls", "--runs", store)

    assert code == 0, stderr
    assert stdout == listed
    assert re.search(rf"^tracker: warning: s3://{name}/runs could not be listed \(.+\); reading the runs as "
                     r"last synced$", stderr, re.M), stderr
    code, stdout, stderr = run_cli("ls", "--runs", f"s3://{name}/never-synced")
    assert code == 2 and stderr.startswith(f"tracker: error: --runs s3://{name}/never-synced: listing failed"), stderr


def test_tracker_serve_polls_the_store_and_shows_a_run_uploaded_after_it_started(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/runs"
    put_run_folder(fs, store, log_run(tmp_path / "local", "first", metrics=[{"loss": 0.5}]))
    port = free_port()
    log = tmp_path / "serve.out"
    with open(log, "w") as output:
        serve = subprocess.Popen([sys.executable, "-m", "tracker.cli", "serve", "--runs", store, "--port", str(port),
                                  "--out", str(tmp_path / "site")], stdout=output, stderr=subprocess.STDOUT,
                                 env=script_env(TRACKER_STORE_POLL_S="0.5"))
    try:
        index = f"http://127.0.0.1:{port}/data/index.js"
        poll(lambda: serve.poll() is not None or "first" in fetch_text(index), 30, "the first build")
        assert serve.poll() is None, log.read_text()

        put_run_folder(fs, store, log_run(tmp_path / "local", "uploaded-later", metrics=[{"loss": 0.25}]))

        poll(lambda: "uploaded-later" in fetch_text(index), 30, "the run uploaded after serve started")
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=10) == 0
    synced = [line for line in log.read_text().splitlines() if line.startswith("tracker: synced ")]
    # The start, then the polls that found the new run's objects (one, or more if a poll came
    # while they were being put): a poll that downloads nothing says nothing.
    assert synced[0].startswith(f"tracker: synced {store}: 1 run, ") and len(synced) >= 2, log.read_text()
    assert synced[-1].startswith(f"tracker: synced {store}: 2 runs, "), log.read_text()


def fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.read().decode("utf-8")


TRAIN_TO_STORE = """
import sys, time
import tracker

run = tracker.init(project="store", name="killed-mid-run", capture=False)
print(run.id, run.path, flush=True)
for step in range(100_000):
    run.log({"loss": 1.0 / (step + 1)}, step=step)
    time.sleep(0.002)
"""


def test_a_run_logged_to_the_bucket_and_killed_builds_as_crashed_with_its_uploaded_points(tmp_path, bucket):
    name, fs = bucket
    store = f"s3://{name}/team"
    env = script_env(TRACKER_DIR=store, TRACKER_SPOOL=str(tmp_path / "spool"), TRACKER_KEEP_SPOOL="1",
                     TRACKER_UPLOAD_INTERVAL_S="0.3", TRACKER_SEGMENT_MB="0.004")
    training = start_script(tmp_path, TRAIN_TO_STORE, env=env)
    run_id, spool = training.stdout.readline().split()
    segments = f"{name}/team/{run_id}/{segments_folder('events.jsonl')}"

    def uploaded_a_while():
        fs.invalidate_cache()
        names = [path.rsplit("/", 1)[1] for path in fs.find(segments)]
        return len(names) >= 3 and any(name.endswith(".open") for name in names)

    poll(uploaded_a_while, 60, "closed segments and an open one in the bucket")
    training.send_signal(signal.SIGKILL)
    training.communicate(timeout=30)
    beats = fs.glob(f"{name}/team/{run_id}/heartbeat-*.json")
    assert len(beats) == 1, fs.find(f"{name}/team/{run_id}")
    last_beat = json.loads(fs.cat_file(beats[0]))["time"]
    time.sleep(max(0.0, last_beat + 3 * 0.6 + 2 + 0.5 - time.time()))  # 3 x 2 upload intervals + 2 s: stale

    code, stdout, stderr = run_cli("build", "--runs", store, "--out", str(tmp_path / "site"), "--cache",
                                   str(tmp_path / "ci-cache"))

    assert code == 0, stderr
    cached = os.path.join(cache_folder(store, str(tmp_path / "ci-cache")), "runs", run_id, "events.jsonl")
    with open(cached, "rb") as rebuilt, open(os.path.join(spool, "events.jsonl"), "rb") as spooled:
        uploaded, written = rebuilt.read(), spooled.read()
    assert uploaded.endswith(b"\n") and written.startswith(uploaded)  # whole lines, up to the last upload
    steps = [record["step"] for record in map(json.loads, uploaded.splitlines()) if record["type"] == "metrics"]
    assert steps == list(range(len(steps))) and len(steps) > 50
    [row] = index_rows(tmp_path / "site")
    assert (row["id"], row["status"]) == (run_id, "crashed")
    assert row["summary"]["loss"] == pytest.approx(1.0 / (steps[-1] + 1))  # its last uploaded step
