"""The writer keeps its promises against bad values, SIGKILL, full disks and deleted folders.

Everything here is real: subprocesses killed with SIGKILL, a file size limit (RLIMIT_FSIZE) that
makes write() stop part-way as a full disk does, /dev/full, and rmtree of a live run folder.
"""
import json
import os
import pathlib
import signal
import struct
import subprocess
import sys
import time

import pytest

from tracker.reader import load_run
from tracker.writer import RecordWriter
from tests.scripts import read_lines, run_script, script_env, write_script


def records_of(path) -> list[dict]:
    """Every line of an events file, parsed: a torn or corrupt line fails the test here."""
    return [json.loads(line) for line in read_lines(path)]


# -- one bad record costs only itself -------------------------------------------------------


def test_a_record_that_cannot_be_encoded_costs_only_itself(tmp_path):
    events = tmp_path / "events.jsonl"
    writer = RecordWriter(str(events), str(tmp_path / "heartbeat.json"), "w1", flush_interval_s=60)
    writer.put({"type": "start", "writer": "w1", "time": 1.0})
    for step in range(5):
        writer.put_metrics(step, 2.0, {"loss": 0.5})
    writer.put_metrics(5, 2.0, {"loss": 0.5, "huge": 10**5000})  # no text form: over 4,300 digits
    writer.put({"type": "config", "time": 3.0, "values": {"data": os.fsdecode(b"caf\xe9.csv")}})
    writer.put({"type": "hardware", "cpu_count_logical": 8})
    writer.put_metrics(6, 4.0, {"loss": 0.25})
    writer.put({"type": "end", "writer": "w1", "time": 5.0, "status": "finished", "error": None})
    with pytest.warns(RuntimeWarning) as caught:
        writer.close()
    records = records_of(events)
    assert [record["type"] for record in records] == (
        ["start"] + ["metrics"] * 5 + ["config", "hardware", "metrics", "end"])
    assert [record["step"] for record in records if record["type"] == "metrics"] == [0, 1, 2, 3, 4, 6]
    # The surrogate (byte 0xE9 of a Latin-1 file name) survives as the text \\udce9 (6 characters), as values.safe_text writes it.
    assert records[6]["values"] == {"data": "caf\\udce9.csv"}
    messages = [str(warning.message) for warning in caught]
    assert any("dropped a metrics record" in message and "step 5, key 'huge'" in message for message in messages)
    assert any("config record" in message and "field 'values.data'" in message for message in messages)


