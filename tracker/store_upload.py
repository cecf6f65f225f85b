"""Uploading a run to a store: a daemon thread that ships the spool's run folder as docs/format.md lays it out.

With ``tracker.init(dir="s3://bucket/prefix")`` (or ``$TRACKER_DIR``; any fsspec URL) the run is
written as usual into a local *spool* folder (``spool_root()``), so ``log()`` keeps its hot path
and never waits on the network, and a ``StoreUploader`` thread ships that folder every
UPLOAD_INTERVAL_S:

- each events file of this writer as closed segments (immutable, cut at line ends every
  SEGMENT_BYTES or SEGMENT_AGE_S) and one open segment, replaced while it grows
  (``EventsShipper``; names and cuts from tracker/segments.py);
- this writer's heartbeat first, then every other file of the folder (console log, files/,
  media/, artifacts/) when its size or modification time changed (``FolderShipper``); a console
  log, which changes all the time, at most every CONSOLE_UPLOAD_INTERVAL_S.

A store that fails is one warning per cause; the spool keeps everything, and uploads are retried,
backing off up to RETRY_MAX_INTERVAL_S, from exactly where the store's copy ends. ``finish()``
uploads the rest within a bounded wait (UPLOAD_WAIT_S) and says what is left in the spool and the
``tracker sync`` command that uploads it later (tracker/cli/sync.py, which uses the same shippers
with their state read back from the store: ``sync_run``). Once everything is uploaded this
writer's spool files are removed (set TRACKER_KEEP_SPOOL=1 to keep them).

fsspec is imported by ``Store`` only, on the uploader's thread: a run logged to a folder never
loads it. Credentials are the backend's business (environment, profiles, fsspec's config): the
spool's note and every message name the store without them.
"""
from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import re
import shutil
import threading
import time
import warnings

from .atomic_file import replace_file
from .layout import MAIN_EVENTS_FILE
from .run_keys import is_events_file
from .segments import (closed_segment_name, open_segment_name, parse_segment, plan_segments, segments_folder,
                       whole_lines, without_credentials)
from .version import DISTRIBUTION

UPLOAD_INTERVAL_S = float(os.environ.get("TRACKER_UPLOAD_INTERVAL_S", "5"))
SEGMENT_BYTES = int(float(os.environ.get("TRACKER_SEGMENT_MB", "4")) * 2**20)
SEGMENT_AGE_S = float(os.environ.get("TRACKER_SEGMENT_AGE_S", "300"))
UPLOAD_WAIT_S = float(os.environ.get("TRACKER_UPLOAD_WAIT_S", "30"))
CONSOLE_UPLOAD_INTERVAL_S = 30.0  # a console log is uploaded whole: not every few seconds
RETRY_MAX_INTERVAL_S = 60.0  # while the store fails, retries back off from the interval to this
PIPED_FILE_BYTES = 16 * 2**20  # files up to this are read, then uploaded: a growing log uploads whole lines
STORE_NOTE = ".tracker-store.json"  # in a spool run folder: where it goes; never uploaded
_WRITER_FILE = re.compile(r"^(?:heartbeat|console)-(.+)\.(?:json|log)$")
# The module of each protocol's fsspec backend where it is not fsspec itself, and its extra.
BACKEND_MODULES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
                   "abfss": "adlfs"}
BACKEND_EXTRAS = {"s3fs": "s3", "gcsfs": "gcs", "adlfs": "azure"}


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


def missing_backend(url: str) -> str | None:
    """What to install for ``url``'s backend (fsspec and, for s3://, s3fs...), found without
    importing them (fsspec alone takes about half a second), or None when it is installed."""
    module = BACKEND_MODULES.get(_protocol(url))
    for name in ("fsspec", module):
        if name and importlib.util.find_spec(name) is None:
            return f"{name}, which is not installed: {install_hint(url)}"
    return None


