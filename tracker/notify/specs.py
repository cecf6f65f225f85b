"""Notifier specs: the URL or command naming a notifier (init(notify=...), $TRACKER_NOTIFY, watch --notify).

=================================  ==============================================================
``https://HOST/PATH``              a JSON webhook (``http://`` too): the event JSON POSTed
``slack+https://HOST/PATH``        a Slack-compatible incoming webhook: ``{"text": ...}``
``smtp://HOST:PORT?to=a@b,c@d``    email (``&starttls=1``, ``&from=``; ``smtps://`` for TLS)
``cmd:COMMAND ARGS``               a command, the event JSON on its stdin
``$NAME``, ``slack+$NAME``         the URL read from the environment variable NAME
=================================  ==============================================================

``$TRACKER_NOTIFY`` holds one spec per line (a URL holds no newline; a command may hold spaces).
"""
from __future__ import annotations

import os

from .errors import NotifySpecError, shown_spec

ENV_VARIABLE = "TRACKER_NOTIFY"


def notifiers_from(specs) -> list:
    """The notifiers ``specs`` name: a str (one spec) or a list of them; NotifySpecError names
    the first that cannot be used."""
    if isinstance(specs, str):
        specs = [specs]
    try:
        given = list(specs)
    except TypeError:
        raise NotifySpecError(repr(specs)[:40], "expected a spec (str) or a list of specs") from None
    notifiers = []
    for spec in given:
        if not isinstance(spec, str):
            raise NotifySpecError(repr(spec)[:40], "a spec is a str")
        notifiers.append(notifier_from(spec.strip()))
    return notifiers


def specs_from_env(environ=os.environ) -> list[str]:
    """The specs of ``$TRACKER_NOTIFY``: one per non-blank line."""
    return [line.strip() for line in environ.get(ENV_VARIABLE, "").splitlines() if line.strip()]


def notifier_from(spec: str):
    """The notifier one spec names."""
    if spec.startswith("cmd:"):
        from .command import CommandNotifier

        return CommandNotifier(spec)
    slack = spec.startswith("slack+")
    url = _from_environment(spec, spec.removeprefix("slack+"))
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme in ("http", "https"):
        if slack:
            from .slack import SlackNotifier

            return SlackNotifier(url, f"slack {shown_spec(url)}")
        from .webhook import WebhookNotifier

        return WebhookNotifier(url, f"webhook {shown_spec(url)}")
    if scheme in ("smtp", "smtps") and not slack:
        from .smtp import EmailNotifier

        return EmailNotifier(url)
    raise NotifySpecError(spec, "unknown kind of notifier")


def _from_environment(spec: str, rest: str) -> str:
    """``rest`` itself, or the value of the environment variable ``$NAME`` names."""
    if not rest.startswith("$"):
        return rest
    value = os.environ.get(rest[1:], "").strip()
    if not value:
        raise NotifySpecError(spec, f"the environment variable {rest[1:]} is not set")
    return value