def test_a_non_utf8_command_line_argument_loses_no_step(tmp_path):
    # The example: argv[1] is not UTF-8, so sys.argv holds a lone surrogate that capture records.
    script = write_script(tmp_path, """
        import sys, tracker
        run = tracker.init(project="p", dir=sys.argv[2])
        for step in range(200):
            run.log({"loss": 1.0 / (step + 1)})
        run.finish()
    """)
    result = subprocess.run([sys.executable.encode(), script.encode(), b"caf\xe9.csv", str(tmp_path / "runs").encode()],
                            capture_output=True, env=script_env(), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    [run_folder] = (tmp_path / "runs").iterdir()
    run = load_run(str(run_folder))
    assert run.status == "finished"
    assert run.history("loss").steps == list(range(200))
    assert run.code is not None and "caf" in run.code["command_line"]


# -- SIGKILL loses at most the flush interval -------------------------------------------------

TIGHT_LOOP = """
import mmap, struct, sys, time, tracker
root, progress, width, max_steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(progress, "r+b") as handle:  # shared with the test: survives the SIGKILL
    shared = mmap.mmap(handle.fileno(), 8 + 8 * max_steps)
run = tracker.init(dir=root, capture=False)
values = {f"metric_{index}": 0.5 for index in range(width)}
step = 0
while step < max_steps:
    logged_at = time.time()
    run.log(values, step=step)
    struct.pack_into("d", shared, 8 + 8 * step, logged_at)  # when each acknowledged step was logged
    struct.pack_into("q", shared, 0, step)  # the last acknowledged step
    step += 1
"""
FLUSH_INTERVAL_S = 0.5
SLACK_S = 0.5  # the writer's wake-up, the GIL switch interval and a loaded machine
MAX_STEPS = 4_000_000


@pytest.mark.parametrize("width", [20, 100])
def test_sigkill_loses_at_most_the_flush_interval_in_a_tight_loop(tmp_path, width):
    progress = tmp_path / "progress"
    with open(progress, "wb") as handle:
        handle.truncate(8 + 8 * MAX_STEPS)
    script = write_script(tmp_path, TIGHT_LOOP)
    child = subprocess.Popen([sys.executable, script, str(tmp_path / "runs"), str(progress), str(width), str(MAX_STEPS)],
                             env=script_env(TRACKER_FLUSH_INTERVAL_S=str(FLUSH_INTERVAL_S)), cwd=tmp_path)
    time.sleep(4)  # long enough for a writer without time-based backpressure to fall seconds behind
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    shared = progress.read_bytes()
    last_acknowledged = struct.unpack_from("q", shared, 0)[0]
    [run_folder] = (tmp_path / "runs").iterdir()
    lines = read_lines(run_folder / "events.jsonl")
    complete = lines if lines[-1].endswith("}") else lines[:-1]  # SIGKILL may tear the last line
    steps = [json.loads(line)["step"] for line in complete if line.startswith('{"type":"metrics"')]
    assert steps == list(range(len(steps))) and len(steps) > 1000
    # The logging lost: from the first acknowledged step not on disk to the last acknowledged one.
    # (Time log() spent waiting for the writer is not logging: nothing was acknowledged then.)
    lost_s = 0.0
    if last_acknowledged >= len(steps):
        first_lost_at, last_acknowledged_at = (struct.unpack_from("d", shared, 8 + 8 * step)[0]
                                               for step in (len(steps), last_acknowledged))
        lost_s = last_acknowledged_at - first_lost_at
    assert lost_s <= FLUSH_INTERVAL_S + SLACK_S, (
        f"lost {lost_s:.2f} s of acknowledged steps ({len(steps)} on disk, {last_acknowledged + 1} acknowledged)")


# -- a full disk: nothing written twice, no torn line, memory bounded ----------------------------

FILLING_DISK = """
import os, resource, signal, sys, time, tracker
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit write() then fails with EFBIG
run = tracker.init(project="p", dir=sys.argv[1], capture=False)
events = os.path.join(run.path, "events.jsonl")
step = 0
def log_for(seconds):
    global step
    until = time.time() + seconds
    while time.time() < until:
        run.log({"loss": 1.0 / (step + 1), "padding": 123456.789})
        if step % 250 == 0:
            run.summary["at_" + str(step)] = step
        step += 1
        time.sleep(0.0005)
log_for(0.5)
# "The disk fills up": at most 5,000 more bytes, so the next flush is cut off part-way.
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(events) + 5000, resource.RLIM_INFINITY))
log_for(1.5)
full_at = os.path.getsize(events)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # space freed
log_for(0.5)
run.finish()
print(step, full_at)
"""


def test_a_disk_that_fills_mid_write_loses_nothing_and_writes_nothing_twice(tmp_path):
    result = run_script(tmp_path, FILLING_DISK, str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("the disk is full") == 1
    steps_logged, size_when_full = map(int, result.stdout.split())
    [run_folder] = (tmp_path / "runs").iterdir()
    events = run_folder / "events.jsonl"
    assert size_when_full < os.path.getsize(events)
    records = records_of(events)  # every line parses: the cut-off line was completed, not torn
    steps = [record["step"] for record in records if record["type"] == "metrics"]
    assert steps == list(range(steps_logged))  # each step exactly once, in order
    summaries = [key for record in records if record["type"] == "summary" for key in record["values"]]
    assert summaries == [f"at_{step}" for step in range(0, steps_logged, 250)]
    assert [record["type"] for record in records].count("end") == 1
    run = load_run(str(run_folder))
    assert run.status == "finished" and run.warnings == []


def test_while_the_disk_refuses_memory_is_bounded_and_the_oldest_metrics_go_first(tmp_path):
    events = tmp_path / "events.jsonl"
    events.symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    writer = RecordWriter(str(events), str(tmp_path / "heartbeat.json"), "w1", flush_interval_s=0.05,
                          max_unwritten_bytes=50_000)
    values = {f"metric_{index}": 0.5 for index in range(10)}  # about 240 bytes a line
    with pytest.warns(RuntimeWarning) as caught:
        writer.put({"type": "config", "time": 1.0, "values": {"lr": 0.1}})
        for step in range(2000):
            writer.put_metrics(step, 2.0, values)
            if step % 100 == 0:
                time.sleep(0.06)  # let the writer try (and fail) many times
                assert writer._unwritten.size_bytes <= 50_000 + 100 * 300  # the bound, plus one batch
        writer.put({"type": "end", "writer": "w1", "time": 3.0, "status": "finished", "error": None})
        time.sleep(0.2)
        freed = tmp_path / "freed.jsonl"
        freed.write_text("")
        os.replace(freed, events)  # space again
        writer.close()
    messages = " ".join(str(warning.message) for warning in caught)
    assert "the disk is full" in messages and "dropping the oldest metrics" in messages
    records = records_of(events)
    assert records[0] == {"type": "config", "time": 1.0, "values": {"lr": 0.1}}
    assert records[-1]["type"] == "end"
    steps = [record["step"] for record in records if record["type"] == "metrics"]
    assert steps == list(range(steps[0], 2000)) and 0 < steps[0] and len(steps) * 240 <= 50_000 + 100 * 300


def test_a_batch_larger_than_the_bound_keeps_its_newest_metrics(tmp_path):
    """While writes fail the loop runs ahead, so one batch may hold more than the bound: only its
    oldest metrics go, as many as the excess, and the newest stay (they did all go, found by the
    full-disk benchmark)."""
    events = tmp_path / "events.jsonl"
    events.symlink_to("/dev/full")
    writer = RecordWriter(str(events), str(tmp_path / "heartbeat.json"), "w1", flush_interval_s=0.2,
                          max_unwritten_bytes=50_000)
    values = {f"metric_{index}": 0.5 for index in range(10)}
    with pytest.warns(RuntimeWarning) as caught:
        writer.put({"type": "config", "time": 1.0, "values": {"lr": 0.1}})
        for step in range(2000):  # about 480 KB, ten times the bound, put within a flush interval
            writer.put_metrics(step, 2.0, values)
        writer.put({"type": "end", "writer": "w1", "time": 3.0, "status": "finished", "error": None})
        time.sleep(0.6)  # the writer takes the batch, fails and sheds
        freed = tmp_path / "freed.jsonl"
        freed.write_text("")
        os.replace(freed, events)
        writer.close()
    assert "dropping the oldest metrics" in " ".join(str(warning.message) for warning in caught)
    records = records_of(events)
    assert records[0]["type"] == "config" and records[-1]["type"] == "end"
    steps = [record["step"] for record in records if record["type"] == "metrics"]
    assert steps == list(range(steps[0], 2000)) and 150 <= len(steps) <= 50_000 // 200


# -- a run folder deleted mid-run ----------------------------------------------------------------


def test_a_run_folder_deleted_mid_run_gives_one_warning_and_a_readable_run(tmp_path):
    result = run_script(tmp_path, """
        import shutil, sys, time, tracker
        run = tracker.init(project="p", name="deleted", dir=sys.argv[1], config={"lr": 0.1}, capture=False)
        run.log({"x": 0})
        time.sleep(0.5)
        shutil.rmtree(run.path)
        for step in range(1, 100):
            run.log({"x": step})
            time.sleep(0.005)
        run.finish()
    """, str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("RuntimeWarning") == 1 and "the run folder has vanished" in result.stderr
    [run_folder] = (tmp_path / "runs").iterdir()
    run = load_run(str(run_folder))
    assert (run.name, run.project, run.status) == ("deleted", "p", "finished")
    assert run.history("x").steps == list(range(1, 100))  # what was logged after the deletion
    types = [record["type"] for record in records_of(run_folder / "events.jsonl")]
    assert types[:2] == ["run", "start"] and types[-1] == "end"
