"""The last build's folder stamps checked by a forked child (sitegen/stamp_checks.py): the same keys
as the build's own checks give, whatever changed in the runs folder and wherever the child's and the
build's checks meet; a child killed leaves the rest of the checks to the build; the child never holds
the build's lock; and ``tracker build``
run as a process, which checks through the child, rebuilds the site a full build makes."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from sitegen.discover import discover
from sitegen.folder_stamps import FolderStamps
from sitegen.output_lock import locked_output
from sitegen.stamp_checks import fork_checks, stamps_checked_aside
from test_folder_stamps import CHANGES, make_run, stamped, trusted_times  # noqa: F401 (the fixture, used below)
from test_incremental_build import site_bytes
from test_site_support import append_record, log_run
from tracker.run_keys import RACY_S, stamp_holds

# the runs of a test are stamped though just made; a thread an earlier module left does not refuse the fork
pytestmark = pytest.mark.usefixtures("trusted_times", "threads_of_this_test")


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_childs_verdicts_give_the_keys_a_full_read_gives(tmp_path, change):
    root = tmp_path / "runs"
    make_run(root, "a")
    make_run(root, "b", ["events.jsonl", "files/notes.txt"])
    make_run(root, "c")
    last = [dict(reversed(stamped(root).current[0].items()))]  # as a file with lines appended: not by name
    CHANGES[change](root)
    stamps = FolderStamps(last)
    checks = fork_checks(stamps, [str(root)])
    assert checks is not None
    expected = bytes(stamp_holds(os.path.join(root, name), stamp[3:]) for name, stamp in last[0].items())
    found = discover([str(root)], stamps, checks)
    assert checks.verdicts() is None  # taken by discovery, once
    in_process = FolderStamps(last)
    read_whole, checked_here = discover([str(root)]), discover([str(root)], in_process)
    assert (found.keys, found.folders) == (read_whole.keys, read_whole.folders) == (checked_here.keys, checked_here.folders)
    # the same stamps in the same order: the stamps file is written from them
    assert list(stamps.current[0].items()) == list(in_process.current[0].items())
    assert expected.count(0) >= 1 or change == "a folder added"


@pytest.mark.parametrize("chunk", [1, 3, 256])
def test_the_verdicts_are_a_byte_a_stamp_in_the_stamps_order(tmp_path, monkeypatch, chunk):
    """Whatever stretches the child and the build check, and wherever they meet."""
    monkeypatch.setattr("sitegen.stamp_checks.CHUNK", chunk)
    root = tmp_path / "runs"
    for name in ("a", "b", "c", "d"):
        make_run(root, name)
    last = stamped(root).current
    (root / "b" / "events.jsonl").open("a").write('{"type": "tags"}\n')
    shutil.rmtree(root / "d")
    checks = fork_checks(FolderStamps(last), [str(root)])
    assert checks.verdicts() == [bytes([1, 0, 1, 0])]


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_the_stretches_meet_across_runs_folders(tmp_path, monkeypatch, chunk):
    """A stretch checked ends inside one runs folder or at its end: each folder still gets a byte a stamp."""
    monkeypatch.setattr("sitegen.stamp_checks.CHUNK", chunk)
    first, second = tmp_path / "one", tmp_path / "two"
    for root, names in ((first, "abc"), (second, "de")):
        for name in names:
            make_run(root, name)
    last = [stamped(first).current[0], stamped(second).current[0]]
    (first / "b" / "events.jsonl").open("a").write('{"type": "tags"}\n')
    (second / "e" / "events.jsonl").open("a").write('{"type": "tags"}\n')
    checks = fork_checks(FolderStamps(last), [str(first), str(second)])
    assert checks.verdicts() == [bytes([1, 0, 1]), bytes([1, 0])]


def test_a_child_killed_before_it_ends_leaves_the_rest_of_the_checks_to_the_build(tmp_path):
    root = tmp_path / "runs"
    for name in ("a", "b"):
        make_run(root, name)
    last = stamped(root).current
    (root / "a" / "events.jsonl").open("a").write('{"type": "tags"}\n')
    # stamps of folders that are gone besides: enough checks that the kill comes before the child ends
    stamps = FolderStamps([last[0] | {f"gone-{n}": (0, f"gone-{n}", "k", [["", 1]], [["events.jsonl", 1, 1]])
                                      for n in range(200000)}])
    checks = fork_checks(stamps, [str(root)])
    os.kill(checks.pid, signal.SIGKILL)
    found = discover([str(root)], stamps, checks)
    assert checks.own > 0  # the stamps the child did not get to
    assert found.keys == discover([str(root)]).keys
    assert list(stamps.current[0]) == ["b", "a"]  # "b" held, "a" read and stamped again
    assert checks.verdicts() is None  # taken, once


def test_no_child_where_the_build_does_not_own_its_process_or_has_no_stamps(tmp_path):
    root = tmp_path / "runs"
    make_run(root, "a")
    last = stamped(root).current
    with stamps_checked_aside(FolderStamps(last), [str(root)], allowed=False) as checks:
        assert checks is None
    with stamps_checked_aside(FolderStamps(), [str(root)], allowed=True) as checks:
        assert checks is None


CHILD_OUTLIVES_ITS_BUILD = """
import os, sys
from sitegen.folder_stamps import FolderStamps
from sitegen.output_lock import locked_output
from sitegen.stamp_checks import fork_checks
out = sys.argv[1]
# stamps of folders that do not exist: each check a failed stat, enough of them to take the child a while
stamps = FolderStamps([{f"n{i}": (0, f"n{i}", "k", [["", 1]], [["events.jsonl", 1, 1]]) for i in range(400000)}])
with locked_output(out):
    checks = fork_checks(stamps, [out + "-runs"])
    print(checks.pid, flush=True)
    os.kill(os.getpid(), 9)  # the build killed while its child checks
