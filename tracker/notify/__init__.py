"""Notifiers: where alerts and watch events are sent (webhook, Slack, email, a command), one module each.

A notifier is named by a spec, a URL or a command (specs.py): ``https://...`` a JSON webhook,
``slack+https://...`` a Slack-compatible incoming webhook, ``smtp://host:port?to=a@b`` email,
``cmd:COMMAND`` a command reading the event as JSON on stdin. Secrets (a webhook's URL, the
SMTP password) come from the environment and are never written to a record, a state file or a
site; a notifier's ``name`` says where it sends without them. Sending happens on background
threads (sender.py): a notifier that fails is retried with backoff, then reported once.
"""
