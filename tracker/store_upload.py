"""Uploading a run to a store: a daemon thread that ships the spool's run folder as docs/format.md lays it out.

With ``tracker.init(dir="s3://bucket/prefix")`` (or ``$TRACKER_DIR``; any fsspec URL) the run is
written as usual into a local *spool* folder (``spool_root()``), so ``log()`` keeps its hot path
and never waits on the network, and a ``StoreUploader`` thread ships that folder every
UPLOAD_INTERVAL_S:

- this writer's heartbeat first, then its events file as closed segments (immutable, cut at
  line ends every 4 MiB or 300 s) and one open segment, replaced while it grows, then every
  other file of the folder (console log, files/, media/, artifacts/) when its size or
  modification time changed (the shippers of tracker/store_shipping.py);
- last, when the round uploaded anything, an entry in the store's change journal
  (tracker/store_changes.py), so that readers need not list the whole store to find the run.

A store that fails is one warning per cause; the spool keeps everything, and uploads are retried,
backing off up to RETRY_MAX_INTERVAL_S, from exactly where the store's copy ends. ``finish()``
uploads the rest within a bounded wait (UPLOAD_WAIT_S) and says what is left in the spool and the
``tracker sync`` command that uploads it later (tracker/cli/sync.py, which uses the same shippers
with their state read back from the store: ``sync_run``). Once everything is uploaded this
writer's spool files are removed (set TRACKER_KEEP_SPOOL=1 to keep them).

fsspec is imported by ``store_shipping.Store`` only, on the uploader's thread: a run logged to a folder never
loads it. Credentials are the backend's business (environment, profiles, fsspec's config): the
spool's note and every message name the store without them.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import warnings

from .atomic_file import replace_file
from .layout import MAIN_EVENTS_FILE
from .run_keys import is_events_file
from .store_urls import without_credentials
from .store_backends import install_hint, protocol_of
from .store_shipping import STORE_NOTE, CountingStore, EventsFileShrank, EventsShipper, FolderShipper, Store

UPLOAD_INTERVAL_S = float(os.environ.get("TRACKER_UPLOAD_INTERVAL_S", "5"))
UPLOAD_WAIT_S = float(os.environ.get("TRACKER_UPLOAD_WAIT_S", "30"))
RETRY_MAX_INTERVAL_S = 60.0  # while the store fails, retries back off from the interval to this


def spool_root() -> str:
    """Where runs logged to a store are written first: $TRACKER_SPOOL, else the user's cache
    folder's tracker/spool (~/.cache/tracker/spool)."""
    chosen = os.environ.get("TRACKER_SPOOL")
    if not chosen:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        chosen = os.path.join(cache, "tracker", "spool")
    return os.path.abspath(chosen)


def store_heartbeat_interval_s() -> float:
    """The heartbeat interval of a writer whose run goes to a store: two upload intervals, since
    the heartbeat object is refreshed once an upload interval (docs/format.md)."""
    return 2 * UPLOAD_INTERVAL_S


def keeps_spool() -> bool:
    return os.environ.get("TRACKER_KEEP_SPOOL", "").strip().lower() in ("1", "true", "yes")


