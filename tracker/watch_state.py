"""What `tracker watch` has sent: the events of each run, kept in the runs folder so a restart sends nothing twice.

``<runs>/.tracker-watch.json`` (a hidden file: no reader takes it for a run) maps each run id to
the keys of the events sent for it (Event.key: ``failed:<writers>``, ``alert:<time>:<hash>``...),
never their text or where they went: no secret is written here. It is replaced atomically
(atomic_file.py) after each event is sent, so a watcher killed at any moment loses at most the
events it was sending, which the next one sends again.
"""
from __future__ import annotations

import json
import os
import threading
import warnings

from .atomic_file import replace_file

STATE_FILE = ".tracker-watch.json"
STATE_VERSION = 1


class WatchState:
    """The events sent for the runs of one runs folder. ``known`` is False when no state file
    existed (or it was unreadable): the watcher's first look then records what it finds as
    sent, unless asked to send it (``--send-existing``)."""

    def __init__(self, root: str):
        self.path = os.path.join(root, STATE_FILE)
        self.sent: dict[str, set[str]] = {}
        self.known = False
        self._lock = threading.Lock()  # add() comes from the notifier threads, save() too

    @classmethod
    def load(cls, root: str) -> "WatchState":
        state = cls(root)
        try:
            with open(state.path, encoding="utf-8") as handle:
                data = json.load(handle)
            state.sent = {str(run_id): set(map(str, keys)) for run_id, keys in data["sent"].items()}
            state.known = True
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            warnings.warn(f"tracker: {state.path} is unreadable ({type(exc).__name__}: {exc}); starting afresh: "
                          "events found now are recorded as sent, not sent", RuntimeWarning, stacklevel=2)
        return state

    def has(self, run_id: str, key: str) -> bool:
        with self._lock:
            return key in self.sent.get(run_id, ())

    def add(self, run_id: str, key: str) -> None:
        with self._lock:
            self.sent.setdefault(run_id, set()).add(key)

    def save(self) -> None:
        """Write the state file; trouble writing it is a warning (the watcher keeps watching, and
        a restart may then send an event again)."""
        with self._lock:
            data = {"version": STATE_VERSION, "sent": {run_id: sorted(keys) for run_id, keys in sorted(self.sent.items())}}
            text = json.dumps(data, indent=1) + "\n"
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)  # a runs folder no run has made yet
                replace_file(self.path, text)
                self.known = True
            except OSError as exc:
                warnings.warn(f"tracker: cannot write {self.path} ({exc.strerror or exc}); a restarted watcher "
                              "may send this folder's events again", RuntimeWarning, stacklevel=2)
