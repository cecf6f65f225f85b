"""Runs logged to a store (tracker/store_upload.py): real training processes against real servers on
127.0.0.1, read back object by object and rebuilt with tracker/segments.py, compared with the spool
byte for byte. S3 is moto's S3 app (in this process, as s3fs's own tests use moto); the tests of
what every backend must do run on GCS (gcp-storage-emulator) and Azure Blob (Azurite) too."""
from __future__ import annotations

import json
import os
import posixpath
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from frameworks import require_framework

s3fs = require_framework("s3fs", extra="s3")

from store_servers import (BACKENDS, azure_server, backend_bucket, gcs_server, job_environment,  # noqa: E402,F401
                           s3_server)  # the fixtures a test may use: a server per backend, started when asked for

from tracker.reader import load_run  # noqa: E402
from tracker.segments import assemble, events_file_of, parse_segment, plan_segments  # noqa: E402
from tracker.store_cache import cache_folder  # noqa: E402

UPLOAD_INTERVAL_S = 0.3

SCRIPT = textwrap.dedent("""
    import sys, time
    import tracker

    steps, pause = int(sys.argv[1]), float(sys.argv[2])
    run = tracker.init(project="store", name="upload", config={"lr": 0.1}, capture={"git": False, "system": False})
    print("run", run.id, run.path, flush=True)
    with open("weights.bin", "wb") as handle:
        handle.write(bytes(range(256)) * 64)
    run.log_artifact("weights.bin")
    run.log({"sample": tracker.Text("a sample of the model's output")})
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1), "acc": step / steps})
        if step % 50 == 0:
            print("step", step, flush=True)
        time.sleep(pause)
    run.finish()
""")


@pytest.fixture
def store(backend_bucket, tmp_path):
    """A new bucket (S3 unless the test is parametrized over ``backend_bucket``), a client of the
    test's own, and the environment a training job gets."""
    env = job_environment(backend_bucket, TRACKER_DIR=backend_bucket.url("team"),
                          TRACKER_SPOOL=str(tmp_path / "spool"), TRACKER_KEEP_SPOOL="1",
                          TRACKER_UPLOAD_INTERVAL_S=str(UPLOAD_INTERVAL_S), TRACKER_SEGMENT_MB="0.004",
                          PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])))
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return backend_bucket.fs, backend_bucket.bucket, env, script


