"""What a run's records call for telling people: failed, crashed, stalled, its alerts, rules that hold.

Pure: a RunRecord (read by the reader, whose status logic says failed and crashed) and the time
in, Events out, each with a key naming it within its run (watch_state.py keeps the keys sent).
"""
from __future__ import annotations

import hashlib
import time

from .formatting import format_duration
from .notify.event import Event, run_page_url

TRACEBACK_LINES = 15  # the end of a traceback: where it failed and why
TITLE_ERROR_CHARS = 120


def run_events(run, now: float, *, stall_after_s: float | None = None, rules=(), base_url: str | None = None) -> list[Event]:
    """The events ``run`` calls for at ``now``, in the order they happened, each keyed (Event.key)."""
    url = run_page_url(base_url, run.id)

    def event(kind: str, level: str, title: str, text: str, key: str, step=None, at=None) -> Event:
        return Event(kind=kind, level=level, title=title, text=text, run_id=run.id, run_name=run.name,
                     project=run.project, group=run.group, step=step, time=now if at is None else at, url=url, key=key)

    events = []
    for record in run.alerts:
        title, text = record["title"], record.get("text") or ""
        digest = hashlib.sha256(f"{title}\0{text}".encode("utf-8", "replace")).hexdigest()[:16]
        events.append(event("alert", record.get("level") or "warn", title, text,
                            f"alert:{record.get('time')}:{digest}", record.get("step"), record.get("time")))
    for rule in rules:
        found = rule.holds(run)
        if found is not None:
            step, value = found
            events.append(event("rule", rule.level, rule.name, f"{rule.condition}: {rule.metric} = {value:g} at step {step}",
                                f"rule:{rule.name}", step))
    last_step = run.last_step if run.histories else None
    if run.status in ("failed", "crashed"):
        deciders = sorted(writer.writer for writer in run.writers if writer.state(now) == run.status)
        events.append(event(run.status, "error", _ending_title(run), _ending_text(run, now, last_step),
                            f"{run.status}:{','.join(deciders)}", last_step, run.ended))
    elif run.status == "running" and stall_after_s is not None:
        last_time = last_step_time(run, now)
        if now - last_time > stall_after_s:
            since = "no step logged" if last_step is None else f"no new step after step {last_step}"
            events.append(event("stalled", "warn", f"run stalled: no new step for {format_duration(now - last_time)}",
                                f"{since} for {format_duration(now - last_time)} (since {_utc(last_time)}); "
                                "its process is alive (heartbeat fresh)", f"stalled:{last_step}", last_step))
    return events


def last_step_time(run, now: float) -> float:
    """When ``run`` last logged a metric (its creation while it has logged none)."""
    return max((series.times[-1] for series in run.histories.values() if series.times), default=run.created or now)


def _ending_title(run) -> str:
    """"run failed: ValueError: boom" (the traceback's last line), "run crashed: heartbeat lost"."""
    if run.status == "crashed":
        return "run crashed: heartbeat lost"
    last = next((line.strip() for line in reversed((run.error or "").splitlines()) if line.strip()), "")
    return f"run failed: {last[:TITLE_ERROR_CHARS]}" if last else "run failed"


def _ending_text(run, now: float, last_step) -> str:
    step = "" if last_step is None else f" at step {last_step}"
    if run.status == "failed":
        lines = (run.error or "").rstrip().splitlines()
        shown = "\n".join(lines[-TRACEBACK_LINES:])
        return f"failed{step}:\n{shown}" if shown else f"failed{step} (no traceback recorded)"
    writer = max(run.writers, key=lambda state: state.last_seen or 0.0, default=None)
    where = f" ({writer.host or '?'} pid {writer.pid})" if writer is not None and writer.pid else ""
    return (f"no heartbeat since {_utc(run.last_seen or now)}{where}{step}: the process stopped without "
            "finishing the run (killed, out of memory, or its machine lost)")


def _utc(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))
