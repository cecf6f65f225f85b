"""Notifiers against real servers on 127.0.0.1: a JSON webhook and a Slack-compatible webhook (an HTTP
server), email (an SMTP server) and a command; retries, warnings and the bounded queue of the sender."""
import json
import sys
import threading
import warnings

import pytest

from tests.notify_servers import SmtpServer, WebhookServer
from tracker.notify.errors import NotifySpecError
from tracker.notify.event import Event, run_page_url
from tracker.notify.sender import NotifySender
from tracker.notify.specs import notifiers_from, specs_from_env

EVENT = Event(kind="alert", level="error", title="loss <diverged> & more", text="loss = inf at step 40",
              run_id="20261129-101010-abcdefgh", run_name="lr-sweep-3", project="vision", group="sweep",
              step=40, time=1795990000.0, url=run_page_url("https://team.example.org/site/", "20261129-101010-abcdefgh"))


@pytest.fixture
def webhook():
    server = WebhookServer()
    yield server
    server.close()


def send_now(spec: str) -> None:
    """One event through a fresh sender, waited for; warnings become errors."""
    sender = NotifySender(notifiers_from(spec), retry_delays_s=(0.01, 0.01), warn=pytest.fail)
    sender.send(EVENT)
    assert sender.wait(10)


def test_the_json_webhook_gets_the_event_as_json(webhook):
    send_now(webhook.url)
    [post] = webhook.wait_for(1)
    assert post["path"] == "/hooks/T000/B000/s3cretpath" and post["content_type"].startswith("application/json")
    assert post["json"] == {"event": "alert", "level": "error", "title": "loss <diverged> & more",
                            "text": "loss = inf at step 40",
                            "run": {"id": "20261129-101010-abcdefgh", "name": "lr-sweep-3", "project": "vision",
                                    "group": "sweep"},
                            "step": 40, "time": 1795990000.0,
                            "url": "https://team.example.org/site/runs/20261129-101010-abcdefgh/index.html"}


def test_the_slack_webhook_gets_a_message_with_its_control_characters_escaped(webhook):
    send_now("slack+" + webhook.url)
    [post] = webhook.wait_for(1)
    assert post["json"] == {"text": "*[error] vision/lr-sweep-3: loss &lt;diverged&gt; &amp; more*\n"
                                    "```loss = inf at step 40```\n"
                                    "run `20261129-101010-abcdefgh` at step 40 · "
                                    "<https://team.example.org/site/runs/20261129-101010-abcdefgh/index.html|open the run>"}


def test_a_webhook_url_can_come_from_the_environment(webhook, monkeypatch):
    monkeypatch.setenv("MY_HOOK", webhook.url)
    send_now("$MY_HOOK")
    send_now("slack+$MY_HOOK")
    assert [sorted(post["json"]) for post in webhook.wait_for(2)] == [
        ["event", "level", "run", "step", "text", "time", "title", "url"], ["text"]]


def test_email_goes_over_smtp_with_credentials_from_the_environment(monkeypatch):
    server = SmtpServer()
    try:
        monkeypatch.setenv("TRACKER_SMTP_USER", "bot")
        monkeypatch.setenv("TRACKER_SMTP_PASSWORD", "hunter2")
        send_now(f"smtp://127.0.0.1:{server.port}?to=a@example.org,b@example.org&from=tracker@example.org")
        [received] = server.messages
    finally:
        server.close()
    assert received["auth"] == ("bot", "hunter2")
    assert received["from"] == "tracker@example.org" and received["to"] == ["a@example.org", "b@example.org"]
    message = received["message"]
    assert message["Subject"] == "[error] vision/lr-sweep-3: loss <diverged> & more"
    assert message.get_content().splitlines() == [
        "[error] vision/lr-sweep-3: loss <diverged> & more", "", "loss = inf at step 40", "",
        "run 20261129-101010-abcdefgh (alert at step 40)",
        "https://team.example.org/site/runs/20261129-101010-abcdefgh/index.html"]


def test_the_host_and_port_of_email_can_come_from_the_environment(monkeypatch):
    server = SmtpServer()
    try:
        monkeypatch.setenv("TRACKER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TRACKER_SMTP_PORT", str(server.port))
        monkeypatch.delenv("TRACKER_SMTP_USER", raising=False)
        send_now("smtp://?to=ops@example.org")
        [received] = server.messages
    finally:
        server.close()
    assert received["auth"] is None and received["to"] == ["ops@example.org"]


