"""A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's /slack): ``{"text": ...}``."""
from __future__ import annotations

from .event import Event
from .webhook import post_json


def slack_text(event: Event) -> str:
    """The message in Slack's mrkdwn: the subject in bold, the text as code, a link to the run."""
    lines = [f"*{_escaped(event.subject())}*"]
    if event.text:
        lines.append("```" + _escaped(event.text).replace("```", "'''") + "```")
    where = f"run `{_escaped(event.run_id)}`" + ("" if event.step is None else f" at step {event.step}")
    lines.append(f"{where} · <{event.url}|open the run>" if event.url else where)
    return "\n".join(lines)


def _escaped(text: str) -> str:
    """Slack's three control characters escaped, so a run's text cannot forge a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier:
    """``slack+https://...``: a message POSTed to an incoming webhook."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.name = name

    def send(self, event: Event) -> None:
        post_json(self.name, self.url, {"text": slack_text(event)})
