"""`tracker watch` against a local webhook: a SIGKILLed run makes exactly one "crashed" notification soon
after the reader's heartbeat verdict, a failed run one with its traceback, an alert and a YAML rule one
each, a stalled run one; a restarted watcher sends nothing twice; a failing notifier is retried and stops
neither the watcher nor its other notifiers."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.notify_servers import WebhookServer
from tests.scripts import run_script, script_env, start_script
from tracker.reader import load_run
from tracker.watch_rules import RulesFileError, load_rules

HEARTBEAT_S = 0.5
SCRIPT_ENV = {"TRACKER_HEARTBEAT_INTERVAL_S": str(HEARTBEAT_S), "TRACKER_NOTIFY": ""}

ALIVE_LOGGER = """
import sys, time, tracker
run = tracker.init(project="p", name=sys.argv[2], dir=sys.argv[1], capture=False)
run.log({"loss": 1.0})
print(run.path, flush=True)
while True:  # alive (heartbeat fresh), no new step: stalled until killed
    time.sleep(0.05)
"""

FAILING = """
import sys, tracker
run = tracker.init(project="p", name="failing", dir=sys.argv[1], capture=False)
run.log({"loss": 1.0})
def train():
    raise RuntimeError("CUDA out of memory at batch 17")
train()
"""

NAN_THEN_ALERT = """
import sys, tracker
run = tracker.init(project="p", name="diverged", dir=sys.argv[1], capture=False)
for step in range(6):
    run.log({"loss": float("nan") if step >= 2 else 1.0, "val/acc": 0.9})
run.alert("diverged", "loss is NaN since step 2", level="error")
run.finish()
"""

RULES = """\
rules:
  - metric: loss
    is: nan
    level: error
  - metric: val/acc
    below: 0.5
"""


class Watcher:
    """`tracker watch` in its own process; ready once its runs folder's state file exists."""

    def __init__(self, runs, *args: str, env: dict | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "watch", "--runs", str(runs), *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "TRACKER_NOTIFY": "", **(env or {})})
        deadline = time.monotonic() + 20
        while not (runs / ".tracker-watch.json").exists():
            assert time.monotonic() < deadline and self.process.poll() is None, self.process.stderr.read()
            time.sleep(0.05)

    def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=20)
        assert self.process.returncode == 0, err
        return out, err


@pytest.fixture
def webhook():
    server = WebhookServer()
    yield server
    server.close()


def events(posts) -> list[tuple[str, str, str]]:
    return sorted((post["json"]["event"], post["json"]["run"]["name"], post["json"]["title"]) for post in posts)


def test_a_sigkilled_run_makes_exactly_one_crashed_notification_within_three_heartbeats(tmp_path, webhook):
    runs = tmp_path / "runs"
    watcher = Watcher(runs, "--notify", webhook.url, "--base-url", "https://team.example.org/site")
    try:
        script = start_script(tmp_path, ALIVE_LOGGER, str(runs), "killed", env=script_env(**SCRIPT_ENV))
        path = script.stdout.readline().strip()
        time.sleep(3 * HEARTBEAT_S)
        script.send_signal(signal.SIGKILL)
        script.wait()
        [post] = webhook.wait_for(1)
        time.sleep(4 * HEARTBEAT_S)  # nothing more comes
        posts = list(webhook.posts)
    finally:
        out, _ = watcher.stop()
    writer = load_run(path).writers[0]
    verdict = writer.last_seen + writer.stale_after_s()  # when the reader's status turns "crashed"
    assert len(posts) == 1 and post["json"]["event"] == "crashed" and post["json"]["title"] == "run crashed: heartbeat lost"
    assert 0 <= post["time"] - verdict <= 3 * HEARTBEAT_S, post["time"] - verdict
    run_id = os.path.basename(path)
    assert post["json"]["url"] == f"https://team.example.org/site/runs/{run_id}/index.html"
    assert post["json"]["text"].startswith("no heartbeat since ") and f"pid {writer.pid}" in post["json"]["text"]
    assert f"crashed: p/killed ({run_id}): run crashed: heartbeat lost - sent" in out
    restarted = Watcher(runs, "--notify", webhook.url)
    time.sleep(3 * HEARTBEAT_S)
    restarted.stop()
    assert len(webhook.posts) == 1
    assert json.loads((runs / ".tracker-watch.json").read_text()) == {
        "version": 1, "sent": {run_id: [f"crashed:{writer.writer}"]}}