def test_a_command_gets_the_event_json_on_stdin(tmp_path):
    out = tmp_path / "got.json"
    send_now(f"cmd:{sys.executable} -c \"import sys, shutil; shutil.copyfileobj(sys.stdin, open(sys.argv[1], 'w'))\" {out}")
    assert json.loads(out.read_text()) == EVENT.as_json()


@pytest.mark.parametrize("spec, message", [
    ("ftp://example.org/x", "notifier 'ftp://example.org/...': unknown kind of notifier"),
    ("smtp://bot:hunter2@mail.example.org?to=a@b.c", "notifier 'smtp://mail.example.org/...': put the SMTP user and "
                                                       "password in TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD"),
    ("smtp://mail.example.org", "notifier 'smtp://mail.example.org': no recipient: add ?to=someone@example.org"),
    ("smtp://mail.example.org?to=a@b.c&cc=d@e.f",
     "notifier 'smtp://mail.example.org/...': unknown parameter(s) cc; use to=, from=, starttls=1"),
    ("cmd:", "notifier 'cmd:': no command after cmd:"),
    ("slack+$NOT_SET_ANYWHERE", "notifier 'slack+$NOT_SET_ANYWHERE': the environment variable NOT_SET_ANYWHERE is not set"),
])
def test_a_spec_that_names_no_notifier_is_refused_saying_why_without_its_secret(spec, message):
    with pytest.raises(NotifySpecError) as caught:
        notifiers_from(spec)
    assert str(caught.value).startswith(message)
    assert "hunter2" not in str(caught.value) and "a notifier is one of: https://HOST/PATH" in str(caught.value)


def test_notifier_names_never_hold_a_webhooks_path():
    names = [notifier.name for notifier in notifiers_from(
        ["https://hooks.slack.com/services/T0/B0/XYZsecret", "slack+https://hooks.slack.com/services/T0/B0/XYZsecret",
         "cmd:curl -H 'Authorization: Bearer abc' https://x"])]
    assert names == ["webhook https://hooks.slack.com/...", "slack https://hooks.slack.com/...", "command curl"]


def test_tracker_notify_holds_one_spec_per_line():
    assert specs_from_env({"TRACKER_NOTIFY": "https://a.example/x\n\n  cmd:notify-send tracker  \n"}) == [
        "https://a.example/x", "cmd:notify-send tracker"]


def test_a_failing_notifier_is_retried_then_warned_about_once_and_delays_no_other():
    flaky, down, good = WebhookServer(fail_first=2), WebhookServer(always_fail=True), WebhookServer()
    warned, done = [], []
    try:
        sender = NotifySender(notifiers_from([flaky.url, down.url, good.url]), retry_delays_s=(0.05, 0.05, 0.05),
                              warn=warned.append, on_done=lambda event, delivered: done.append(delivered))
        for index in range(3):
            sender.send(Event(**{**EVENT.__dict__, "title": f"alert {index}"}))
        assert sender.wait(20)
        assert [post["json"]["title"] for post in flaky.posts] == ["alert 0", "alert 1", "alert 2"]
        assert [post["json"]["title"] for post in good.posts] == ["alert 0", "alert 1", "alert 2"]
        assert down.attempts == 3 * 4 and flaky.attempts == 5  # each event: the first try and 3 retries
    finally:
        for server in (flaky, down, good):
            server.close()
    assert done == [False, False, False]  # every event missed one notifier
    assert warned == [f"tracker: notifier webhook http://127.0.0.1:{down.http.server_port}/... failed "
                      "(HTTP 500 Internal Server Error) after 4 attempts; the alert 'alert 0' of run 20261129-101010-abcdefgh was "
                      "not sent, nor will others be while it fails (no further warning); training goes on"]


def test_a_full_queue_drops_events_with_one_warning_and_never_blocks():
    release = threading.Event()

    class Stuck:
        name = "stuck"

        def send(self, event):
            release.wait()

    warned = []
    sender = NotifySender([Stuck()], max_queued=2, warn=warned.append)
    for index in range(10):
        sender.send(Event(**{**EVENT.__dict__, "title": f"alert {index}"}))
    assert len(warned) == 1 and warned[0].startswith("tracker: over 2 events wait for notifier stuck")
    release.set()
    assert sender.wait(5) and sender.pending() == 0


def test_the_sender_warns_through_the_warnings_machinery_by_default():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sender = NotifySender(notifiers_from("http://127.0.0.1:9/nothing-listens"), retry_delays_s=())
        sender.send(EVENT)
        assert sender.wait(10)
    assert [str(w.message).split(";")[0] for w in caught] == [
        "tracker: notifier webhook http://127.0.0.1:9/... failed (cannot connect ([Errno 111] Connection refused)) "
        "after 1 attempt"]
