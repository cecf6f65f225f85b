"""A notification: what happened to which run, as JSON for webhooks and commands and as text for people."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..layout import run_slug

LEVELS = ("info", "warn", "error")
EVENT_KINDS = ("alert", "failed", "crashed", "stalled", "rule")


@dataclass(frozen=True)
class Event:
    """One thing to tell people about a run. ``key`` names it within its run, so that a watcher
    sends each event once (watch_state.py); ``url`` is the run's page when a base URL is known."""

    kind: str  # one of EVENT_KINDS
    level: str  # one of LEVELS
    title: str
    text: str
    run_id: str
    run_name: str
    project: str
    group: str | None = None
    step: int | None = None
    time: float = field(default_factory=time.time)
    url: str | None = None
    key: str = ""

    def as_json(self) -> dict:
        """The event as webhooks and commands get it (docs/alerts.md, "The event")."""
        return {"event": self.kind, "level": self.level, "title": self.title, "text": self.text,
                "run": {"id": self.run_id, "name": self.run_name, "project": self.project, "group": self.group},
                "step": self.step, "time": self.time, "url": self.url}

    def subject(self) -> str:
        """One line: an email's subject, a chat message's first line."""
        return f"[{self.level}] {self.project}/{self.run_name}: {self.title}"

    def plain_text(self) -> str:
        """The event for a person to read: what happened, its text, where to look."""
        lines = [self.subject()]
        if self.text:
            lines += ["", self.text]
        lines += ["", f"run {self.run_id} ({self.kind}{'' if self.step is None else f' at step {self.step}'})"]
        if self.url:
            lines.append(self.url)
        return "\n".join(lines)


def run_page_url(base_url: str | None, run_id: str) -> str | None:
    """The run's page on a site published at ``base_url`` (as `tracker build` lays it out)."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/runs/{run_slug(run_id)}/index.html"
