"""Running runs look live on the site, and a killed one turns crashed with when it was last seen."""
import signal
import subprocess
import sys
import time

from tracker.reader import load_run
from tests.scripts import start_script

SLOW_LOGGER = """
import sys, time, tracker
run = tracker.init(project="p", name="live-run", dir=sys.argv[1], capture=False)
print(run.path, flush=True)
while True:
    run.log({"loss": 1.0})
    time.sleep(0.05)
"""


def build(runs, out):
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(runs), "--out", str(out)],
                   check=True, capture_output=True)


def test_running_then_crashed_run_on_the_index_and_its_page(tmp_path, page):
    process = start_script(tmp_path, SLOW_LOGGER, str(tmp_path / "runs"))
    try:
        run_path = process.stdout.readline().strip()
        time.sleep(0.6)
        build(tmp_path / "runs", tmp_path / "site")
        page.goto((tmp_path / "site" / "index.html").as_uri())
        badge = page.locator("#runs-table tbody .badge")
        assert badge.inner_text() == "running"
        assert badge.get_attribute("title").startswith("last update 20")
        page.get_by_role("link", name="live-run").click()
        assert page.locator(".run-head .badge").inner_text() == "running"
        assert page.get_by_text("Last update").is_visible() and page.get_by_text("Running for").is_visible()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stale_after = load_run(run_path).writers[0].stale_after_s()
    time.sleep(stale_after + 0.5)
    build(tmp_path / "runs", tmp_path / "site")
    page.goto((tmp_path / "site" / "index.html").as_uri())
    assert page.locator("#runs-table tbody .badge").inner_text() == "crashed"
    page.get_by_role("link", name="live-run").click()
    assert page.locator("#failure h2").inner_text() == "This run crashed"
    assert page.get_by_text("Last seen").is_visible()
    assert page.errors == []
