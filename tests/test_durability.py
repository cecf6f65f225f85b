"""Runs survive what happens to real processes: SIGKILL, SIGTERM, crashes, concurrency, bad disks."""
import json
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from tracker import runs
from tracker.reader import load_run, scan
from tests.scripts import read_lines, run_script, script_env, start_script

SLOW_LOGGER = """
import sys, time, tracker
run = tracker.init(project="p", name="slow", dir=sys.argv[1], capture=False)
print(run.path, flush=True)
step = 0
while True:
    run.log({"loss": 1.0 / (step + 1)})
    print(step, flush=True)
    step += 1
    time.sleep(0.01)
"""


def all_events(run_path) -> list[dict]:
    lines = []
    for file in sorted(pathlib.Path(run_path).glob("events*.jsonl")):
        lines += [json.loads(line) for line in read_lines(file)]
    return lines


def test_sigkilled_process_leaves_a_crashed_run_with_data_up_to_last_flush(tmp_path):
    process = start_script(tmp_path, SLOW_LOGGER, str(tmp_path / "runs"))
    run_path = process.stdout.readline().strip()
    time.sleep(1.5)
    assert load_run(run_path).status == "running"
    process.send_signal(signal.SIGKILL)
    printed = process.communicate()[0].split()
    last_logged = int(printed[-1])
    record = load_run(run_path)
    steps = record.history("loss").steps
    assert steps == list(range(len(steps))), "points lost in the middle or out of order"
    # Flush interval 0.2 s at ~100 steps/s: at most ~20 steps (plus scheduling slack) may be lost.
    assert last_logged - steps[-1] <= 40, (last_logged, steps[-1])
    stale_after = record.writers[0].stale_after_s()
    assert load_run(run_path, now=time.time() + stale_after + 1).status == "crashed"


def test_sigterm_is_recorded(tmp_path):
    process = start_script(tmp_path, SLOW_LOGGER, str(tmp_path / "runs"))
    run_path = process.stdout.readline().strip()
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    assert process.returncode == -signal.SIGTERM
    record = load_run(run_path)
    assert record.status == "terminated"
    assert len(record.history("loss")) > 10


def test_uncaught_exception_outside_with_marks_failed(tmp_path):
    result = run_script(tmp_path, """
        import sys, tracker
        run = tracker.init(dir=sys.argv[1], capture=False)
        run.log({"x": 1})
        raise ValueError("bad batch shape")
    """, str(tmp_path / "runs"))
    assert result.returncode == 1 and "ValueError: bad batch shape" in result.stderr
    [record] = runs(tmp_path / "runs")
    assert record.status == "failed" and "ValueError: bad batch shape" in record.error


def test_script_that_never_calls_finish_is_finished_at_exit(tmp_path):
    result = run_script(tmp_path, """
        import sys, tracker
        tracker.init(dir=sys.argv[1], capture=False)
        for i in range(1000):
            tracker.log({"x": i})
    """, str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    [record] = runs(tmp_path / "runs")
    assert record.status == "finished" and len(record.history("x")) == 1000


CONCURRENT_LOGGER = """
import sys, tracker
root, count, run_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kwargs = {"id": run_id, "resume": True} if run_id != "-" else {}
run = tracker.init(project="c", dir=root, capture=False, **kwargs)
payload = "x" * 300  # long lines make interleaving visible if writes were not whole
for i in range(count):
    run.log({"loss": float(i), "rank_marker": float(len(payload))})
    if i % 500 == 0:
        run.summary["note_" + str(i)] = payload
run.finish()
"""


def _start_many(tmp_path, processes: int, count: int, run_id: str) -> None:
    script = pathlib.Path(tmp_path, "concurrent.py")
    script.write_text(CONCURRENT_LOGGER)
    children = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "runs"), str(count), run_id],
                                 env=script_env(TRACKER_FLUSH_INTERVAL_S="0.01"), stderr=subprocess.PIPE, text=True)
                for _ in range(processes)]
    for child in children:
        assert child.wait(timeout=120) == 0, child.stderr.read()


def test_eight_processes_into_one_root_leave_no_torn_line(tmp_path):
    _start_many(tmp_path, 8, 3000, "-")
    result = scan(tmp_path / "runs")
    assert not result.errors and len(result.runs) == 8
    for record in result.runs:
        assert record.warnings == []
        assert record.history("loss").values == [float(i) for i in range(3000)]
        assert record.status == "finished"


