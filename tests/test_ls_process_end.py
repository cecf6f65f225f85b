"""``tracker ls`` run as a process ends it once its output is flushed (cli.end_process), rather
than free its rows: the same output, warnings and exit code as the command run in-process, and
a reader that closes the pipe early still sees the command fail."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from test_site_support import append_record, make_runs, run_cli

LS_ARGUMENTS = [[], ["--json"], ["--group-by", "project"], ["--group-by", "project", "--json"],
                ["--filter", "lr>100"], ["--sort=-loss", "--columns", "lr,loss"]]


def tracker_process(*argv: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker.cli", *argv], capture_output=True, text=True, **options)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ls-process") / "runs"
    paths = make_runs(root)
    append_record(paths["baseline"], {"type": "metrics", "step": 99})  # no values: a warning each listing
    return root


@pytest.mark.parametrize("arguments", LS_ARGUMENTS, ids=lambda arguments: " ".join(arguments) or "table")
def test_ls_as_a_process_prints_what_it_prints_in_process(runs, arguments):
    in_process = run_cli("ls", "--runs", str(runs), *arguments)
    done = tracker_process("ls", "--runs", str(runs), *arguments)
    assert (done.returncode, done.stdout, done.stderr) == in_process
    assert done.stdout.strip()


def test_ls_into_a_pipe_closed_early_fails(tmp_path):
    # notes of 4 MB: more than a pipe holds, so the command is still writing when its reader leaves
    run = tmp_path / "runs" / "long-notes"
    run.mkdir(parents=True)
    (run / "events.jsonl").write_text(json.dumps({"type": "run", "schema": 1, "id": "long-notes", "project": "p",
                                                  "name": "long-notes", "time": 1_790_000_000.0}) + "\n"
                                      + json.dumps({"type": "notes", "text": "n" * 4_000_000}) + "\n")
    process = subprocess.Popen([sys.executable, "-m", "tracker.cli", "ls", "--json", "--runs", str(tmp_path / "runs")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.read(10) == b'{"id": "lo'
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "tracker: error: [Errno 32] Broken pipe" in stderr
