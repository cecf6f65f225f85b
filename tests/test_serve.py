"""``tracker serve`` for real: a server subprocess, training subprocesses logging into it, Chromium watching."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from scripts import script_env, start_script

TRAIN = """
import os, sys, time
import tracker

run = tracker.init(project="live", name=sys.argv[1], dir=sys.argv[2], capture=False)
for step in range(int(sys.argv[3])):
    run.log({"loss": 1.0 / (step + 1)}, step=step)
    time.sleep(0.2)
# A test checks the page while the run is still running: the run finishes when the test says so,
# however slowly a loaded machine ran the steps.
release = sys.argv[4] if len(sys.argv) > 4 else None
while release and not os.path.exists(release):
    time.sleep(0.05)
run.finish()
"""
LIVE_ENV = {"TRACKER_FLUSH_INTERVAL_S": "0.2", "TRACKER_HEARTBEAT_INTERVAL_S": "0.5"}
TRACKER = [sys.executable, "-m", "tracker.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def poll(check, timeout: float, what: str, interval: float = 0.1):
    """Call ``check`` every ``interval`` seconds until it returns something truthy; fail naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:  # noqa: BLE001 - a page mid-reload or a server still starting
            result = None
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def http_json(url: str):
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


def start_training(folder, runs, name: str, steps: int, release=None) -> subprocess.Popen:
    """A training script logging ``steps`` steps; with ``release``, it finishes once that file exists."""
    extra = [str(release)] if release is not None else []
    process = start_script(folder, TRAIN, name, str(runs), str(steps), *extra, env=script_env(**LIVE_ENV))
    poll(lambda: any(os.listdir(runs)) and any(name in open(path).read()
                                               for path in _events_files(runs)), 20, f"run {name} to start")
    return process


def _events_files(runs) -> list[str]:
    return [os.path.join(runs, run, file) for run in os.listdir(runs)
            for file in os.listdir(os.path.join(runs, run)) if file.startswith("events")]


@pytest.fixture
def server(tmp_path):
    """``tracker serve`` on a free port, started once the runs folder has runs; yields a starter."""
    started = []

    def start(runs) -> tuple[subprocess.Popen, str]:
        port = free_port()
        log = open(tmp_path / "serve.out", "w")
        process = subprocess.Popen(TRACKER + ["serve", "--runs", str(runs), "--port", str(port),
                                              "--out", str(tmp_path / "site")],
                                   stdout=log, stderr=subprocess.STDOUT, text=True, env=script_env())
        started.append(process)
        base = f"http://127.0.0.1:{port}/"
        poll(lambda: process.poll() is not None or http_json(base + "__tracker_live/version"), 30, "the server")
        assert process.poll() is None, (tmp_path / "serve.out").read_text()
        return process, base

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_url(page, base: str, name: str) -> str:
    page.goto(base + "index.html")
    rows = page.evaluate("TrackerData.index.runs")
    return base + next(row["url"] for row in rows if row["name"] == name)


LOSS_PLOT = "document.querySelector('figure.chart[data-metric=\"loss\"] .plot')"


def points(page) -> int:
    return page.evaluate(f"{LOSS_PLOT}.data[0].x.length")


def badge(page) -> str:
    return page.evaluate("document.querySelector('.badge[class*=\"status-\"]').textContent.trim()")


def test_open_pages_follow_a_run_live_and_see_a_killed_run_crash(tmp_path, server, page):
    runs = tmp_path / "runs"
    runs.mkdir()
    release = tmp_path / "release"
    finishing = start_training(tmp_path, runs, "finishing", 60, release=release)  # ~12 s, then waits
    killed = start_training(tmp_path, runs, "killed", 10**6)
    serve, base = server(runs)

    page.goto(run_url(page, base, "finishing"))
    first = poll(lambda: points(page), 10, "the chart's first points")
    page.evaluate(f"Plotly.relayout({LOSS_PLOT}, {{'xaxis.range': [0, 4], 'yaxis.range': [0.2, 0.9]}})")  # a reader zooms in
    poll(lambda: points(page) > first, 10, "the chart to gain points without a manual reload")
    # The reloaded page zooms the chart as soon as it is drawn; the live script may arrive a moment after.
    poll(lambda: page.evaluate(f"[{LOSS_PLOT}.layout.xaxis.range, {LOSS_PLOT}.layout.yaxis.range]")
         == [[0, 4], [0.2, 0.9]], 2, "the reader's zoom kept across the reload")
    assert badge(page) == "running"
    release.touch()
    poll(lambda: badge(page) == "finished", 20, "the status badge to turn 'finished'")
    assert finishing.wait(timeout=10) == 0
    poll(lambda: points(page) == 60, 10, "all 60 points on the chart")

    page.goto(run_url(page, base, "killed"))
    assert poll(lambda: badge(page), 10, "the killed run's page") == "running"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    poll(lambda: badge(page) == "crashed", 20, "the killed run to be marked 'crashed'")

    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=10) == 0
    output = (tmp_path / "serve.out").read_text()
    assert f"serving {tmp_path / 'site'} at {base}\n" in output
    assert "serving on 127.0.0.1 only; use --host 0.0.0.0 to share on your network\n" in output
    assert output.endswith("stopped\n") and "Traceback" not in output
    assert "__tracker_live" not in (tmp_path / "site" / "index.html").read_text()  # the site on disk stays static


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(TRACKER + ["serve", "--runs", str(tmp_path), "--port", str(port)],
                                capture_output=True, text=True, timeout=30, env=script_env())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (f"tracker: error: port {port} on 127.0.0.1 is already in use; "
                             f"choose another with --port, e.g. --port {port + 1}\n")