def test_four_processes_into_one_run_leave_no_torn_or_interleaved_line(tmp_path):
    import tracker

    first = tracker.init(project="c", dir=tmp_path / "runs", capture=False)
    first.finish()
    _start_many(tmp_path, 4, 3000, first.id)
    lines = all_events(first.path)  # json.loads on every line: a torn line would raise here
    assert sum(1 for line in lines if line["type"] == "metrics") == 4 * 3000
    record = load_run(first.path)
    assert record.warnings == [] and len(record.history("loss")) == 12000
    assert len(record.writers) == 5 and record.status == "finished"


def test_torn_last_line_is_skipped_with_a_warning_and_appends_resume_cleanly(tmp_path):
    import tracker

    run = tracker.init(dir=tmp_path, capture=False)
    run.log({"x": 1})
    run.finish()
    events = pathlib.Path(run.path, "events.jsonl")
    with open(events, "a") as handle:
        handle.write('{"type":"metrics","step":5,"time":1.0,"val')
    with pytest.warns(UserWarning, match=r"events.jsonl:\d+: torn last line"):
        record = load_run(run.path)
    assert record.history("x").values == [1] and record.status == "finished"
    # A process appending after a torn line starts a fresh line instead of gluing onto it.
    from tracker.writer import RecordWriter

    writer = RecordWriter(str(events), str(pathlib.Path(run.path, "heartbeat-extra.json")), "extra")
    writer.put({"type": "summary", "time": 2.0, "values": {"after": 1}})
    writer.close()
    with pytest.warns(UserWarning, match=r"events.jsonl:5: corrupt line"):  # no longer the last line
        assert load_run(run.path).summary["after"] == 1


SABOTAGE = {
    "vanished folder": ("shutil.rmtree(run.path)", "the run folder has vanished"),
    # /dev/full answers every write with ENOSPC: a real full disk, without filling one.
    "full disk": ("events = os.path.join(run.path, 'events.jsonl'); os.remove(events); os.symlink('/dev/full', events)",
                  "the disk is full"),
}


@pytest.mark.parametrize("trouble", SABOTAGE)
def test_trouble_with_the_disk_mid_run_warns_once_and_the_script_goes_on(tmp_path, trouble):
    sabotage, message = SABOTAGE[trouble]
    result = run_script(tmp_path, """
        import os, shutil, sys, time, tracker
        run = tracker.init(dir=sys.argv[1], capture=False)
        run.log({"x": 1})
        time.sleep(0.5)
        %s
        for i in range(200):
            run.log({"x": i})
            time.sleep(0.005)
        run.finish()
        print("training finished")
    """ % sabotage, str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert "training finished" in result.stdout
    assert result.stderr.count(message) == 1


def test_unreadable_run_folder_is_reported_and_others_still_load(tmp_path):
    import tracker

    with tracker.init(dir=tmp_path, name="good", capture=False) as good:
        good.log({"x": 1})
    broken = tmp_path / "20260101-000000-broken00"
    broken.mkdir()
    (broken / "events.jsonl").write_text("not json at all\n{also broken\n")
    with pytest.warns(UserWarning):
        result = scan(tmp_path)
    assert [run.name for run in result.runs] == ["good"]
    assert result.errors and result.errors[0][0] == str(broken)


def test_corrupt_line_in_the_middle_and_unknown_records_are_tolerated(tmp_path):
    folder = tmp_path / "r1"
    folder.mkdir()
    (folder / "events.jsonl").write_text("\n".join([
        '{"type":"run","schema":1,"id":"r1","project":"p","name":"n","time":100,"future_field":1}',
        '{"type":"metrics","step":0,"time":101,"values":{"a":1}}',
        '{"type":"metrics","step":1,"ti',
        '{"type":"hologram","payload":[1,2,3]}',
        '{"type":"metrics","step":2,"time":102,"values":{"a":3},"new":"field"}',
        '{"type":"end","status":"finished","time":103}',
    ]) + "\n")
    with pytest.warns(UserWarning, match=r"events.jsonl:3: corrupt line"):
        record = load_run(str(folder))
    assert record.history("a").values == [1, 3] and record.status == "finished"
    assert record.warnings and "events.jsonl:3" in record.warnings[0]


def test_a_loop_faster_than_the_disk_loses_nothing_at_finish(tmp_path):
    # Backpressure keeps memory bounded and finish() waits while the writer makes progress.
    from tracker.writer import MAX_PENDING_RECORDS
    import tracker

    count = MAX_PENDING_RECORDS + 50_000
    values = {f"m{index}": 0.5 for index in range(10)}
    run = tracker.init(dir=tmp_path, capture=False)
    for _ in range(count):
        run.log(values)
    run.finish()
    lines = read_lines(pathlib.Path(run.path, "events.jsonl"))
    assert sum(1 for line in lines if line.startswith('{"type":"metrics"')) == count
