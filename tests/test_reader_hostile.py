"""Issue 11, section 3: one bad record or run never stops a read. Each example of the issue: the
reader reports the problem naming file, line and key, skips it, and reads the rest."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import msgspec
import pytest

import tracker
from tracker.listing import LISTING_FILE, list_runs
from tracker.listing_cache import LISTING_FORMAT
from tracker.reader import load_run, scan
from test_site_support import append_record, log_run, run_cli

T0 = 1_790_000_000.0


def write_run(root, name: str, *records: dict, extra: bytes = b"") -> str:
    """A run folder written by hand: a run record, a start, the given records, ``extra`` bytes."""
    path = os.path.join(root, name)
    os.makedirs(path, exist_ok=True)
    head = [{"type": "run", "schema": 1, "id": name, "project": "p", "name": name, "time": T0},
            {"type": "start", "writer": "w0", "time": T0, "pid": 1, "host": "h"}]
    with open(os.path.join(path, "events.jsonl"), "wb") as handle:
        for record in head + list(records):
            handle.write(json.dumps(record).encode() + b"\n")
        handle.write(extra)
    return path


def good_run(root) -> str:
    return log_run(root, "good", config={"lr": 0.1}, metrics=[{"loss": 1.0}, {"loss": 0.5}])


def read_everything(runs) -> tuple[list, list[str]]:
    """Every reader the issue names, on ``runs``; (tracker.runs() result, warning messages)."""
    with pytest.warns(UserWarning) as caught:
        loaded = tracker.runs(runs)
    listed = list_runs(runs)
    assert sorted(row["id"] for row in listed.rows) == sorted(run.id for run in loaded)
    code, stdout, stderr = run_cli("ls", "--runs", str(runs))
    assert code == 0, stderr
    return loaded, [str(warning.message) for warning in caught]


def test_invalid_utf8_line_is_skipped_naming_file_and_line(tmp_path):
    good_run(tmp_path)
    path = write_run(tmp_path, "latin1", {"type": "metrics", "step": 0, "time": T0, "values": {"loss": 2.0}},
                     extra=b'{"type": "notes", "text": "caf\xe9"}\n')
    loaded, messages = read_everything(tmp_path)
    assert sorted(run.name for run in loaded) == ["good", "latin1"]
    events = os.path.join(path, "events.jsonl")
    assert f"tracker: {events}:4: not UTF-8 (byte 0xe9 at column 31); skipped" in messages
    assert load_run(path).summary == {"loss": 2.0}


def test_a_utf16_events_file_is_reported_once_and_not_as_a_torn_line(tmp_path):
    good_run(tmp_path)
    path = write_run(tmp_path, "wide", {"type": "metrics", "step": 0, "time": T0, "values": {"loss": 2.0}})
    records = [{"type": "start", "writer": "w1", "time": T0 + 5}, {"type": "config", "time": T0 + 6, "values": {"x": 1}}]
    with open(os.path.join(path, "events-w1.jsonl"), "wb") as handle:  # as PowerShell's > writes it
        handle.write("".join(json.dumps(record) + "\n" for record in records).encode("utf-16"))
    loaded, messages = read_everything(tmp_path)
    assert [run.summary for run in loaded if run.name == "wide"] == [{"loss": 2.0}]
    wide = [message for message in messages if "events-w1.jsonl" in message]
    assert wide == [f"tracker: {path}/events-w1.jsonl:1: not UTF-8 text (UTF-16 or UTF-32?); file skipped"]
    assert not any("torn" in message for message in messages)


def test_a_run_with_only_a_utf16_file_is_unreadable_and_the_others_are_read(tmp_path):
    good_run(tmp_path)
    os.makedirs(tmp_path / "wide")
    (tmp_path / "wide" / "events.jsonl").write_bytes(
        (json.dumps({"type": "run", "id": "wide", "time": T0}) + "\n").encode("utf-16-le"))
    code, stdout, stderr = run_cli("ls", "--runs", str(tmp_path))
    assert code == 0 and "good" in stdout
    assert f"tracker: warning: skipped unreadable run {tmp_path / 'wide'}: no readable 'run' or 'start' record" in stderr


# (record, the problem it must produce) for a field of the wrong type in every record type.
MISTYPED = [
    ({"type": "tags", "add": 5}, "tags.add is int, expected a list of strings; record skipped"),
    ({"type": "tags", "add": ["ok"], "remove": [1]}, "tags.remove is list, expected a list of strings; record skipped"),
    ({"type": "metrics", "step": 1, "time": "noon", "values": {"loss": 9.0}},
     "metrics.time is str, expected a unix time in seconds (0 to 1e+11); record skipped"),
    ({"type": "metrics", "step": 1, "time": [T0], "values": {"loss": 9.0}}, "metrics.time is list"),
    ({"type": "metrics", "step": 1, "time": 1e30, "values": {"loss": 9.0}}, "metrics.time is float 1e+30"),
    ({"type": "metrics", "step": "1", "time": T0, "values": {"loss": 9.0}}, "metrics.step is str, expected an integer"),
    ({"type": "metrics", "step": 1, "time": T0, "values": [9.0]}, "metrics.values is list, expected an object"),
    ({"type": "metrics", "step": 1, "time": T0, "values": {"loss": "high"}},
     "metrics.values.loss is str, expected a number; value dropped"),
    ({"type": "system", "step": 0, "time": "x", "values": {"cpu_percent": 1}}, "system.time is str"),
    ({"type": "hardware", "gpus": 2, "cpu_count_logical": 8}, "hardware.gpus is int, expected a list of objects; field dropped"),
    ({"type": "git", "remote_url": 42, "commit": "abc"}, "git.remote_url is int, expected a string; field dropped"),
    ({"type": "code", "command": "python train.py"}, "code.command is str, expected a list of strings; field dropped"),
    ({"type": "environment", "packages": ["numpy"]}, "environment.packages is list, expected an object of strings"),
    ({"type": "dataset", "name": ["train"], "path": 3, "size_bytes": "big", "rows": -1, "columns": {"a": 1}},
     "dataset.name is list, expected a string; field dropped"),
    ({"type": "artifact", "name": {"x": 1}, "size_bytes": "1 MB", "sha256": 7}, "artifact.size_bytes is str"),
    ({"type": "config", "values": "lr=0.1"}, "config.values is str, expected an object; record skipped"),
    ({"type": "summary", "values": None}, "summary.values is null, expected an object; record skipped"),
    ({"type": "notes", "text": ["a"]}, "notes.text is list, expected a string; record skipped"),
    ({"type": "notes"}, "notes.text is missing, expected a string; record skipped"),
    ({"type": "run", "name": 5, "time": T0}, "run.name is int, expected a string; field dropped"),
    ({"type": "start", "writer": "w9", "time": T0, "heartbeat_interval_s": "2"}, "start.heartbeat_interval_s is str"),
    ({"type": "end", "writer": "w0", "time": T0 + 9, "status": 1}, "end.status is int, expected a string; field dropped"),
]


@pytest.mark.parametrize("record, problem", MISTYPED, ids=lambda value: value.get("type") if isinstance(value, dict) else "")
def test_a_field_of_the_wrong_type_is_reported_with_file_line_and_key(tmp_path, record, problem):
    good_run(tmp_path)
    path = write_run(tmp_path, "typo", {"type": "metrics", "step": 0, "time": T0 + 1, "values": {"loss": 2.0}}, record)
    loaded, messages = read_everything(tmp_path)
    assert sorted(run.name for run in loaded) == ["good", "typo"]
    assert any(message.startswith(f"tracker: {path}/events.jsonl:4: {problem}") for message in messages), messages
    run = load_run(path)
    assert run.summary["loss"] == 2.0 and run.tags == [] and run.notes == ""
    code, stdout, stderr = run_cli("show", "typo", "--runs", str(tmp_path))  # every section of show
    assert code == 0, stderr
    assert "Warnings while reading:" in stdout and problem.split(";")[0] in stdout


def test_show_lists_datasets_and_artifacts_whose_fields_had_the_wrong_type(tmp_path):
    write_run(tmp_path, "data",
              {"type": "dataset", "name": "train", "path": ["x"], "size_bytes": "9", "rows": 10, "sha256": 5},
              {"type": "artifact", "name": "model.pt", "path": "artifacts/model.pt", "size_bytes": -3})
    code, stdout, stderr = run_cli("show", "data", "--runs", str(tmp_path))
    assert code == 0, stderr
    datasets = stdout.split("Datasets:")[1].splitlines()[3]
    assert datasets.split() == ["train", "-", "10", "-"] or datasets.split()[0] == "train"
    assert "model.pt" in stdout.split("Artifacts:")[1]
    assert "dataset.path is list, expected a string; field dropped" in stdout


def test_end_before_start_reads_as_ended_at_start_naming_the_file(tmp_path):
    path = write_run(tmp_path, "clock", {"type": "end", "writer": "w0", "time": T0 - 3600, "status": "finished"})
    loaded, messages = read_everything(tmp_path)
    [run] = loaded
    assert (run.status, run.duration_s) == ("finished", 0.0)
    assert f"tracker: {path}/events.jsonl:3: end.time is before its writer's start; the start time is used" in messages
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 0, stderr


def test_a_time_of_1e30_is_dropped_and_the_site_builds(tmp_path):
    good_run(tmp_path / "runs")
    write_run(tmp_path / "runs", "far", {"type": "metrics", "step": 0, "time": 1e30, "values": {"loss": 1.0}},
              {"type": "run", "id": "far", "name": "far", "time": 1e30},
              {"type": "end", "writer": "w0", "time": 1e30, "status": "finished"})
    loaded, messages = read_everything(tmp_path / "runs")
    assert sorted(run.name for run in loaded) == ["far", "good"]
    assert sum("1e+30" in message for message in messages) == 3
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "site"))
    assert code == 0 and stdout.startswith("built 2 runs"), stderr


def nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_config_nested_hundreds_deep_drops_that_key_and_the_site_builds(tmp_path):
    runs = tmp_path / "runs"
    path = write_run(runs, "deep", {"type": "config", "time": T0, "values": {"lr": 0.1, "model": nested(300)}},
                     {"type": "git", "time": T0, "commit": "abc", "extra": nested(300)})
    with open(os.path.join(path, "events.jsonl"), "ab") as handle:  # deeper than the JSON parser allows
        handle.write(b'{"type": "notes", "text": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    loaded, messages = read_everything(runs)
    assert loaded[0].config == {"lr": 0.1}
    assert f"tracker: {path}/events.jsonl:3: config.values.model is nested deeper than 64 levels; key dropped" in messages
    assert f"tracker: {path}/events.jsonl:4: git.extra is nested deeper than 64 levels; field dropped" in messages
    assert f"tracker: {path}/events.jsonl:5: JSON nested too deep to parse; skipped" in messages
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "site"))
    assert code == 0, stderr


def test_a_symlink_loop_among_run_folders_is_reported_and_the_rest_read(tmp_path):
    good_run(tmp_path)
    os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
    os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
    os.symlink(tmp_path, tmp_path / "self")  # a link to the runs folder itself: a folder of runs, not a run
    result = scan(tmp_path)
    assert [run.name for run in result.runs] == ["good"]
    assert sorted(result.errors)[:2] == [(str(tmp_path / "loop-a"), "cannot open (Too many levels of symbolic links)"),
                                         (str(tmp_path / "loop-b"), "cannot open (Too many levels of symbolic links)")]
    assert [path for path, _ in result.errors[2:]] == [str(tmp_path / "self" / os.path.basename(result.runs[0].path))]
    code, stdout, stderr = run_cli("ls", "--runs", str(tmp_path))
    assert code == 0 and "good" in stdout and stderr.count("Too many levels of symbolic links") == 2


def test_a_fifo_named_like_an_events_file_is_skipped_without_blocking(tmp_path):
    runs = tmp_path / "runs"
    path = good_run(runs)
    os.mkfifo(os.path.join(path, "events-w2.jsonl"))
    os.makedirs(runs / "only-fifo")
    os.mkfifo(runs / "only-fifo" / "events.jsonl")
    os.mkfifo(os.path.join(path, "heartbeat-w2.json"))
    # A reader that opened the FIFO would wait forever for a writer: run it where it can be killed.
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "ls", "--runs", str(runs)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "good" in done.stdout
    assert f"{path}/events-w2.jsonl: not a regular file (a FIFO or device?); skipped" in done.stderr
    assert f"skipped unreadable run {runs / 'only-fifo'}: no readable 'run' or 'start' record" in done.stderr


def test_a_listing_cache_entry_missing_a_field_is_read_again(tmp_path):
    path = good_run(tmp_path)
    code, stdout, _ = run_cli("ls", "--runs", str(tmp_path))
    assert code == 0
    header, block = (tmp_path / LISTING_FILE).read_bytes().split(b"\n", 1)  # (listing_cache.py)
    entry = list(msgspec.msgpack.decode(block[:json.loads(header)["bulk"]])[0])
    assert entry[0] == os.path.basename(path)
    del entry[2]["summary"]
    entry[2]["tags"] = "not a list"
    (tmp_path / LISTING_FILE).write_text(f'{{"format":{LISTING_FORMAT},"bulk":0}}\n\n{json.dumps(entry)}\n')
    for _ in range(2):
        code, again, stderr = run_cli("ls", "--runs", str(tmp_path))
        assert (code, again, stderr) == (0, stdout, "")
    header, block = (tmp_path / LISTING_FILE).read_bytes().split(b"\n", 1)  # rewritten: the run's entry whole
    assert "summary" in msgspec.msgpack.decode(block[:json.loads(header)["bulk"]])[0][2]


def test_unreadable_run_path_is_named_once(tmp_path):
    good_run(tmp_path)
    os.makedirs(tmp_path / "empty")
    (tmp_path / "empty" / "events.jsonl").write_text("\n")
    code, stdout, stderr = run_cli("ls", "--runs", str(tmp_path))
    assert stderr == f"tracker: warning: skipped unreadable run {tmp_path / 'empty'}: no readable 'run' or 'start' record\n"


def test_a_run_nested_inside_another_run_folder_is_reported(tmp_path):
    outer = good_run(tmp_path)
    shutil.copytree(outer, os.path.join(outer, "inner-copy"))
    os.makedirs(tmp_path / "group")
    shutil.copytree(outer, tmp_path / "group" / "lost", ignore=shutil.ignore_patterns("inner-copy"))
    artifact = os.path.join(outer, "artifacts", "old-run")  # an artifact that holds a run is not a nested run
    shutil.copytree(tmp_path / "group" / "lost", artifact)
    result = scan(tmp_path)
    assert [run.name for run in result.runs] == ["good"]
    assert sorted(result.errors) == sorted([
        (os.path.join(outer, "inner-copy"),
         f"a run folder inside run folder {outer}; not read (move it into the runs folder)"),
        (str(tmp_path / "group" / "lost"),
         f"a run folder inside {tmp_path / 'group'}, which is not a run folder; not read (move it into the runs folder)"),
    ])
    code, stdout, stderr = run_cli("ls", "--runs", str(tmp_path))
    assert code == 0 and stderr.count("a run folder inside") == 2
    site = tmp_path.parent / f"{tmp_path.name}-site"
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path), "--out", str(site))
    assert code == 0
    index = (site / "data" / "index.js").read_text(encoding="utf-8")
    start = index.index("TrackerData.index=") + len("TrackerData.index=")
    unreadable = json.loads(index[start:index.rindex(";")])["unreadable"]
    assert sorted((entry["path"], entry["reason"]) for entry in unreadable) == [
        (os.path.join(os.path.basename(outer), "inner-copy"),
         f"a run folder inside run folder {os.path.basename(outer)}; not read (move it into the runs folder)"),
        (os.path.join("group", "lost"),
         "a run folder inside group, which is not a run folder; not read (move it into the runs folder)"),
    ]
    assert str(tmp_path) not in index


LIST_AS_OTHER_USER = """
import json, sys
from tracker.listing import list_runs
listing = list_runs(sys.argv[1])
print(json.dumps({"ids": [row["id"] for row in listing.rows], "errors": listing.errors}))
"""


def test_a_run_folder_the_reader_cannot_open_is_reported():
    # root reads every folder whatever its mode: read as the unprivileged user "nobody" then.
    as_other_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    if as_other_user and not shutil.which("setpriv"):
        pytest.fail("running as root needs setpriv (util-linux) to read as another user")
    runs = tempfile.mkdtemp(prefix="tracker-perm-")
    try:
        os.chmod(runs, 0o777)
        good = write_run(runs, "good")
        closed = write_run(runs, "closed")
        for folder, _, files in os.walk(runs):
            os.chmod(folder, 0o777)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o666)
        os.chmod(closed, 0)
        done = subprocess.run([*as_other_user, sys.executable, "-c", LIST_AS_OTHER_USER, runs], capture_output=True,
                              text=True, timeout=60, cwd=runs, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"ids": [os.path.basename(good)],
                                           "errors": [[closed, "cannot open (Permission denied)"]]}
    finally:
        os.chmod(os.path.join(runs, "closed"), 0o777)
        shutil.rmtree(runs)


def test_a_run_folder_deleted_between_listing_and_reading_is_reported(tmp_path):
    good_run(tmp_path)
    path = write_run(tmp_path, "gone")
    append_record(path, {"type": "notes", "text": "x"})
    shutil.rmtree(path)
    os.makedirs(path)  # a folder with no events file is simply not a run
    assert [run.name for run in tracker.runs(tmp_path)] == ["good"]