BURST = """
import sys, tracker
with tracker.init(project="sweep", name=sys.argv[1], dir=sys.argv[2], capture=False) as run:
    for step in range(20):
        run.log({"loss": 1.0 / (step + 1)})
"""


def test_a_burst_of_twenty_runs_is_coalesced_into_few_rebuilds(tmp_path, server):
    runs = tmp_path / "runs"
    runs.mkdir()
    first = start_script(tmp_path, BURST, "seed", str(runs), env=script_env(**LIVE_ENV))
    assert first.wait(timeout=30) == 0
    serve, base = server(runs)
    script = tmp_path / "train.py"
    sweep = [subprocess.Popen([sys.executable, str(script), f"sweep-{index}", str(runs)],
                              env=script_env(**LIVE_ENV)) for index in range(20)]
    for process in sweep:
        assert process.wait(timeout=60) == 0
    poll(lambda: "sweep-19" in urllib.request.urlopen(base + "data/index.js", timeout=2).read().decode()
         and all(f"sweep-{index}" in urllib.request.urlopen(base + "data/index.js", timeout=2).read().decode()
                 for index in range(20)), 30, "all 20 runs in the index")
    serve.send_signal(signal.SIGTERM)  # as a service manager stops it: the same clean exit as Ctrl-C
    assert serve.wait(timeout=10) == 0
    assert (tmp_path / "serve.out").read_text().endswith("stopped\n")
    rebuilds = [line for line in (tmp_path / "serve.out").read_text().splitlines() if line.startswith("built ")]
    # The first line is the initial build; 20 runs x (start, flush, finish) changes became a handful of rebuilds.
    assert 2 <= len(rebuilds) <= 10, rebuilds


def test_files_beside_the_runs_such_as_the_ls_cache_do_not_rebuild(tmp_path, server):
    runs = tmp_path / "runs"
    finished = start_training(tmp_path, runs, "done", 3)
    assert finished.wait(timeout=30) == 0
    serve, _ = server(runs)
    log = tmp_path / "serve.out"
    built = lambda: [line for line in log.read_text().splitlines() if line.startswith("built ")]  # noqa: E731
    poll(lambda: len(built()) == 1, 10, "the first build")
    listing = subprocess.run(TRACKER + ["ls", "--runs", str(runs)], capture_output=True, text=True)
    assert listing.returncode == 0 and (runs / ".tracker-listing.cache").is_file()
    time.sleep(2.5)  # debounce, rebuild gap and a watcher wake-up, all passed
    assert len(built()) == 1, built()
    run = next(path for path in runs.iterdir() if path.is_dir())
    with open(run / "events.jsonl", "a", encoding="utf-8") as handle:  # a real change still rebuilds
        handle.write(json.dumps({"type": "metrics", "time": time.time(), "step": 99, "values": {"loss": 0.1}}) + "\n")
    poll(lambda: len(built()) == 2, 10, "a rebuild after the run changed")
    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=10) == 0


def test_saving_a_report_beside_the_runs_rebuilds_its_page(tmp_path, server):
    runs = tmp_path / "runs"
    finished = start_training(tmp_path, runs, "done", 3)
    assert finished.wait(timeout=30) == 0
    serve, base = server(runs)
    page_text = lambda: urllib.request.urlopen(base + "reports/findings.html", timeout=2).read().decode()  # noqa: E731
    reports = tmp_path / "reports"  # the default: reports/ beside the runs folder, made after serve started
    reports.mkdir()
    (reports / "findings.md").write_text("# Findings\n\nThe first draft.\n", encoding="utf-8")
    poll(lambda: "The first draft." in page_text(), 15, "the new report's page")
    (reports / "findings.md").write_text("# Findings\n\nThe second draft.\n", encoding="utf-8")
    poll(lambda: "The second draft." in page_text(), 15, "the edited report's page")
    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=10) == 0


def test_serve_into_a_bucket_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(TRACKER + ["serve", "--runs", str(tmp_path / "runs"), "--out", "s3://key:secret@bucket/site"],
                          capture_output=True, text=True, env=script_env(), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("tracker serve: --out s3://bucket/site: serve builds into a local folder; "
                                   "publish to a bucket with 'tracker build --out URL'")
    assert not (tmp_path / "s3:").exists() and not os.path.exists("s3:")


def test_a_change_made_before_the_watch_began_is_built_and_a_watch_that_finds_none_says_nothing(tmp_path):
    """What changes between serve's first build and the moment its watch begins (or during that
    build) sends no event: the watcher builds once as its watch begins, and reports only a build
    that rendered something."""
    import threading

    from test_site_support import append_record, log_run

    from sitegen.build import BuildOptions
    from sitegen.live import LiveSite

    folder = log_run(tmp_path / "runs", "before-the-watch", metrics=[{"loss": 1.0}])
    reports = []
    live = LiveSite(BuildOptions(runs=[str(tmp_path / "runs")], out=str(tmp_path / "site")), on_build=reports.append)
    live.rebuild()
    stop = threading.Event()

    def watch_for_a_while() -> None:
        watcher = threading.Thread(target=live.watch, args=(stop,), daemon=True)
        watcher.start()
        time.sleep(3)  # the watch begins, waits a timeout (1 s) for changes, then builds once
        stop.set()
        watcher.join(timeout=30)
        stop.clear()

    watch_for_a_while()  # nothing changed: a build that rendered nothing, not reported
    assert len(reports) == 1
    append_record(folder, {"type": "summary", "time": time.time(), "values": {"loss": 0.5}})  # no watch running
    watch_for_a_while()
    assert len(reports) == 2 and reports[1].runs_rendered == 1