def start_training(store, steps: int, pause: float) -> tuple[subprocess.Popen, str, str]:
    """The training script started; returns the process, its run id and its spool folder."""
    _, _, env, script = store
    process = subprocess.Popen([sys.executable, str(script), str(steps), str(pause)], env=env, cwd=script.parent,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline().split()
    assert first[:1] == ["run"], process.stderr.read()
    return process, first[1], first[2]


def objects(fs, bucket: str, run_id: str) -> dict[str, bytes]:
    """Every object of the run in the store, by path relative to the run."""
    root = f"{bucket}/team/{run_id}"
    fs.invalidate_cache()
    held = {}
    for key in fs.find(root):
        try:
            held[posixpath.relpath(key, root)] = fs.cat_file(key)
        except FileNotFoundError:  # an open segment closed since the listing: the next look finds it
            pass
    return held


def rebuild(held: dict[str, bytes], folder) -> dict[str, bytes]:
    """The run folder rebuilt from its objects as a reader does (docs/format.md): each events file
    from its segments, every other object as it is. Returns the events files' bytes."""
    events: dict[str, list] = {}
    for relative, data in held.items():
        parent, name = posixpath.split(relative)
        events_file = events_file_of(parent)
        if events_file:
            events.setdefault(events_file, []).append((parse_segment(name, len(data)), data))
            continue
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    rebuilt = {}
    for name, pieces in events.items():
        plan = plan_segments([segment for segment, _ in pieces], where=name)
        assert plan.problems == []
        data = dict((segment.name, piece) for segment, piece in pieces)
        order = plan.closed + ([plan.open] if plan.open else [])
        rebuilt[name] = assemble([(segment, data[segment.name]) for segment in order])
        (folder / name).write_bytes(rebuilt[name])
    return rebuilt


def steps_in(events: bytes) -> list[int]:
    """The steps of the metrics records (the script's steps start at 1: a text sample took step 0)."""
    return [record["step"] for record in map(json.loads, events.splitlines()) if record["type"] == "metrics"]


def no_credentials_in(held: dict[str, bytes], folders, secrets) -> None:
    """No object and no file under ``folders`` (the spool, a cache) holds any of ``secrets`` (none
    for the GCS emulator, which is used anonymously)."""
    local = [(os.path.join(parent, name), open(os.path.join(parent, name), "rb").read())
             for folder in folders for parent, _, names in os.walk(folder) for name in names]
    for path, data in [*held.items(), *local]:
        assert not any(secret.encode() in data for secret in secrets), path


@pytest.mark.parametrize("backend_bucket", BACKENDS, indirect=True)
def test_a_run_logged_to_a_store_is_in_the_bucket_byte_for_byte_as_in_its_spool(store, backend_bucket, tmp_path):
    fs, bucket, _, _ = store
    process, run_id, spool = start_training(store, steps=400, pause=0.002)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "cannot upload" not in err and "not completely uploaded" not in err
    held = objects(fs, bucket, run_id)
    closed = [name for name in held if name.startswith("events.jsonl.segments/")]
    assert len(closed) >= 3 and not any(name.endswith(".open") for name in closed)  # finish() closed it
    assert {"console.log", "files/code/train.py"} <= set(held) and any(name.startswith("heartbeat-") for name in held)
    assert ".tracker-store.json" not in held  # the spool's own note stays there
    rebuilt = rebuild(held, tmp_path / "rebuilt")
    with open(os.path.join(spool, "events.jsonl"), "rb") as handle:
        assert rebuilt["events.jsonl"] == handle.read()
    assert steps_in(rebuilt["events.jsonl"]) == list(range(1, 401))
    run = load_run(str(tmp_path / "rebuilt"))
    assert run.status == "finished" and run.config == {"lr": 0.1}
    assert held["artifacts/weights.bin"] == bytes(range(256)) * 64
    media = [record for record in map(json.loads, rebuilt["events.jsonl"].splitlines()) if record["type"] == "media"]
    assert len(media) == 1 and media[0]["file"] in held  # the media record's file went with it
    start = next(record for record in map(json.loads, rebuilt["events.jsonl"].splitlines())
                 if record["type"] == "start")
    assert start["heartbeat_interval_s"] == 2 * UPLOAD_INTERVAL_S  # the crash rule reads it (docs/format.md)
    no_credentials_in(held, [spool], backend_bucket.secrets)


@pytest.mark.parametrize("backend_bucket", BACKENDS, indirect=True)
def test_a_killed_run_leaves_its_points_up_to_the_last_upload_then_tracker_sync_uploads_the_rest(store, backend_bucket,
                                                                                                 tmp_path):
    fs, bucket, env, _ = store
    url = env["TRACKER_DIR"]
    process, run_id, spool = start_training(store, steps=100_000, pause=0.002)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the store holds some closed segments and an open one
        names = [name for name in objects(fs, bucket, run_id) if name.startswith("events.jsonl.segments/")]
        if len(names) >= 3 and any(name.endswith(".open") for name in names):
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    killed_at = time.time()
    held = objects(fs, bucket, run_id)
    rebuilt = rebuild(held, tmp_path / "rebuilt")["events.jsonl"]
    with open(os.path.join(spool, "events.jsonl"), "rb") as handle:
        spooled = handle.read()
    assert rebuilt.endswith(b"\n") and spooled.startswith(rebuilt)  # what was uploaded, whole lines
    uploaded_steps = steps_in(rebuilt)
    assert uploaded_steps == list(range(1, len(uploaded_steps) + 1)) and len(uploaded_steps) > 50
    heartbeat = json.loads(held[next(name for name in held if name.startswith("heartbeat-"))])
    assert killed_at - heartbeat["time"] < 3 * UPLOAD_INTERVAL_S + 2
    assert load_run(str(tmp_path / "rebuilt"), now=heartbeat["time"] + 1).status == "running"
    assert load_run(str(tmp_path / "rebuilt"), now=heartbeat["time"] + 3 * 2 * UPLOAD_INTERVAL_S + 3).status \
        == "crashed"

    synced = subprocess.run([sys.executable, "-m", "tracker.cli", "sync", "--keep"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith(f"tracker: synced {run_id} to {url}: ")
    held = objects(fs, bucket, run_id)
    assert not any(name.endswith(".open") for name in held)
    whole = spooled[:spooled.rfind(b"\n") + 1]  # a line torn by the kill is not uploaded
    assert rebuild(held, tmp_path / "synced")["events.jsonl"] == whole
    assert len(steps_in(whole)) >= len(uploaded_steps)
    stale = json.loads(held[next(name for name in held if name.startswith("heartbeat-"))])["time"] + 5
    assert load_run(str(tmp_path / "synced"), now=stale).status == "crashed"  # no end record: still crashed
    time.sleep(max(0.0, stale - time.time()))
    listed = subprocess.run([sys.executable, "-m", "tracker.cli", "ls", "--runs", url],
                            env=dict(env, TRACKER_CACHE_DIR=str(tmp_path / "cache")), capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[2:4] for line in listed.stdout.splitlines() if line.startswith(run_id)] == \
        [["store", "crashed"]]  # as the reader of the store sees it
    with open(os.path.join(cache_folder(url, str(tmp_path / "cache")), "runs", run_id, "events.jsonl"), "rb") as cached:
        assert cached.read() == whole  # the store's cache rebuilt the events file from this backend's listing
    no_credentials_in(held, [spool, tmp_path / "cache"], backend_bucket.secrets)


def test_a_store_that_goes_down_mid_run_loses_nothing(store, s3_server, tmp_path):
    fs, bucket, env, script = store
    # botocore retries a refused connection for about 7 s before s3fs gives up: one attempt, so
    # that this outage of 2 s is one the uploader sees
    env["AWS_MAX_ATTEMPTS"] = "1"
    process, run_id, spool = start_training(store, steps=1500, pause=0.002)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not objects(fs, bucket, run_id).keys() & {"events.jsonl.segments/"
                                                                                     "0000000000000000"}:
        time.sleep(0.1)
    s3_server.stop()
    try:
        time.sleep(2.0)  # the script logs on meanwhile: several upload intervals
        assert process.poll() is None, "the script should still be logging"
    finally:
        s3_server.start()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err.count(f"cannot upload run {run_id} to s3://{bucket}/team") == 1  # one warning, not one a retry
    assert "not completely uploaded" not in err
    rebuilt = rebuild(objects(fs, bucket, run_id), tmp_path / "rebuilt")["events.jsonl"]
    with open(os.path.join(spool, "events.jsonl"), "rb") as handle:
        assert rebuilt == handle.read()
    assert steps_in(rebuilt) == list(range(1, 1501))


def test_finish_waits_a_bounded_time_and_names_the_command_that_uploads_the_rest(store, tmp_path):
    fs, bucket, env, script = store
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on: the store cannot be reached
    unreachable = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed.getsockname()[1]}", TRACKER_UPLOAD_WAIT_S="2")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script), "200", "0"], env=unreachable, cwd=script.parent,
                          capture_output=True, text=True, timeout=120)
    closed.close()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    run_id, spool = done.stdout.split()[1:3]
    assert f"tracker: run {run_id} is not completely uploaded to s3://{bucket}/team after 2 s: " in done.stderr
    assert f"Upload them later with: tracker sync {spool}" in done.stderr

    synced = subprocess.run([sys.executable, "-m", "tracker.cli", "sync", spool], env=dict(env, TRACKER_KEEP_SPOOL=""),
                            capture_output=True, text=True, timeout=120)
    assert synced.returncode == 0, synced.stderr
    assert not os.path.exists(spool)  # uploaded, so taken out of the spool
    rebuilt = rebuild(objects(fs, bucket, run_id), tmp_path / "rebuilt")["events.jsonl"]
    assert steps_in(rebuilt) == list(range(1, 201))
    assert load_run(str(tmp_path / "rebuilt")).status == "finished"


def test_tracker_sync_leaves_a_run_that_is_still_logging_to_its_uploader(tmp_path, monkeypatch):
    from tracker.cli import main

    folder = tmp_path / "spool" / "20261129-000000-abcdefgh"
    folder.mkdir(parents=True)
    (folder / ".tracker-store.json").write_text(json.dumps({"store": "memory://runs", "run": folder.name}))
    (folder / "events.jsonl").write_text('{"type":"run","id":"20261129-000000-abcdefgh"}\n')
    (folder / "heartbeat-abcdefgh.json").write_text('{"writer":"abcdefgh","time":0}')
    monkeypatch.setenv("TRACKER_SPOOL", str(tmp_path / "no-spool-yet"))
    assert main(["sync"]) == 0  # nothing to sync
    monkeypatch.setenv("TRACKER_SPOOL", str(tmp_path / "spool"))
    assert main(["sync"]) == 0
    assert (folder / "events.jsonl").exists()  # left alone

    (folder / "events.jsonl").write_text('{"type":"run"}\n{"type":"end","status":"finished"}\n')
    assert main(["sync", folder.name]) == 0  # its writer ended: synced (to memory://) and removed
    assert not folder.exists()


def test_a_store_whose_backend_is_not_installed_is_refused_before_anything_is_created(tmp_path, monkeypatch):
    import tracker
    import tracker.store_backends
    from tracker.errors import UsageError

    monkeypatch.setitem(tracker.store_backends.BACKEND_MODULES, "nosuch", "tracker_test_no_such_backend")
    monkeypatch.setenv("TRACKER_SPOOL", str(tmp_path / "spool"))
    with pytest.raises(UsageError, match=r"^dir 'nosuch://bucket/runs' needs tracker_test_no_such_backend, which is "
                                         r"not installed: pip install fsspec tracker_test_no_such_backend$"):
        tracker.init(dir="nosuch://key:secret@bucket/runs", capture=False)
    assert not (tmp_path / "spool").exists()


def test_a_run_resumed_into_a_store_whose_spool_is_gone_keeps_its_config_tags_and_steps(store, tmp_path, monkeypatch):
    """The run's first writer finished and left the spool (or ran on another machine): the resume
    reads the run back from the store, as a local resume reads its folder."""
    import tracker
    from tracker.store_cache import StoreCache

    fs, bucket, env, _ = store
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                 "TRACKER_SPOOL"):
        monkeypatch.setenv(name, env[name])
    url = env["TRACKER_DIR"]
    first = tracker.init(project="store", name="first", config={"lr": 0.1}, tags=["baseline"], dir=url,
                         capture=False)
    for step in range(5):
        first.log({"loss": 1.0 / (step + 1)})
    first.finish()
    assert not os.path.exists(first.path)  # uploaded, so gone from the spool

    resumed = tracker.init(id=first.id, resume=True, dir=url, capture=False)
    assert (resumed.project, resumed.name, resumed.config) == ("store", "first", {"lr": 0.1})
    resumed.config["epochs"] = 3
    resumed.log({"loss": 0.1})  # no step given: the one after the run's last
    resumed.finish()

    cache = StoreCache(url, folder=str(tmp_path / "cache"))
    cache.sync()
    run = load_run(os.path.join(cache.runs_folder, first.id))
    assert (run.project, run.name, run.status) == ("store", "first", "finished")
    assert run.config == {"lr": 0.1, "epochs": 3} and run.tags == ["baseline"]
    assert run.histories["loss"].steps == [0, 1, 2, 3, 4, 5]
    assert [writer.status for writer in run.writers] == ["finished", "finished"]


