"""Sending events without holding anyone up: one daemon thread per notifier, each with a bounded queue.

``send()`` appends to each notifier's queue and returns; it never waits and never raises. A
notifier's thread sends the events in order. An attempt that fails is retried after
RETRY_DELAYS_S (backoff; ``$TRACKER_NOTIFY_RETRY_SCALE`` scales them, for tests), and an event
that still fails is given up with one warning per notifier while it keeps failing (one more,
saying so, once it works again). A queue past MAX_QUEUED_EVENTS drops the newest event, with one
warning: a dead notifier cannot hold memory. One slow or broken notifier delays no other.
"""
from __future__ import annotations

import collections
import itertools
import os
import threading
import time
import warnings

from .errors import NotifyError
from .event import Event

MAX_QUEUED_EVENTS = 1_000
RETRY_DELAYS_S = tuple(delay * float(os.environ.get("TRACKER_NOTIFY_RETRY_SCALE", "1"))
                       for delay in (1.0, 4.0, 15.0))


class _Lane:
    """One notifier's queue and thread. ``busy`` counts the events queued or being sent, under
    ``changed``, so that waiting for the lane to be idle cannot miss an event just queued."""

    def __init__(self, notifier, sender: "NotifySender"):
        self.notifier = notifier
        self.sender = sender
        self.queue: collections.deque = collections.deque()
        self.changed = threading.Condition()
        self.busy = 0
        self.failing = False
        self.thread: threading.Thread | None = None

    def put(self, token: int, event: Event) -> bool:
        with self.changed:
            if len(self.queue) >= self.sender.max_queued:
                return False
            self.queue.append((token, event))
            self.busy += 1
            self.changed.notify_all()
            if self.thread is None:  # started on the first event: a run that never alerts pays nothing
                self.thread = threading.Thread(target=self._run, name=f"tracker-notify-{self.notifier.name}",
                                               daemon=True)
                self.thread.start()
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.busy == 0, timeout_s)

    def _run(self) -> None:
        while True:
            with self.changed:
                self.changed.wait_for(lambda: self.queue)
                token, event = self.queue.popleft()
            delivered = self._deliver(event)  # outside the lock: put() never waits for a send
            self.sender._done(token, delivered)
            with self.changed:
                self.busy -= 1
                self.changed.notify_all()

    def _deliver(self, event: Event) -> bool:
        error = None
        for attempt in range(len(self.sender.retry_delays_s) + 1):
            if attempt:
                time.sleep(self.sender.retry_delays_s[attempt - 1])
            try:
                self.notifier.send(event)
            except NotifyError as exc:
                error = exc.why
                continue
            except Exception as exc:  # noqa: BLE001 - a notifier's bug must not end its thread
                error = f"{type(exc).__name__}: {exc}"
                continue
            if self.failing:
                self.failing = False
                self.sender.warn(f"tracker: notifier {self.notifier.name} works again")
            return True
        if not self.failing:
            self.failing = True
            tries = f"{attempt + 1} attempts" if attempt else "1 attempt"
            self.sender.warn(f"tracker: notifier {self.notifier.name} failed ({error}) after {tries}; "
                             f"the {event.kind} {event.title!r} of run {event.run_id} was not sent, nor will "
                             "others be while it fails (no further warning); training goes on")
        return False


class NotifySender:
    """Sends each event to every notifier in the background. ``on_done(event, delivered)`` is
    called once per event when every notifier has sent it or given up (delivered: all sent)."""

    def __init__(self, notifiers: list, *, retry_delays_s: tuple = RETRY_DELAYS_S,
                 max_queued: int = MAX_QUEUED_EVENTS, on_done=None, warn=None):
        self.retry_delays_s = tuple(retry_delays_s)
        self.max_queued = max_queued
        self.on_done = on_done
        self.warn = warn or _warn
        self._lanes = [_Lane(notifier, self) for notifier in notifiers]
        self._lock = threading.Lock()  # guards _open; never held while sending
        self._open: dict[int, list] = {}  # token -> [event, lanes left, all delivered so far]
        self._tokens = itertools.count()
        self._dropped_warned = False

    @property
    def notifier_names(self) -> list[str]:
        return [lane.notifier.name for lane in self._lanes]

    def send(self, event: Event) -> None:
        """Queue ``event`` for every notifier; returns at once."""
        if not self._lanes:
            return
        with self._lock:
            token = next(self._tokens)
            self._open[token] = [event, len(self._lanes), True]
        for lane in self._lanes:
            if not lane.put(token, event):
                if not self._dropped_warned:
                    self._dropped_warned = True
                    self.warn(f"tracker: over {self.max_queued} events wait for notifier {lane.notifier.name}; "
                              f"newer ones are dropped while it catches up (first: {event.title!r})")
                self._done(token, False)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for every queued event to be sent or given up; True if all were."""
        deadline = time.monotonic() + timeout_s
        return all(lane.wait_idle(max(0.0, deadline - time.monotonic())) for lane in self._lanes)

    def pending(self) -> int:
        """Events not yet sent or given up by every notifier."""
        with self._lock:
            return len(self._open)

    def _done(self, token: int, delivered: bool) -> None:
        with self._lock:
            entry = self._open.get(token)
            if entry is None:
                return
            entry[1] -= 1
            entry[2] = entry[2] and delivered
            if entry[1] > 0:
                return
            del self._open[token]
        event = entry[0]
        if self.on_done is not None:
            try:
                self.on_done(event, entry[2])
            except Exception as exc:  # noqa: BLE001 - the caller's bookkeeping must not end a lane
                self.warn(f"tracker: after sending {event.title!r}: {type(exc).__name__}: {exc}")


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=2)
