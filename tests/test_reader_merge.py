"""Issue 11, sections 2 and 4 on the reader side: a resumed run's later writes win by time, whatever
the file names; a run folder copied under another name is one run."""
from __future__ import annotations

import json
import os
import shutil

import pytest

import tracker
from tracker.listing import list_runs
from tracker.reader import load_run, scan
from scripts import run_script
from test_site_support import log_run, run_cli

T0 = 1_790_000_000.0

FIRST = """
import sys, tracker
run = tracker.init(project="p", id="resumed-1", name="first-name", dir=sys.argv[1], capture=False,
                   config={"lr": 0.1, "batch": 32}, notes="first notes", tags=["kept", "dropped"])
run.summary["best"] = 1.0
run.log({"loss": 1.0})
run.finish()
"""

SECOND = """
import sys, tracker
run = tracker.init(id="resumed-1", resume=True, dir=sys.argv[1], capture=False, config={"lr": 0.2},
                   notes="second notes", tags=["added"])
run.summary["best"] = 2.0
run.log({"loss": 0.5})
run.finish()
"""


def test_a_resumed_process_wins_over_the_first_for_config_notes_and_summary(tmp_path):
    runs = str(tmp_path / "runs")
    for script in (FIRST, SECOND):
        done = run_script(tmp_path, script, runs)
        assert done.returncode == 0, done.stderr
    path = os.path.join(runs, "resumed-1")
    assert len([name for name in os.listdir(path) if name.startswith("events")]) == 2
    run = load_run(path)
    assert run.config == {"lr": 0.2, "batch": 32}
    assert run.notes == "second notes"
    assert run.summary == {"loss": 0.5, "best": 2.0}
    assert run.tags == ["kept", "dropped", "added"]
    assert (run.name, run.status, run.history("loss").steps) == ("first-name", "finished", [0, 1])
    [row] = list_runs(runs).rows
    assert (row["config"], row["notes"], row["summary"]) == (run.config, run.notes, run.summary)


def write(path: str, name: str, *records: dict) -> None:
    with open(os.path.join(path, name), "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)


def test_records_merge_by_time_across_files_not_by_file_name(tmp_path):
    # events-a.jsonl sorts before events-z.jsonl; the times say the opposite.
    path = str(tmp_path / "r")
    os.makedirs(path)
    write(path, "events.jsonl", {"type": "run", "id": "r", "name": "r", "time": T0},
          {"type": "start", "writer": "main", "time": T0}, {"type": "end", "writer": "main", "time": T0 + 1})
    write(path, "events-z.jsonl", {"type": "start", "writer": "z", "time": T0 + 10},
          {"type": "config", "time": T0 + 11, "values": {"lr": "older"}},
          {"type": "tags", "add": ["x", "y"]},              # no time: that of the record before it (T0 + 11)
          {"type": "notes", "text": "older"},
          {"type": "end", "writer": "z", "time": T0 + 12})
    write(path, "events-a.jsonl", {"type": "start", "writer": "a", "time": T0 + 20},
          {"type": "config", "time": T0 + 21, "values": {"lr": "newer"}},
          {"type": "tags", "remove": ["x"]},
          {"type": "notes", "text": "newer"},
          {"type": "summary", "time": T0 + 22, "values": {"best": "NaN"}},
          {"type": "end", "writer": "a", "time": T0 + 23})
    run = load_run(path)
    assert (run.config, run.tags, run.notes) == ({"lr": "newer"}, ["y"], "newer")
    assert str(run.summary["best"]) == "nan"


def test_equal_times_keep_file_order_and_line_order(tmp_path):
    path = str(tmp_path / "r")
    os.makedirs(path)
    write(path, "events.jsonl", {"type": "run", "id": "r", "time": T0},
          {"type": "config", "time": T0, "values": {"a": 1}}, {"type": "config", "time": T0, "values": {"a": 2}})
    write(path, "events-w.jsonl", {"type": "start", "writer": "w", "time": T0},
          {"type": "config", "time": T0, "values": {"a": 3, "b": 1}})
    assert load_run(path).config == {"a": 3, "b": 1}  # the creating process's file first, then the others


def copy_run(runs, name: str) -> tuple[str, str]:
    """A run and a copy of its folder named ``<id>-copy``: (original, copy)."""
    original = log_run(runs, name, config={"lr": 0.1}, metrics=[{"loss": 1.0}])
    copy = f"{original}-copy"
    shutil.copytree(original, copy)
    return original, copy


def test_a_run_folder_copied_under_another_name_is_one_run(tmp_path):
    runs = tmp_path / "runs"
    original, copy = copy_run(runs, "base")
    run_id = os.path.basename(original)
    expected = f"run {run_id} is also in {copy}; skipped that copy, read {original}"
    with pytest.warns(UserWarning, match="is also in") as caught:
        assert [run.path for run in tracker.runs(runs)] == [original]
    assert [str(warning.message) for warning in caught] == [f"tracker: {expected}"]
    listing = list_runs(runs)
    assert ([row["path"] for row in listing.rows], listing.copies) == ([original], [(run_id, original, copy)])
    code, stdout, stderr = run_cli("ls", "--runs", str(runs))
    assert code == 0 and stdout.count(run_id) == 1
    assert stderr == f"tracker: warning: {expected}\n"


def test_the_folder_named_like_the_id_wins_even_when_it_sorts_later(tmp_path):
    runs = tmp_path / "runs"
    original = log_run(runs, "base", metrics=[{"loss": 1.0}])
    early = os.path.join(runs, "0-early-copy")
    shutil.copytree(original, early)
    result = scan(runs)
    assert [run.path for run in result.runs] == [original]
    assert result.copies == [(os.path.basename(original), original, early)]


def test_the_same_run_in_two_runs_folders_is_read_from_the_first(tmp_path):
    original = log_run(tmp_path / "a", "base", metrics=[{"loss": 1.0}])
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    result = scan(tmp_path / "b", tmp_path / "a")
    assert [run.path for run in result.runs] == [str(tmp_path / "b" / os.path.basename(original))]
    code, stdout, stderr = run_cli("ls", "--runs", str(tmp_path / "b"), "--runs", str(tmp_path / "a"), "--json")
    assert [json.loads(line)["path"] for line in stdout.splitlines()] == [result.runs[0].path]


def test_show_accepts_a_folder_name(tmp_path):
    runs = tmp_path / "runs"
    original = log_run(runs, "renamed", metrics=[{"loss": 1.0}])
    os.rename(original, os.path.join(runs, "my-folder"))
    code, stdout, stderr = run_cli("show", "my-folder", "--runs", str(runs))
    assert code == 0, stderr
    assert f"  id        {os.path.basename(original)}" in stdout.splitlines()


def test_show_of_a_skipped_copy_shows_the_run_it_copies(tmp_path):
    runs = tmp_path / "runs"
    original, copy = copy_run(runs, "base")
    code, stdout, stderr = run_cli("show", os.path.basename(copy), "--runs", str(runs))
    assert code == 0, stderr
    assert f"  folder    {original}" in stdout.splitlines()