def test_failures_alerts_and_rules_are_each_sent_once_and_never_again_after_a_restart(tmp_path, webhook):
    runs = tmp_path / "runs"
    (tmp_path / "rules.yaml").write_text(RULES)
    watcher = Watcher(runs, "--notify", webhook.url, "--rules", str(tmp_path / "rules.yaml"))
    try:
        assert run_script(tmp_path, FAILING, str(runs), env=script_env(**SCRIPT_ENV)).returncode == 1
        assert run_script(tmp_path, NAN_THEN_ALERT, str(runs), env=script_env(**SCRIPT_ENV)).returncode == 0
        posts = webhook.wait_for(3)
        time.sleep(1.5)  # the watcher reads the runs again meanwhile: nothing is sent twice
    finally:
        watcher.stop()
    assert events(webhook.posts) == [("alert", "diverged", "diverged"), ("failed", "failing", "run failed: RuntimeError: "
                                      "CUDA out of memory at batch 17"), ("rule", "diverged", "loss is nan")]
    by_kind = {post["json"]["event"]: post["json"] for post in posts}
    assert by_kind["failed"]["text"].splitlines()[-3:] == [
        '  File "' + str(tmp_path / "train.py") + '", line 6, in train',
        '    raise RuntimeError("CUDA out of memory at batch 17")', "RuntimeError: CUDA out of memory at batch 17"]
    assert by_kind["rule"]["level"] == "error" and by_kind["rule"]["text"] == "loss is nan: loss = nan at step 5"
    assert by_kind["alert"]["text"] == "loss is NaN since step 2" and by_kind["alert"]["url"] is None
    restarted = Watcher(runs, "--notify", webhook.url, "--rules", str(tmp_path / "rules.yaml"))
    time.sleep(1.5)
    restarted.stop()
    assert len(webhook.posts) == 3


def test_a_stalled_run_is_sent_once_while_it_stays_alive(tmp_path, webhook):
    runs = tmp_path / "runs"
    watcher = Watcher(runs, "--notify", webhook.url, "--stall-after", "2s")
    script = start_script(tmp_path, ALIVE_LOGGER, str(runs), "stuck", env=script_env(**SCRIPT_ENV))
    try:
        script.stdout.readline()
        [post] = webhook.wait_for(1)
        time.sleep(1.5)
    finally:
        script.kill()
        script.wait()
        watcher.stop()
    assert events(webhook.posts) == [("stalled", "stuck", "run stalled: no new step for 2s")]
    assert post["json"]["text"].startswith("no new step after step 0 for 2s")


def test_a_failing_notifier_is_retried_and_stops_neither_the_watcher_nor_the_others(tmp_path, webhook):
    runs = tmp_path / "runs"
    dead = WebhookServer(always_fail=True)
    watcher = Watcher(runs, "--notify", dead.url, "--notify", webhook.url, env={"TRACKER_NOTIFY_RETRY_SCALE": "0.01"})
    try:
        run_script(tmp_path, FAILING, str(runs), env=script_env(**SCRIPT_ENV))
        webhook.wait_for(1)
        run_script(tmp_path, FAILING, str(runs), env=script_env(**SCRIPT_ENV))
        webhook.wait_for(2)
        time.sleep(1)
    finally:
        out, err = watcher.stop()
        dead.close()
    assert events(webhook.posts) == [("failed", "failing", "run failed: RuntimeError: CUDA out of memory at batch 17")] * 2
    assert dead.attempts == 2 * 4  # each event: the first try and three retries
    warnings = [line for line in err.splitlines() if line.startswith("tracker: warning:")]
    assert len(warnings) == 1 and "failed (HTTP 500 Internal Server Error) after 4 attempts" in warnings[0]
    assert out.count("given up (see the warning)") == 2


