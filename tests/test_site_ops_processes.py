"""Site builds and ``tracker serve`` as processes: one build per output folder at a time, a killed
build leaves no worker behind, servers stop under a burst of signals, the watcher outlives a failed
rebuild. Real subprocesses, real signals, real worker processes (seen through psutil)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

import sitegen.run_pages
from sitegen.output_lock import locked_output
from scripts import script_env
from test_serve import http_json, poll
from test_site_support import log_run, run_cli

TRACKER = [sys.executable, "-m", "tracker.cli"]
RUNS = 3 * sitegen.run_pages.PARALLEL_MIN_RUNS  # enough to render on worker processes


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("many")
    for number in range(RUNS):
        log_run(root, f"sweep-{number}", config={"lr": 0.01 * (number + 1)},
                metrics=[{"loss": 1.0 / (step + 1), "acc": step / 300} for step in range(300)])
    return root


def start_build(runs, site) -> subprocess.Popen:
    return subprocess.Popen(TRACKER + ["build", "--runs", str(runs), "--out", str(site), "--full"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=script_env())


def workers_of(process: subprocess.Popen, at_least: int) -> list[psutil.Process]:
    """The build's process tree once it has ``at_least`` processes: its workers (forked: tracker
    build runs no thread of its own when it starts them; see tracker/parallel.py).
    Looked at every 10 ms: a build of these runs keeps its workers for a few tenths of a second."""
    parent = psutil.Process(process.pid)

    def tree() -> list[psutil.Process] | None:
        children = parent.children(recursive=True)
        return children if len(children) >= at_least else None

    return poll(tree, 30, f"{at_least} worker processes of the build", interval=0.01)


def survivors(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [process for process in processes if process.is_running() and process.status() != psutil.STATUS_ZOMBIE]


def leftovers(site) -> list[str]:
    return sorted(name for name in os.listdir(site.parent) if name.startswith(f".{site.name}."))


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_leaves_no_worker_and_the_next_build_cleans_up(many_runs, tmp_path, kill):
    site = tmp_path / "site"
    build = start_build(many_runs, site)
    tree = workers_of(build, 2)
    build.send_signal(kill)
    assert build.wait(timeout=10) == -kill
    assert poll(lambda: not survivors(tree), 10, "every worker to exit after the build was killed")
    assert f".site.building-{build.pid}" in leftovers(site)

    code, stdout, stderr = run_cli("build", "--runs", str(many_runs), "--out", str(site))
    assert code == 0, stderr
    assert stdout.startswith(f"built {RUNS} runs;") and leftovers(site) == []


HOLD_AND_FORK = """
import os, sys, time
from sitegen.output_lock import locked_output
with locked_output(sys.argv[1]):
    if os.fork() == 0:  # a worker, which outlives its build for a while
        time.sleep(60)
        os._exit(0)
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_process_forked_by_a_build_killed_with_sigkill_does_not_hold_its_lock(tmp_path):
    """A build's forked workers outlive a SIGKILL of the build by up to half a second: a copy of the
    lock's descriptor in them would turn the next build away meanwhile."""
    site = str(tmp_path / "site")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_FORK, site], stdout=subprocess.PIPE, text=True,
                              env=script_env())
    forked: list[psutil.Process] = []
    try:
        assert holder.stdout.readline() == "locked\n"
        forked += psutil.Process(holder.pid).children()
        holder.kill()
        holder.wait(timeout=10)
        assert forked and forked[0].is_running()
        with locked_output(site):  # SiteLockedError if the forked copy still held the lock
            pass
    finally:
        for process in [holder, *forked]:
            process.kill()


def test_a_second_build_into_the_same_folder_fails_at_once_naming_the_first(many_runs, tmp_path):
    site = tmp_path / "site"
    first = start_build(many_runs, site)
    workers_of(first, 2)  # mid-build, holding the lock
    code, stdout, stderr = run_cli("build", "--runs", str(many_runs), "--out", str(site))
    assert (code, stdout) == (2, "")
    assert stderr == (f"tracker: error: another build is writing to {site} (pid {first.pid}); wait for it to "
                      "finish, or choose another --out\n")
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert leftovers(site) == [] and (site / "index.html").is_file()


def test_builds_started_together_never_fail_on_each_others_files(many_runs, tmp_path):
    site = tmp_path / "site"
    assert run_cli("build", "--runs", str(many_runs), "--out", str(site))[0] == 0
    builds = [start_build(many_runs, site) for _ in range(4)]
    results = [(build.wait(timeout=180), build.stderr.read()) for build in builds]
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:  # each one either built the site or was turned away by the lock
        assert code == 0 or stderr.startswith(f"tracker: error: another build is writing to {site} (pid "), stderr
    assert leftovers(site) == []
    code, stdout, _ = run_cli("build", "--runs", str(many_runs), "--out", str(site))
    assert code == 0 and f"({RUNS} unchanged)" in stdout.replace("0 re-rendered, ", "")


