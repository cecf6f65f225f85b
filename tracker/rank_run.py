"""The run of a rank other than zero in a job: what the script logs is dropped, what the tracker captures is kept.

In a job of many ranks every rank runs the same script, so each would log the same metrics,
config and summary sixteen times over. ``tracker.init()`` gives rank zero (and every rank with
``all_ranks=True``) a plain ``Run``, and the other ranks this one: its ``log()`` returns at once,
media, config, summary, tags, notes, datasets and artifacts are not written, while the writer's
``start``, capture, console, alerts and ``end`` records and its heartbeat are, so the run page
shows every rank and how it ended (docs/distributed.md).
"""
from __future__ import annotations

from .run import Run

# what a script writes by calling the run; the tracker's own records (start, capture, system,
# alert, end) go through
DROPPED_RECORD_TYPES = frozenset({"config", "summary", "tags", "notes", "dataset", "artifact"})


class OtherRankRun(Run):
    """A ``Run`` whose script-logged records are dropped (ranks other than zero)."""

    def log(self, values: dict, step: int | None = None) -> None:
        """Dropped: only rank zero's metrics are recorded (``init(all_ranks=True)`` records every rank's)."""

    def log_media(self, key: str, media, step: int | None = None) -> None:
        """Dropped, as ``log()`` is."""

    def log_dataset(self, path, name: str | None = None, *, rows: int | None = None,
                    columns: list[str] | int | None = None) -> None:
        """Dropped: rank zero records the datasets (and hashing them once is enough)."""

    def log_artifact(self, path, name: str | None = None) -> None:
        """Dropped, nothing copied: rank zero records the artifacts. Returns None."""
        return None

    def _put(self, record: dict) -> None:
        if record.get("type") in DROPPED_RECORD_TYPES:
            return
        super()._put(record)