def test_a_resume_into_a_store_that_does_not_answer_warns_and_training_goes_on(store, tmp_path):
    _, _, env, _ = store
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    script = tmp_path / "resume.py"
    script.write_text("import tracker\n"
                      "run = tracker.init(id='20261129-000000-resumed', resume=True, config={'lr': 0.2}, capture=False)\n"
                      "run.log({'loss': 1.0})\n"
                      "print(run.path)\n")
    # one attempt: botocore's retries of a refused connection take seconds
    unreachable = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed.getsockname()[1]}", AWS_MAX_ATTEMPTS="1",
                       TRACKER_UPLOAD_WAIT_S="0.5")
    done = subprocess.run([sys.executable, str(script)], env=unreachable, capture_output=True, text=True, timeout=120)
    closed.close()
    assert done.returncode == 0, done.stderr
    url = env["TRACKER_DIR"]
    assert re.search(rf"RuntimeWarning: tracker: cannot read run 20261129-000000-resumed back from {url} \(.+\); "
                     r"what it logged before, if anything, is not carried over \(config, tags, last step\)\. "
                     r"Training continues", done.stderr), done.stderr
    spooled = load_run(done.stdout.strip())
    assert spooled.config == {"lr": 0.2} and spooled.histories["loss"].steps == [0]
