"""The watcher behind `tracker watch`: runs folders followed, each run's events sent once to the notifiers.

It sits on the reader (load_run and its status logic: a writer whose heartbeat went stale has
crashed) and the notifiers, never on the site. Runs folders are followed with watchfiles where it
is installed (as `tracker serve` does), else looked at every POLL_FALLBACK_S; either way the runs
still running are read again every POLL_S, since a crash or a stall is the absence of change.
A run that has ended is read again only when its files change (run_keys: its content key).

Each event is sent once (watch_state.py). On a folder's first watch (no state file) the events
already there are recorded as sent without sending them, unless ``send_existing``: starting a
watcher on a year of runs must not send a year of failures.
"""
from __future__ import annotations

import os
import threading
import time
import warnings

from .errors import RunFormatError
from .layout import runs_root
from .notify.sender import NotifySender
from .reader import load_run
from .run_keys import find_run_folders, is_run_folder_name, scan_folder
from .run_reading import read_heartbeats
from .status import run_status
from .watch_events import last_step_time, run_events
from .watch_state import STATE_FILE, WatchState

POLL_S = 0.5  # running runs are looked at this often: a crash shows within it of the reader's verdict
READ_SHARE = 10  # a running run is read again after 10 times its last read took, at the least (a long
                 # run read every POLL_S would keep a core busy); its heartbeats are looked at meanwhile
POLL_FALLBACK_S = 2.0  # without watchfiles, every run folder is scanned this often
FULL_RESCAN_S = 30.0  # with watchfiles, a full scan this often anyway (a missed change, a new runs folder)
DEBOUNCE_MS = 100