def test_a_first_watch_records_what_is_there_and_send_existing_sends_it(tmp_path, webhook):
    runs = tmp_path / "runs"
    run_script(tmp_path, FAILING, str(runs), env=script_env(**SCRIPT_ENV))
    watch = [sys.executable, "-m", "tracker.cli", "watch", "--once", "--runs", str(runs), "--notify", webhook.url]
    done = subprocess.run(watch, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "" and webhook.posts == []
    os.remove(runs / ".tracker-watch.json")
    done = subprocess.run(watch + ["--send-existing"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and events(webhook.wait_for(1)) == [
        ("failed", "failing", "run failed: RuntimeError: CUDA out of memory at batch 17")]
    assert subprocess.run(watch, capture_output=True, text=True, timeout=60).stdout == "" and len(webhook.posts) == 1


def test_a_rules_file_that_breaks_the_syntax_names_every_problem_by_line(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - metric: loss\n    belw: 3\n  - metric: acc\n    below: high\n    level: loud\n")
    with pytest.raises(RulesFileError) as caught:
        load_rules(str(rules))
    assert caught.value.problems == [
        f"{rules}:3: unknown key 'belw'; a rule takes name, metric, is, below, above, after_step, level, runs",
        f"{rules}:2: the rule for 'loss' has no condition: add is:, below: or above:",
        f"{rules}:5: below: 'high' is not a number",
        f"{rules}:6: level: 'loud' is not one of info, warn, error"]
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "watch", "--runs", str(tmp_path), "--notify",
                           "cmd:true", "--rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith(f"tracker: error: {rules}:3: unknown key 'belw'")


@pytest.mark.parametrize("args, message", [
    (["--notify", "cmd:true", "--stall-after", "30x"],
     "tracker: error: --stall-after '30x': expected a duration such as 90s, 30m, 2h or 1d\n"),
    ([], "tracker: error: no notifier: pass --notify SPEC or set $TRACKER_NOTIFY (see tracker watch --help)\n"),
])
def test_usage_errors_name_the_flag(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "watch", "--runs", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "TRACKER_NOTIFY": ""})
    assert (done.returncode, done.stderr) == (2, message)


def test_a_rule_with_after_step_holds_only_past_that_step(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: accuracy collapsed\n    metric: val/acc\n    below: 0.5\n    after_step: 1000\n")
    [rule] = load_rules(str(rules))
    assert rule.condition == "val/acc < 0.5 after step 1000"
    run = load_run(_logged(tmp_path, [(999, 0.1)]))
    assert rule.holds(run) is None
    assert rule.holds(load_run(_logged(tmp_path, [(999, 0.1), (1001, 0.4)]))) == (1001, 0.4)
    assert rule.holds(load_run(_logged(tmp_path, [(1001, 0.6)]))) is None


def _logged(tmp_path, points) -> str:
    import tracker

    run = tracker.init(dir=tmp_path / "rule-runs", capture=False, notify=False)
    for step, value in points:
        run.log({"val/acc": value}, step=step)
    run.finish()
    return run.path


def test_an_event_seen_again_while_its_notifier_still_sends_it_is_not_queued_twice(tmp_path):
    import threading

    from tracker.watch import Watcher as InProcessWatcher
    from tracker.watch_rules import Rule

    release, sent = threading.Event(), []

    class Slow:
        name = "slow"

        def send(self, event):
            release.wait(10)
            sent.append(event.title)

    runs = tmp_path / "runs"
    watcher = InProcessWatcher([runs], [Slow()], rules=[Rule(name="loss high", metric="loss", above=0.5)],
                               report=lambda line: None)
    watcher.check()  # the first look at an empty folder: what appears from now on is sent
    path = _logged_loss(runs, 1.0)
    for _ in range(3):  # each look makes the rule's event anew (its time is the look's)
        watcher.check()
    release.set()
    assert watcher.sender.wait(10) and sent == ["loss high"]
    watcher.check()
    assert watcher.sender.wait(10) and sent == ["loss high"]
    assert json.loads((runs / ".tracker-watch.json").read_text())["sent"] == {os.path.basename(path): ["rule:loss high"]}


def _logged_loss(runs, value) -> str:
    import tracker

    run = tracker.init(dir=runs, capture=False, notify=False)
    run.log({"loss": value})
    run.finish()
    return run.path
