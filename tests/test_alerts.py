"""run.alert(): the alert record (checked, redacted, bounded), sent at once to the script's notifiers from a
background thread, shown on the run page and as a badge on the index (real Chromium), and a failing
notifier that never stops the script."""
import json
import subprocess
import sys

import pytest

import tracker
from tests.notify_servers import WebhookServer
from tests.scripts import script_env, start_script
from tracker.errors import ArgumentTypeError, NoActiveRunError, RunFinishedError, UsageError
from tracker.notify.errors import NotifySpecError
from tracker.reader import load_run

TOKEN = "ghp_" + "a1B2c3D4e5" * 4


def test_an_alert_is_a_record_with_its_step_level_and_redacted_bounded_text(tmp_path):
    run = tracker.init(project="p", dir=tmp_path, capture=False, notify=False)
    run.alert("before any step", level="info")
    run.log({"loss": 1.0}, step=7)
    tracker.alert(f"token {TOKEN} leaked", "x" * 5000, level="error")
    run.finish()
    with open(f"{run.path}/events.jsonl", encoding="utf-8") as handle:
        records = [record for record in map(json.loads, handle) if record["type"] == "alert"]
    assert [sorted(record) for record in records] == [["level", "text", "time", "title", "type"],
                                                      ["level", "step", "text", "time", "title", "type"]]
    first, second = records
    assert (first["title"], first["text"], first["level"]) == ("before any step", "", "info")
    assert second["title"] == "token [REDACTED] leaked" and second["step"] == 7 and second["level"] == "error"
    assert len(second["text"]) == 4000 and second["text"].endswith(" [...]")
    assert load_run(run.path).alerts == records


def test_misused_alerts_raise_at_the_call(tmp_path):
    with pytest.raises(NoActiveRunError):
        tracker.alert("no run")
    run = tracker.init(dir=tmp_path, capture=False, notify=False)
    with pytest.raises(UsageError, match="alert\\(\\) level 'critical' is not one of 'info', 'warn', 'error'"):
        run.alert("t", level="critical")
    with pytest.raises(ArgumentTypeError, match="alert\\(\\) title"):
        run.alert(None)
    with pytest.raises(ArgumentTypeError, match="alert\\(\\) text"):
        run.alert("t", 42)
    run.finish()
    with pytest.raises(RunFinishedError):
        run.alert("after finish")
    with pytest.raises(NotifySpecError, match="unknown kind of notifier"):
        tracker.init(dir=tmp_path, capture=False, notify="mailto:me@example.org")


ALERTING_SCRIPT = """
import sys, time, tracker
run = tracker.init(project="vision", name="lr-sweep-3", dir=sys.argv[1], capture=False)
for step in range(5):
    run.log({"loss": 1.0 / (step + 1)})
run.alert("loss plateaued", "loss 0.2 for 3 epochs <b>bold?</b>", level="warn")
print("alerted", flush=True)
line = sys.stdin.readline()  # the test says when to go on: the alert must arrive while the script runs
for step in range(5, 200):
    run.log({"loss": 0.1})
run.finish()
print("done", flush=True)
"""


def start_alerting_script(tmp_path, notify: str, **env):
    process = subprocess.Popen([sys.executable, "-c", ALERTING_SCRIPT, str(tmp_path / "runs")], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=script_env(TRACKER_NOTIFY=notify, **env), cwd=tmp_path)
    assert process.stdout.readline() == "alerted\n"
    return process


def test_a_scripts_alert_reaches_the_webhook_at_once_and_shows_on_the_run_page_and_index(tmp_path, page):
    webhook = WebhookServer()
    try:
        process = start_alerting_script(tmp_path, webhook.url)
        [post] = webhook.wait_for(1)  # while the script waits on its stdin: sent at once, not at exit
        out, err = process.communicate("go\n", timeout=60)
    finally:
        webhook.close()
    assert process.returncode == 0 and out == "done\n", err
    assert post["json"]["event"] == "alert" and post["json"]["title"] == "loss plateaued"
    assert post["json"]["run"]["name"] == "lr-sweep-3" and post["json"]["step"] == 4
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(tmp_path / "runs"),
                    "--out", str(tmp_path / "site")], check=True, capture_output=True)
    page.goto((tmp_path / "site" / "index.html").as_uri())
    badge = page.get_by_role("link", name="1 alert")
    assert badge.inner_text() == "\u26a0 1"
    badge.click()
    section = page.locator("#alerts")
    assert section.get_by_role("heading").inner_text() == "Alerts (1)"
    assert section.locator(".alert-title").inner_text() == "loss plateaued"
    assert section.locator(".alert-text").inner_text() == "loss 0.2 for 3 epochs <b>bold?</b>"
    assert section.locator(".badge").inner_text() == "warn" and "step 4" in section.inner_text()
    assert page.errors == []


def test_a_run_without_alerts_has_no_badge_and_no_alerts_section(tmp_path, page):
    run = tracker.init(name="quiet", dir=tmp_path / "runs", capture=False, notify=False)
    run.log({"loss": 1.0})
    run.finish()
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(tmp_path / "runs"),
                    "--out", str(tmp_path / "site")], check=True, capture_output=True)
    page.goto((tmp_path / "site" / "index.html").as_uri())
    assert page.locator(".alerts-badge").count() == 0
    page.get_by_role("link", name="quiet").click()
    assert page.locator("#alerts").count() == 0 and page.errors == []


def test_a_failing_notifier_is_retried_and_never_stops_the_script(tmp_path):
    webhook = WebhookServer(always_fail=True)
    try:
        process = start_alerting_script(tmp_path, webhook.url, TRACKER_NOTIFY_RETRY_SCALE="0.01")
        out, err = process.communicate("go\n", timeout=60)
    finally:
        webhook.close()
    assert process.returncode == 0 and out == "done\n"
    assert webhook.attempts == 4  # the first try and three retries
    [warning] = [line for line in err.splitlines() if "RuntimeWarning" in line]
    assert "RuntimeWarning: tracker: notifier webhook http://127.0.0.1:" in warning
    assert "/... failed (HTTP 500 Internal Server Error) after 4 attempts" in warning and "s3cretpath" not in err
    run = load_run(next((tmp_path / "runs").iterdir()))
    assert run.status == "finished" and run.last_step == 199 and [alert["title"] for alert in run.alerts] == ["loss plateaued"]