class Watcher:
    """Looks at the runs of ``roots`` and sends their events to ``notifiers``; ``report(line)``
    hears of each event sent, recorded or given up."""

    def __init__(self, roots, notifiers: list, *, rules=(), stall_after_s: float | None = None,
                 base_url: str | None = None, send_existing: bool = False, report=print):
        self.roots = [runs_root(root) for root in (roots or [None])]
        self.rules = list(rules)
        self.stall_after_s = stall_after_s
        self.base_url = base_url
        self.send_existing = send_existing
        self.report = report
        self.sender = NotifySender(notifiers, on_done=self._done)
        self.states = {root: WatchState.load(root) for root in self.roots}
        self._ended: dict[str, str] = {}  # run folder -> its key when last read, for runs that had ended
        self._running: dict[str, str] = {}  # run folder -> its root, for runs running when last read
        self._last_read: dict[str, tuple] = {}  # run folder -> (RunRecord, read at, seconds it took): running runs
        # (root, run id, event key) of the events being sent, and the same by id(event): an event
        # seen again while its notifiers still retry (a stall, a rule: made anew at each look) waits
        self._in_flight: set[tuple[str, str, str]] = set()
        self._sending: dict[int, tuple[str, str, str]] = {}
        self._lock = threading.Lock()  # guards _in_flight (the notifier threads finish events)

    # -- looking ---------------------------------------------------------------------------

    def check(self, now: float | None = None) -> None:
        """One look at every run of every runs folder."""
        for root in self.roots:
            found = find_run_folders(root).found
            self._look(root, found, now)

    def check_folders(self, folders: set[str], now: float | None = None) -> None:
        """A look at the run folders that changed and at every run still running."""
        by_root: dict[str, list] = {root: [] for root in self.roots}
        for folder in folders | set(self._running):
            root = self._running.get(folder) or os.path.dirname(folder)
            if root in by_root:
                scan = scan_folder(folder)
                if scan.key is not None:
                    by_root[root].append((folder, scan.key))
                else:  # removed, or no longer a run folder
                    self._running.pop(folder, None)
                    self._last_read.pop(folder, None)
        for root, found in by_root.items():
            self._look(root, found, now)

    def _look(self, root: str, found: list[tuple[str, str]], now: float | None) -> None:
        state = self.states[root]
        first = not state.known
        for path, key in found:
            if self._ended.get(path) == key or not self._read_due(path, time.time() if now is None else now):
                continue
            try:
                self._look_at_run(root, state, first, path, key, time.time() if now is None else now)
            except Exception as exc:  # noqa: BLE001 - one odd run must not stop the watcher for all
                warnings.warn(f"tracker: watching {path} failed ({type(exc).__name__}: {exc}); "
                              "the other runs are watched", RuntimeWarning, stacklevel=2)
                self._ended[path] = key  # looked at again once its files change
        if first:
            state.save()  # from now on the folder is known: what appears is sent, also after a restart

    def _look_at_run(self, root: str, state: WatchState, first: bool, path: str, key: str, at: float) -> None:
        """Read one run and send (or, on a folder's first look, record) its new events."""
        started = time.monotonic()
        try:
            run = load_run(path, now=at, last_only=True)
        except (RunFormatError, OSError):
            return  # not a run yet (its first records are being written), or gone
        if run.status == "running":
            self._running[path] = root
            self._last_read[path] = (run, at, time.monotonic() - started)
            self._ended.pop(path, None)
        else:
            self._running.pop(path, None)
            self._last_read.pop(path, None)
            self._ended[path] = key
        events = run_events(run, at, stall_after_s=self.stall_after_s, rules=self.rules, base_url=self.base_url)
        for event in events:
            if state.has(run.id, event.key):
                continue
            if first and not self.send_existing:
                state.add(run.id, event.key)
                continue
            token = (root, run.id, event.key)
            with self._lock:
                if token in self._in_flight:
                    continue
                self._in_flight.add(token)
                self._sending[id(event)] = token
            self.sender.send(event)

    def _read_due(self, path: str, now: float) -> bool:
        """Whether to read a run now: any run but a running one read less than READ_SHARE times
        its read's duration ago, whose heartbeats still say running and which is not stalling."""
        last = self._last_read.get(path)
        if last is None:
            return True
        run, read_at, took_s = last
        if now - read_at >= max(POLL_S, READ_SHARE * took_s):
            return True
        read_heartbeats(path, {writer.writer: writer for writer in run.writers})
        if run_status(run.writers, now)[0] != "running":
            return True  # crashed by the reader's rule: read it to be sure and to say so
        if self.stall_after_s is None:
            return False
        return now - last_step_time(run, now) > self.stall_after_s

    def _done(self, event, delivered: bool) -> None:
        """A notifier thread finished ``event``: recorded as sent either way (a notifier that
        failed was retried and warned about; sending it again would repeat it to the others)."""
        with self._lock:
            token = self._sending.pop(id(event))
        root, run_id, key = token
        state = self.states[root]
        state.add(run_id, key)
        state.save()
        with self._lock:
            self._in_flight.discard(token)  # only now: a look meanwhile finds it in the state
        outcome = "sent" if delivered else "given up (see the warning)"
        self.report(f"{event.kind}: {event.project}/{event.run_name} ({run_id}): {event.title} - {outcome}")

    # -- following -------------------------------------------------------------------------

    def follow(self, stop: threading.Event) -> None:
        """Look again and again until ``stop`` is set: on each change under the runs folders,
        and every POLL_S for the running runs."""
        try:
            import watchfiles  # the [site] extra, as `tracker serve`; polling does without it
        except ImportError:
            watchfiles = None
        while not stop.is_set():
            try:
                self.check()
                roots = [root for root in self.roots if os.path.isdir(root)]
                if watchfiles is None or not roots:
                    stop.wait(POLL_FALLBACK_S)
                    continue
                self._follow_changes(watchfiles, roots, stop)
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive anything that goes wrong
                warnings.warn(f"tracker: watching {', '.join(self.roots)} failed ({type(exc).__name__}: {exc}); "
                              "watching again", RuntimeWarning, stacklevel=2)
                stop.wait(POLL_FALLBACK_S)

    def _follow_changes(self, watchfiles, roots: list[str], stop: threading.Event) -> None:
        started = time.monotonic()

        def run_folder(path: str) -> str | None:
            for root in roots:
                relative = os.path.relpath(path, root)
                if not relative.startswith(os.pardir) and relative != ".":
                    name = relative.split(os.sep, 1)[0]
                    return os.path.join(root, name) if is_run_folder_name(name) else None
            return None

        for changes in watchfiles.watch(*roots, stop_event=stop, debounce=DEBOUNCE_MS, step=50,
                                        rust_timeout=int(POLL_S * 1000), yield_on_timeout=True,
                                        watch_filter=lambda change, path: os.path.basename(path) != STATE_FILE
                                        and not os.path.basename(path).startswith(STATE_FILE + ".tmp")):
            folders = {folder for folder in (run_folder(path) for _, path in changes) if folder is not None}
            self.check_folders({folder for folder in folders if os.path.isdir(folder)})
            if time.monotonic() - started > FULL_RESCAN_S:
                return