def free_ports(count: int) -> list[int]:
    """``count`` different free ports (all probed at once: one probe at a time may get one port twice)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def start_server(runs, out, log_path, *extra, port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or free_ports(1)[0]
    log = open(log_path, "w")
    process = subprocess.Popen(TRACKER + ["serve", "--runs", str(runs), "--port", str(port), "--out", str(out),
                                          *extra], stdout=log, stderr=subprocess.STDOUT, text=True, env=script_env())
    return process, f"http://127.0.0.1:{port}/"


def test_a_burst_of_signals_stops_ten_servers_promptly(tmp_path):
    runs = tmp_path / "runs"
    log_run(runs, "one", metrics=[{"loss": 0.5}])
    servers = [start_server(runs, tmp_path / f"site-{n}", tmp_path / f"serve-{n}.out", port=port)
               for n, port in enumerate(free_ports(10))]
    try:
        for process, base in servers:
            poll(lambda: process.poll() is not None or http_json(base + "__tracker_live/version"), 60, "a server")
            assert process.poll() is None
        # Two shell loops per server, each sending 800 signals as fast as it can: many land while
        # the stop handler of an earlier one runs (before the fix, 1 to 2 servers of 10 hung).
        senders = [subprocess.Popen(["bash", "-c", f"for i in $(seq 400); do kill -TERM {process.pid} || exit; "
                                                   f"kill -INT {process.pid} || exit; done"], stderr=subprocess.DEVNULL)
                   for process, _ in servers for _ in range(2)]
        deadline = time.monotonic() + 15
        codes = [process.wait(timeout=max(0.1, deadline - time.monotonic())) for process, _ in servers]
        for sender in senders:
            sender.wait(timeout=30)
    finally:
        for process, _ in servers:
            if process.poll() is None:
                process.kill()
    assert codes == [0] * 10
    for number in range(10):
        output = (tmp_path / f"serve-{number}.out").read_text()
        assert output.endswith("stopped\n") and "Traceback" not in output, output


def test_the_watcher_reports_a_failed_rebuild_in_one_line_and_keeps_rebuilding(many_runs, tmp_path):
    runs, theme = tmp_path / "runs", tmp_path / "theme" / "templates"
    shutil.copytree(many_runs, runs)
    theme.mkdir(parents=True)
    good = '{% extends "base.html" %}\n{% block content %}<h1 id="marker">{{ run.name }}</h1>{% endblock %}\n'
    (theme / "run.html").write_text(good)
    serve, _ = start_server(runs, tmp_path / "site", tmp_path / "serve.out", "--theme", str(theme.parent))
    output = lambda: (tmp_path / "serve.out").read_text()  # noqa: E731
    lines = lambda prefix: [line for line in output().splitlines() if line.startswith(prefix)]  # noqa: E731
    folders = sorted(path for path in runs.iterdir() if path.is_dir())

    def touch_every_run(step: int) -> None:
        for folder in folders:
            with open(folder / "events.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"type": "metrics", "time": 2e9, "step": step, "values": {"loss": 0.1}}) + "\n")

    try:
        poll(lambda: lines("built "), 60, "the first build")
        # A template error, then a worker process that dies mid-rebuild (as the out-of-memory
        # killer ends one): neither may end the watcher.
        (theme / "run.html").write_text(good.replace("{{ run.name }}", "{{ run.no_such_field }}"))
        touch_every_run(1000)
        poll(lambda: lines("tracker: warning: rebuild failed: "), 60, "the first failed rebuild")
        (theme / "run.html").write_text(good.replace("{{ run.name }}", "{{ cycler.__init__.__globals__.os._exit(3) }}"))
        touch_every_run(1001)
        poll(lambda: len(lines("tracker: warning: rebuild failed: ")) == 2, 60, "the second failed rebuild")
        (theme / "run.html").write_text(good)
        touch_every_run(1002)
        poll(lambda: len(lines("built ")) == 2, 60, "a rebuild after the template was fixed")
        assert serve.poll() is None
    except BaseException:
        print(f"tracker serve's output so far:\n{output()}")  # shown with the failure: what it did or did not say
        raise
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    failures = lines("tracker: warning: rebuild failed: ")
    assert "run.html:2: UndefinedError" in failures[0] and "BrokenProcessPool" in failures[1], failures
    assert "Traceback" not in output()
    page = tmp_path / "site" / "runs" / folders[0].name / "index.html"
    assert '<h1 id="marker">sweep-' in page.read_text()
