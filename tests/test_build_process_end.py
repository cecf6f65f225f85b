"""``tracker build`` run as a process ends it once the site is written and its output flushed
(cli.end_process), rather than free what the build made: the same lines and exit code as the
command run in-process, the same files, no lock file or staging folder left beside the site,
and a rebuild after it still incremental."""
from __future__ import annotations

import re
import subprocess
import sys
import time

from sitegen.folder_stamps import STAMPS_FILE
from sitegen.manifest import MANIFEST_FILE
from tracker.run_keys import RACY_S
from test_incremental_build import site_bytes
from test_site_support import append_record, make_runs, run_cli

SECONDS = re.compile(r" in \d+\.\ds$", re.MULTILINE)  # the one part of the output that differs between builds


def tracker_process(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker.cli", *argv], capture_output=True, text=True)


def test_build_as_a_process_writes_and_prints_what_it_does_in_process(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # both builds say the same "built" minute
    runs = tmp_path / "runs"
    paths = make_runs(runs)
    time.sleep(RACY_S)  # both builds stamp every folder (one changed within RACY_S is not stamped)
    code, out, err = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "in-process"))
    done = tracker_process("build", "--runs", str(runs), "--out", str(tmp_path / "process"))
    assert done.returncode == code == 0
    assert SECONDS.sub("", done.stdout) == SECONDS.sub("", out).replace("in-process", "process")
    assert done.stderr == err and "skipped unreadable run" in err  # the corrupt run's warning, flushed
    assert_same_site(tmp_path / "process", tmp_path / "in-process")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in-process", "process", "runs"]  # no lock, no staging

    append_record(paths["fast"], {"type": "metrics", "step": 10, "loss": 0.1})
    time.sleep(RACY_S)
    run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "in-process"))
    done = tracker_process("build", "--runs", str(runs), "--out", str(tmp_path / "process"))
    assert done.returncode == 0
    assert re.match(r"built 6 runs \(1 re-rendered, 5 unchanged\)", done.stdout)
    assert_same_site(tmp_path / "process", tmp_path / "in-process")


def assert_same_site(site, expected) -> None:
    """Every file the same, the manifest and stamps written last by the build included."""
    assert site_bytes(site) == site_bytes(expected)
    for name in (MANIFEST_FILE, STAMPS_FILE):
        assert (site / name).read_bytes() == (expected / name).read_bytes(), name


def test_a_build_that_fails_as_a_process_says_why_with_its_exit_code(tmp_path):
    (tmp_path / "runs").mkdir()
    done = tracker_process("build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "site"))
    assert done.returncode == 2
    assert done.stderr.startswith("tracker: error: no readable runs in ")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["runs"]


def test_source_date_epoch_pins_the_built_time_and_a_bad_value_is_named(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    make_runs(runs)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "site"))[0] == 0
    assert "· built 2026-01-01 00:00" in (tmp_path / "site" / "index.html").read_text("utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "other"))
    assert code == 2
    assert "SOURCE_DATE_EPOCH='yesterday' is not a whole number of seconds" in err
