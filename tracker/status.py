"""A run's status from what its writers recorded.

Each process that logs into a run is a *writer* with its own start record, heartbeat file and,
if it ended normally, an end record. A writer with no end record is running while its
heartbeat is fresh and crashed once it is stale (SIGKILL, OOM, a lost machine).
"""
from __future__ import annotations

from dataclasses import dataclass

STALE_AFTER_HEARTBEATS = 3  # missed heartbeats before a writer counts as crashed
STALE_SLACK_S = 2.0  # covers a slow flush and small clock differences between machines
DEFAULT_HEARTBEAT_INTERVAL_S = 2.0
# When writers of one session disagree, the worst outcome is the run's status.
SEVERITY = {"finished": 0, "interrupted": 1, "terminated": 2, "crashed": 3, "failed": 4}


@dataclass
class WriterState:
    writer: str
    started: float | None = None
    ended: float | None = None
    last_seen: float | None = None
    status: str | None = None  # from the end record; None while no end record exists
    error: str | None = None
    heartbeat_interval_s: float = DEFAULT_HEARTBEAT_INTERVAL_S
    pid: int | None = None
    host: str | None = None
    user: str | None = None
    rank: int | None = None  # in a job of torchrun, SLURM or MPI (docs/distributed.md)
    node: str | None = None

    def stale_after_s(self) -> float:
        return STALE_AFTER_HEARTBEATS * self.heartbeat_interval_s + STALE_SLACK_S

    def state(self, now: float) -> str:
        if self.status:
            return self.status
        last = self.last_seen or self.started or 0.0
        return "running" if now - last <= self.stale_after_s() else "crashed"

    def end_time(self) -> float:
        # never before its own start: a clock that stepped back must not drop the writer below
        return max(self.ended or self.last_seen or 0.0, self.started or 0.0)


def run_status(writers: list[WriterState], now: float) -> tuple[str, WriterState | None]:
    """The run's status and the writer that decided it.

    Running if any writer is. Otherwise the latest session decides: the writers still active
    when the most recently started one began (ranks of one job), the worst outcome winning; an
    earlier crash that a later resume superseded does not count.
    """
    if not writers:
        return "crashed", None
    states = {id(writer): writer.state(now) for writer in writers}
    running = [writer for writer in writers if states[id(writer)] == "running"]
    if running:
        return "running", running[0]
    latest_start = max(writer.started or 0.0 for writer in writers)
    # the latest starter always qualifies (end_time() >= started), so the session is never empty
    session = [writer for writer in writers if writer.end_time() >= latest_start]
    decider = max(session, key=lambda writer: (SEVERITY.get(states[id(writer)], 3), writer.end_time()))
    return states[id(decider)], decider