"""


def test_a_killed_builds_lock_is_free_while_its_child_still_checks(tmp_path):
    out = str(tmp_path / "site")
    done = subprocess.run([sys.executable, "-c", CHILD_OUTLIVES_ITS_BUILD, out], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    child = int(done.stdout)
    os.kill(child, 0)  # still checking (else this test shows nothing): raises when it is gone
    with locked_output(out):  # raises SiteLockedError if the child held the lock
        pass
    for _ in range(100):  # it ends on its own once it finds no one to answer
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)


REPORT = re.compile(r"built (\d+) runs? \((\d+) re-rendered, (\d+) unchanged\)")
# tracker build as its own process, each fork it makes said on stderr
TRACKER_BUILD_COUNTING_FORKS = """
import os, sys
fork = os.fork
def counted_fork():
    pid = fork()
    if pid:
        os.write(2, b"forked a child\\n")
    return pid
os.fork = counted_fork
sys.argv = ["tracker", "build", "--runs", sys.argv[1], "--out", sys.argv[2]]
from tracker.cli import main
sys.exit(main())
"""


def tracker_build(runs, site) -> tuple[str, int]:
    """tracker build's first line, and how many children it forked."""
    done = subprocess.run([sys.executable, "-c", TRACKER_BUILD_COUNTING_FORKS, str(runs), str(site)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0], done.stderr.count("forked a child")


def test_tracker_build_as_a_process_rebuilds_through_the_child_the_site_a_full_build_makes(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", config={"lr": 0.1 * n}, metrics=[{"loss": 1.0 / (n + 1)}]) for n in range(6)]
    time.sleep(RACY_S + 0.5)  # the folders' times are older than RACY_S: the build stamps them
    assert tracker_build(runs, site)[1] == 0  # no stamps to check yet
    append_record(paths[2], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01}})
    shutil.rmtree(paths[4])
    with open(os.path.join(paths[5], "events-w1.jsonl"), "w") as handle:  # a second writer's file
        handle.write("")
    log_run(runs, "run-new", config={"lr": 0.9}, metrics=[{"loss": 0.3}])
    line, forks = tracker_build(runs, site)
    assert REPORT.match(line).groups() == ("6", "3", "3") and forks == 1
    shutil.copytree(runs, tmp_path / "runs-copy")
    tracker_build(tmp_path / "runs-copy", tmp_path / "full")
    assert site_bytes(site) == site_bytes(tmp_path / "full")