class StoreUploader:
    """The uploader of one writer: started by ``tracker.init()`` for a store URL, finished by
    ``Run.finish()``. Nothing here raises into the training script."""

    def __init__(self, url: str, run_folder: str, run_id: str, events_file: str, writer_id: str,
                 interval_s: float | None = None, wait_s: float | None = None):
        self.url = url
        self.shown_url = without_credentials(url)
        self.run_folder = run_folder
        self.run_id = run_id
        self.interval_s = UPLOAD_INTERVAL_S if interval_s is None else interval_s
        self.wait_s = UPLOAD_WAIT_S if wait_s is None else wait_s
        self.events = EventsShipper(os.path.join(run_folder, events_file))
        self.files = FolderShipper(run_folder, writer_id, events_file)
        self._store: Store | None = None
        self._wake = threading.Event()
        self._finishing = False
        self._done = threading.Event()
        self._complete = False
        self._failing = False
        self._retry_delay_s = self.interval_s
        self._warned: set[str] = set()
        write_store_note(run_folder, url, run_id)
        self._thread = threading.Thread(target=self._run, name=f"tracker-upload-{writer_id}", daemon=True)
        self._thread.start()

    def finish(self, wait_s: float | None = None) -> bool:
        """Upload everything left, waiting at most ``wait_s`` (default UPLOAD_WAIT_S); True when
        all of it reached the store. Otherwise a warning says what stays in the spool and how to
        upload it later."""
        wait_s = self.wait_s if wait_s is None else wait_s
        self._finishing = True
        self._wake.set()
        self._done.wait(wait_s)
        if self._complete:
            return True
        files, file_bytes = self.files.unshipped()
        left = self.events.unshipped_bytes() + file_bytes
        warnings.warn(f"tracker: run {self.run_id} is not completely uploaded to {self.shown_url} after "
                      f"{wait_s:.0f} s: {left:,} bytes ({files} files and the events not yet in a closed "
                      f"segment) stay in the spool {self.run_folder}. Upload them later with: "
                      f"tracker sync {self.run_folder}", RuntimeWarning, stacklevel=3)
        return False

    def _run(self) -> None:
        delay = 0.0
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            final = self._finishing
            if self._cycle(final) and final:
                self._complete = True
                self._clean_spool()
                self._done.set()
                return
            delay = self._retry_delay_s if self._failing else self.interval_s
            if final:  # finish() is waiting: retry sooner than the back-off says
                delay = min(delay, 1.0)

    def _cycle(self, final: bool) -> bool:
        """One round of uploads; False when the store failed (warned once per cause)."""
        try:
            if self._store is None:
                self._store = Store(self.url, self.run_id)
            store = self._store
            self.files.ship_heartbeat(store)
            self.events.ship(store, final)
            self.files.ship(store, final)
            store.note_changes()
        except Exception as exc:  # the store's errors are many and backend-specific: all mean "not now"
            self._failed(exc)
            return False
        if self._failing:
            self._failing = False
            self._retry_delay_s = self.interval_s
        return True

    def _failed(self, exc: Exception) -> None:
        self._failing = True
        self._retry_delay_s = min(self._retry_delay_s * 2, max(RETRY_MAX_INTERVAL_S, self.interval_s))
        if isinstance(exc, EventsFileShrank):
            self._warn_once("shrank", f"tracker: {exc}")
            return
        cause = f"{type(exc).__module__}.{type(exc).__name__}"
        detail = str(exc).replace(self.url, self.shown_url) or type(exc).__name__
        if isinstance(exc, ImportError):
            detail += f" ({install_hint(protocol_of(self.url))})"
        self._warn_once(cause, f"tracker: cannot upload run {self.run_id} to {self.shown_url}: {detail}. "
                               f"Training continues; the run is kept in the spool {self.run_folder} and uploaded "
                               "when the store answers again.")

    def _clean_spool(self) -> None:
        """Remove this writer's files from the spool once the store holds them; the folder with
        them once no writer's events file is left in it."""
        if keeps_spool():
            return
        own = [self.events.path, os.path.join(self.run_folder, self.files.heartbeat_name())]
        own += [os.path.join(self.run_folder, name) for name in
                (f"console-{self.files.writer_id}.log",
                 "console.log" if self.files.events_file == MAIN_EVENTS_FILE else None) if name]
        try:
            for path in own:
                if os.path.exists(path):
                    os.remove(path)
            if not any(is_events_file(name) for name in os.listdir(self.run_folder)):
                shutil.rmtree(self.run_folder, ignore_errors=True)
        except OSError:
            pass  # a spool left behind costs disk space, nothing else

    def _warn_once(self, cause: str, message: str) -> None:
        if cause not in self._warned:
            self._warned.add(cause)
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def write_store_note(run_folder: str, url: str, run_id: str) -> None:
    """Note in the spool run folder where the run goes, for ``tracker sync`` (never uploaded)."""
    try:
        replace_file(os.path.join(run_folder, STORE_NOTE), json.dumps({"store": without_credentials(url), "run": run_id}))
    except OSError:
        pass  # the writer warns about a spool it cannot write


def read_store_note(run_folder: str) -> dict | None:
    try:
        with open(os.path.join(run_folder, STORE_NOTE), encoding="utf-8") as handle:
            note = json.load(handle)
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) and isinstance(note.get("store"), str) else None


def sync_run(run_folder: str, url: str, run_id: str) -> tuple[int, int]:
    """Upload everything a spool run folder holds that the store lacks, every writer's files, and
    close their open segments (``tracker sync``). Returns (objects uploaded, bytes). Raises what
    the store raises."""
    store = Store(url, run_id)
    sizes = store.sizes()
    uploaded = [0, 0]
    counting = CountingStore(store, uploaded)
    for name in sorted(os.listdir(run_folder)):
        if is_events_file(name):
            shipper = EventsShipper(os.path.join(run_folder, name))
            shipper.resume_from(sizes)
            shipper.ship(counting, final=True)
    files = FolderShipper(run_folder, None, None)
    files.assume_uploaded(sizes)
    files.ship(counting, final=True)
    counting.note_changes()
    return uploaded[0], uploaded[1]
