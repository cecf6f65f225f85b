"""A generic JSON webhook: each event POSTed as JSON (Event.as_json) to a URL; any 2xx answer is success."""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

from ..version import __version__
from .errors import NotifyError
from .event import Event

HTTP_TIMEOUT_S = 10.0


def post_json(name: str, url: str, payload: dict, timeout_s: float = HTTP_TIMEOUT_S) -> None:
    """POST ``payload`` as JSON to ``url``; NotifyError (naming ``name``, never ``url``) unless 2xx."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"tracker/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        raise NotifyError(name, f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise NotifyError(name, f"cannot connect ({exc.reason})") from None
    except (ValueError, http.client.InvalidURL):  # its message quotes the URL, whose path is the secret
        raise NotifyError(name, "the URL is not valid") from None
    except (OSError, http.client.HTTPException) as exc:  # a timeout, a reset connection
        raise NotifyError(name, f"{type(exc).__name__}: {exc}") from None


class WebhookNotifier:
    """``https://...``: the event JSON in the body of a POST."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.name = name

    def send(self, event: Event) -> None:
        post_json(self.name, self.url, event.as_json())