def install_hint(url: str) -> str:
    """The pip command that installs ``url``'s backend."""
    module = BACKEND_MODULES.get(_protocol(url))
    if module in BACKEND_EXTRAS:
        return f"pip install '{DISTRIBUTION}[{BACKEND_EXTRAS[module]}]'"
    return "pip install fsspec"


def _protocol(url: str) -> str:
    return url.split("://", 1)[0].lower()


def keeps_spool() -> bool:
    return os.environ.get("TRACKER_KEEP_SPOOL", "").strip().lower() in ("1", "true", "yes")


class Store:
    """A run's place in a store: ``<url>/<run id>/``, through fsspec."""

    def __init__(self, url: str, run_id: str):
        import fsspec  # here only: see the module docstring

        self.url = without_credentials(url)
        self.fs, root = fsspec.core.url_to_fs(url)
        if hasattr(self.fs, "auto_mkdir"):  # a local or mounted file system: folders as needed
            self.fs.auto_mkdir = True
        self.root = posixpath.join(root.rstrip("/"), run_id)

    def where(self, relative: str = "") -> str:
        return f"{self.url.rstrip('/')}/{posixpath.basename(self.root)}/{relative}".rstrip("/")

    def put_bytes(self, relative: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{relative}", data)

    def put_file(self, relative: str, local: str) -> None:
        self.fs.put_file(local, f"{self.root}/{relative}")

    def delete(self, relative: str) -> None:
        try:
            self.fs.rm_file(f"{self.root}/{relative}")
        except FileNotFoundError:
            pass

    def sizes(self) -> dict[str, int]:
        """Every object of the run, by path relative to it, with its size: fresh from the store."""
        self.fs.invalidate_cache(self.root)
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        prefix = self.root.rstrip("/") + "/"
        return {name[len(prefix):]: int(info.get("size") or 0) for name, info in found.items()
                if name.startswith(prefix)}


class EventsShipper:
    """One events file of the spool, shipped as segments. Its state says how far the store's
    copy goes, and only moves once an upload succeeded: after a failure the next ``ship``
    starts again from there."""

    def __init__(self, path: str, segment_bytes: int = SEGMENT_BYTES, segment_age_s: float = SEGMENT_AGE_S):
        self.path = path
        self.name = os.path.basename(path)
        self.folder = segments_folder(self.name)
        self.segment_bytes = segment_bytes
        self.segment_age_s = segment_age_s
        self.closed_end = 0  # the store's closed segments hold the file up to here
        self.open_uploaded: tuple[int, int] | None = None  # (offset, size) of the open segment in the store
        self.stale_opens: set[int] = set()  # offsets of open segments to delete
        self.open_since = time.monotonic()

    def resume_from(self, sizes: dict[str, int]) -> None:
        """Take up from what the store holds (``Store.sizes()``): after its closed chain."""
        prefix = self.folder + "/"
        segments = [parse_segment(name[len(prefix):], size) for name, size in sizes.items()
                    if name.startswith(prefix) and "/" not in name[len(prefix):]]
        segments = [segment for segment in segments if segment is not None]
        self.closed_end = plan_segments(segments).closed_end
        self.stale_opens = {segment.offset for segment in segments if segment.open}

    def unshipped_bytes(self) -> int:
        try:
            return max(0, os.path.getsize(self.path) - self.closed_end)
        except OSError:
            return 0

    def ship(self, store: Store, final: bool) -> None:
        """Upload what the file gained: closed segments where due, then the open segment (none
        when ``final``: everything is closed), then delete open segments that are stale."""
        while True:
            data, more = self._read_from(self.closed_end)
            lines = whole_lines(data)
            due = final or more or lines >= self.segment_bytes or \
                (lines and time.monotonic() - self.open_since >= self.segment_age_s)
            if not (due and lines):
                break
            store.put_bytes(f"{self.folder}/{closed_segment_name(self.closed_end)}", data[:lines])
            if self.open_uploaded is not None:
                self.stale_opens.add(self.open_uploaded[0])
                self.open_uploaded = None
            self.closed_end += lines
            self.open_since = time.monotonic()
            if not more:
                data, lines = b"", 0
                break
        if lines and self.open_uploaded != (self.closed_end, lines):
            store.put_bytes(f"{self.folder}/{open_segment_name(self.closed_end)}", data[:lines])
            if self.open_uploaded is not None and self.open_uploaded[0] != self.closed_end:
                self.stale_opens.add(self.open_uploaded[0])
            self.open_uploaded = (self.closed_end, lines)
        for offset in sorted(self.stale_opens):
            if self.open_uploaded is None or offset != self.open_uploaded[0]:
                store.delete(f"{self.folder}/{open_segment_name(offset)}")
            self.stale_opens.discard(offset)

    def _read_from(self, offset: int) -> tuple[bytes, bool]:
        """Up to segment_bytes of the file from ``offset`` (more when one line is longer), and
        whether the file holds more after them."""
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < offset:
                    raise EventsFileShrank(self.path, size, offset)
                handle.seek(offset)
                data = handle.read(self.segment_bytes)
                while len(data) >= self.segment_bytes and whole_lines(data) == 0:
                    chunk = handle.read(2**20)  # one line longer than a segment: it goes whole
                    if not chunk:
                        break
                    data += chunk
                return data, offset + len(data) < size
        except FileNotFoundError:
            return b"", False


class EventsFileShrank(OSError):
    """The spool's events file is shorter than what the store holds of it: it was replaced."""

    def __init__(self, path: str, size: int, shipped: int):
        self.path = path
        super().__init__(f"{path} holds {size:,} bytes but {shipped:,} were uploaded from it: the file was "
                         "replaced or truncated; uploads of it stop")


class FolderShipper:
    """Every file of a spool run folder but the events files: uploaded whole when its size or
    modification time changed. Files of other writers sharing the folder (ranks of one node)
    are theirs to upload."""

    def __init__(self, folder: str, writer_id: str | None, events_file: str | None):
        self.folder = folder
        self.writer_id = writer_id
        self.events_file = events_file
        self.shipped: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) uploaded
        self.console_uploaded_at: dict[str, float] = {}

    def heartbeat_name(self) -> str | None:
        return f"heartbeat-{self.writer_id}.json" if self.writer_id else None

    def assume_uploaded(self, sizes: dict[str, int]) -> None:
        """Count files the store already holds at the same size as uploaded (``tracker sync``;
        heartbeats excepted: the spool's is the latest)."""
        for relative, stat in self._files():
            if sizes.get(relative) == stat[0] and not relative.startswith("heartbeat-"):
                self.shipped[relative] = stat

    def changed(self, final: bool) -> list[tuple[str, tuple[int, int]]]:
        now = time.monotonic()
        heartbeat = self.heartbeat_name()
        found = []
        for relative, stat in self._files():
            if self.shipped.get(relative) == stat:
                continue
            if not final and _is_console_log(relative) and \
                    now - self.console_uploaded_at.get(relative, -1e9) < CONSOLE_UPLOAD_INTERVAL_S:
                continue
            found.append((relative, stat))
        found.sort(key=lambda item: item[0] != heartbeat)  # the heartbeat first: it says the run lives
        return found

    def ship(self, store: Store, final: bool) -> None:
        for relative, stat in self.changed(final):
            self._ship_one(store, relative, stat)
            if stat[0] > 2**20:  # a large file takes a while: the heartbeat must not look stale meanwhile
                self.ship_heartbeat(store)

    def ship_heartbeat(self, store: Store) -> None:
        name = self.heartbeat_name()
        if name is None:
            return
        try:
            stat = os.stat(os.path.join(self.folder, name))
        except FileNotFoundError:
            return
        if self.shipped.get(name) != (stat.st_size, stat.st_mtime_ns):
            self._ship_one(store, name, (stat.st_size, stat.st_mtime_ns))

    def _ship_one(self, store: Store, relative: str, stat: tuple[int, int]) -> None:
        local = os.path.join(self.folder, relative)
        if stat[0] <= PIPED_FILE_BYTES:  # read first: a log appended to meanwhile goes as one snapshot
            try:
                with open(local, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                return
            store.put_bytes(relative, data)
        else:
            store.put_file(relative, local)
        self.shipped[relative] = stat
        if _is_console_log(relative):
            self.console_uploaded_at[relative] = time.monotonic()

    def unshipped(self) -> tuple[int, int]:
        """How many files are not uploaded as they are now, and their bytes."""
        files = [stat for relative, stat in self._files() if self.shipped.get(relative) != stat]
        return len(files), sum(size for size, _ in files)

    def _files(self):
        for root, folders, files in os.walk(self.folder):
            folders.sort()
            for name in sorted(files):
                local = os.path.join(root, name)
                relative = os.path.relpath(local, self.folder).replace(os.sep, "/")
                if not self._uploads(relative):
                    continue
                try:
                    stat = os.stat(local)
                except FileNotFoundError:
                    continue
                yield relative, (stat.st_size, stat.st_mtime_ns)

    def _uploads(self, relative: str) -> bool:
        name = posixpath.basename(relative)
        if relative == STORE_NOTE or ".tmp-" in name:
            return False
        if "/" in relative:
            return True
        if is_events_file(name):
            return False  # segments: EventsShipper's
        if self.writer_id is None:
            return True  # tracker sync ships every writer's files
        match = _WRITER_FILE.match(name)
        if match:
            return match.group(1) == self.writer_id
        if name == "console.log":
            return self.events_file == MAIN_EVENTS_FILE
        return True


def _is_console_log(relative: str) -> bool:
    return "/" not in relative and relative.startswith("console") and relative.endswith(".log")


class StoreUploader:
    """The uploader of one writer: started by ``tracker.init()`` for a store URL, finished by
    ``Run.finish()``. Nothing here raises into the training script."""

    def __init__(self, url: str, run_folder: str, run_id: str, events_file: str, writer_id: str,
                 interval_s: float = UPLOAD_INTERVAL_S, wait_s: float = UPLOAD_WAIT_S):
        self.url = url
        self.shown_url = without_credentials(url)
        self.run_folder = run_folder
        self.run_id = run_id
        self.interval_s = interval_s
        self.wait_s = wait_s
        self.events = EventsShipper(os.path.join(run_folder, events_file))
        self.files = FolderShipper(run_folder, writer_id, events_file)
        self._store: Store | None = None
        self._wake = threading.Event()
        self._finishing = False
        self._done = threading.Event()
        self._complete = False
        self._failing = False
        self._retry_delay_s = interval_s
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
            detail += f" ({install_hint(self.url)})"
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
    counting = _CountingStore(store, uploaded)
    for name in sorted(os.listdir(run_folder)):
        if is_events_file(name):
            shipper = EventsShipper(os.path.join(run_folder, name))
            shipper.resume_from(sizes)
            shipper.ship(counting, final=True)
    files = FolderShipper(run_folder, None, None)
    files.assume_uploaded(sizes)
    files.ship(counting, final=True)
    return uploaded[0], uploaded[1]


class _CountingStore:
    """A Store that counts what it uploads, for tracker sync's report."""

    def __init__(self, store: Store, counts: list):
        self._store = store
        self._counts = counts

    def put_bytes(self, relative: str, data: bytes) -> None:
        self._store.put_bytes(relative, data)
        self._counts[0] += 1
        self._counts[1] += len(data)

    def put_file(self, relative: str, local: str) -> None:
        self._store.put_file(relative, local)
        self._counts[0] += 1
        self._counts[1] += os.path.getsize(local)

    def delete(self, relative: str) -> None:
        self._store.delete(relative)
