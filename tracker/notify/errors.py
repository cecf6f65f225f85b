"""Exceptions of the notifiers: a spec that names no notifier (misuse), a send that failed (trouble).

- ``NotifySpecError`` (a UsageError): raised at once by ``init(notify=...)`` and ``tracker watch
  --notify``, naming the spec and the syntax that would work.
- ``NotifyError``: one attempt to send failed (HTTP status, refused connection, command exit
  status); the sender retries it and then warns once. Its message never holds the secret part
  of a spec (a webhook's path, a password).
"""
from __future__ import annotations

from ..errors import TrackerError, UsageError

SPEC_SYNTAX = ("https://HOST/PATH (JSON webhook), slack+https://HOST/PATH (Slack-compatible webhook), "
               "smtp://HOST:PORT?to=a@b.c (email), cmd:COMMAND (event JSON on stdin); "
               "$NAME or slack+$NAME reads the URL from the environment variable NAME")


class NotifySpecError(UsageError, ValueError):
    """A notifier spec that cannot be used; ``spec`` keeps what was given (shown without secrets)."""

    def __init__(self, spec: str, why: str):
        self.spec = spec
        super().__init__(f"notifier {shown_spec(spec)!r}: {why}; a notifier is one of: {SPEC_SYNTAX}")


class NotifyError(TrackerError):
    """One attempt to send an event failed; ``notifier`` is the notifier's name (no secrets)."""

    def __init__(self, notifier: str, why: str):
        self.notifier = notifier
        self.why = why
        super().__init__(f"{notifier}: {why}")


def shown_spec(spec: str) -> str:
    """A spec as messages show it: a URL's scheme and host only (its path or query may be the
    secret), a command's program only (its arguments may hold a token)."""
    if spec.startswith("cmd:"):
        words = spec[len("cmd:"):].split()
        return f"cmd:{words[0]}" + (" ..." if len(words) > 1 else "") if words else "cmd:"
    scheme, found, rest = spec.partition("://")
    if not found:
        return spec if spec.removeprefix("slack+").startswith("$") else spec[:12] + "..."
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    host = authority.rpartition("@")[2]  # user:password@ left out
    return f"{scheme}://{host}/..." if len(rest) > len(authority) else f"{scheme}://{host}"
