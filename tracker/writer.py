"""The background writer: the only code that touches a run's record file while it runs.

``put()`` is called on the training thread: it appends to a deque and returns. A daemon
thread wakes every FLUSH_INTERVAL_S (or early when the buffer grows large), swaps out what
is pending, encodes it (tracker/line_encoding.py, which also folds it into the state the end
record carries: tracker/end_state.py) and appends it to the writer's own
JSON-lines file, and refreshes the heartbeat file. The training script never sees an
exception from here:

- a record that cannot be encoded costs only itself, with a warning naming it;
- trouble writing (full disk) is reported once per cause as a warning, and the encoded records
  wait (tracker/unwritten.py: written exactly once, at most MAX_UNWRITTEN_BYTES held, the oldest
  metrics dropped first) for retries that back off up to RETRY_MAX_INTERVAL_S;
- a run folder deleted mid-run is created again, with the run's head records (``run``,
  ``start``) written first so readers still find the run, and one warning.

SIGKILL loses at most about one flush interval of logging: when the oldest record not yet
written is older than the interval, ``log()`` waits for the writer (backpressure by time), as
it does when more than MAX_PENDING_RECORDS wait (backpressure by count). It never waits while
the disk refuses writes, nor longer than BACKPRESSURE_MAX_WAIT_S at a time.

Media objects (``put_media``) wait in the same queue, in order with the records, and are
encoded here, not in the loop: each becomes its files and its ``media`` record
(tracker/media_files.py). Their copies are bounded in bytes: while more than
MAX_QUEUED_MEDIA_BYTES wait, ``log()`` waits for the writer to encode some, since a burst (the
64 sample images of an epoch's end) is worth a short wait and the writer frees room object by
object; after BACKPRESSURE_MAX_WAIT_S (a writer stuck on a hung disk) the object is dropped
with a warning instead, so memory stays bounded and training goes on.
"""
from __future__ import annotations

import collections
import errno
import json
import os
import threading
import time
import warnings

from .atomic_file import replace_file
from .end_state import FileState
from .line_encoding import BatchEncoder
from .media_files import BYTES_PER_MB, DEFAULT_MEDIA_BUDGET_MB, MediaStore
from .media_logging import QueuedMedia
from .unwritten import UnwrittenRecords

FLUSH_INTERVAL_S = float(os.environ.get("TRACKER_FLUSH_INTERVAL_S", "1.0"))
HEARTBEAT_INTERVAL_S = float(os.environ.get("TRACKER_HEARTBEAT_INTERVAL_S", "2.0"))
# Past this, the writer is woken and each log() hands it the interpreter (sleep(0)): a loop that
# does nothing but log then pays the writer's share call by call, and little waits in memory.
# Without the hand-over the loop ran at its own pace until MAX_PENDING_RECORDS waited, then slept
# until the writer caught up: calls alternated between 4 and 16 us a second at a time.
FLUSH_AT_RECORDS = 20_000
# The most records one batch takes: the rest stay queued, so log() keeps yielding while a backlog
# is written, rather than running free until the writer takes the next batch.
MAX_BATCH_RECORDS = FLUSH_AT_RECORDS // 4
MAX_PENDING_RECORDS = 200_000  # past this, log() yields to the writer (about 1 ms) instead of growing
BACKPRESSURE_SLEEP_S = 0.001
BACKPRESSURE_POLL_S = 0.05  # a log() waiting for the writer looks again at least this often
BACKPRESSURE_MAX_WAIT_S = 5.0  # a hung file system must not hang training: stop waiting after this
BOUND_LAG_BY_TIME = True  # the benchmark switches it off to measure what it costs
MAX_UNWRITTEN_BYTES = int(os.environ.get("TRACKER_MAX_UNWRITTEN_BYTES", str(32 * 2**20)))
RETRY_MAX_INTERVAL_S = 5.0  # while writes fail, retries back off from the flush interval to this
MAX_QUEUED_MEDIA_BYTES = int(os.environ.get("TRACKER_MAX_QUEUED_MEDIA_BYTES", str(256 * 2**20)))


class RecordWriter:
    """Appends records to ``events_path`` from a background thread."""

    def __init__(self, events_path: str, heartbeat_path: str, writer_id: str,
                 flush_interval_s: float = FLUSH_INTERVAL_S,
                 heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
                 max_unwritten_bytes: int = MAX_UNWRITTEN_BYTES,
                 media_budget_bytes: int = int(DEFAULT_MEDIA_BUDGET_MB * BYTES_PER_MB),
                 max_queued_media_bytes: int = MAX_QUEUED_MEDIA_BYTES):
        self.events_path = events_path
        self.heartbeat_path = heartbeat_path
        self.writer_id = writer_id
        self.flush_interval_s = flush_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.max_unwritten_bytes = max_unwritten_bytes
        self.max_queued_media_bytes = max_queued_media_bytes
        self._pending: collections.deque = collections.deque()
        self._keys: tuple = ()  # the keys of the last metrics queued
        self._unwritten = UnwrittenRecords()
        self._head_records: list[dict] = []
        self._file_state = FileState()  # what the end record says about the file (end_state.py)
        self._encoder = BatchEncoder(self._warn_once, self._file_state)
        self._media = MediaStore(os.path.dirname(events_path), media_budget_bytes, self._warn_once)
        self._media_lock = threading.Lock()  # guards the two counts below, never held across I/O
        self._queued_media = 0  # media objects put and not yet stored (or skipped)
        self._queued_media_bytes = 0  # what their copies hold (Media.held_bytes)
        self._media_room = threading.Event()  # set each time the writer has stored (or skipped) one
        self._wake = threading.Event()
        self._written = threading.Event()  # set after each write: a log() waiting for the writer goes on
        self._stopping = False
        self._warned: set[str] = set()
        self._last_heartbeat = 0.0
        self._needs_newline_check = True
        self._file_seen = False  # a missing file later means the run folder (or file) vanished
        self._failing = False  # the last write failed: log() must not wait for the disk
        self._retry_delay_s = flush_interval_s
        self._retry_at = 0.0
        self._in_flight_since: float | None = None  # time of the oldest record taken but not written
        self._overdue_at = time.time() + flush_interval_s  # log() checks the lag after this time
        self._thread = threading.Thread(target=self._run, name=f"tracker-writer-{writer_id}", daemon=True)
        self._thread.start()

    def remember_head(self, records: list[dict]) -> None:
        """The run's first records (``run``, ``start``), written again if the run folder vanishes.
        Called before the first ``put``: the caller writes them first (session.init)."""
        self._head_records = list(records)
        self._file_state.add_head(self._head_records)

    def put(self, record: dict) -> None:
        """Queue a record (a dict with a ``type``). Never blocks on I/O."""
        self._pending.append(record)

    def put_metrics(self, step: int, wall_time: float, values: dict) -> None:
        """Queue one metrics record, its values copied: the caller may reuse and change its dict.
        The hot path: line_encoding.queued_metrics's tuple, made here without the call."""
        keys, kept = tuple(values), self._keys  # kept read once: another thread's log() may replace it
        if keys == kept:
            keys = kept  # queued, and the new tuple freed at once
        else:
            self._keys = keys
        pending = self._pending
        pending.append((step, wall_time, *values.values(), keys))
        if wall_time > self._overdue_at or len(pending) >= FLUSH_AT_RECORDS:
            self._catch_up(wall_time)

    def put_media(self, item: QueuedMedia) -> None:
        """Queue a media object for the writer thread to encode and store. Waits while the media
        copies already queued hold more than ``max_queued_media_bytes``; drops it, with a warning,
        when the writer frees no room within BACKPRESSURE_MAX_WAIT_S, or silently once the run's
        media budget is spent (the writer warned when it was)."""
        if self._media.spent:
            return
        held = item.held_bytes
        if self._queued_media_bytes and self._queued_media_bytes + held > self.max_queued_media_bytes:
            if not self._wait_for_media_room(held):
                self._warn_once("media-queue", f"tracker: over {self.max_queued_media_bytes:,} bytes of media wait "
                                f"for the writer (TRACKER_MAX_QUEUED_MEDIA_BYTES), which made no room within "
                                f"{BACKPRESSURE_MAX_WAIT_S:.0f} s: media {item.key!r} at step {item.step} is "
                                "dropped, as are others while this lasts; training continues")
                return
        with self._media_lock:
            self._queued_media += 1
            self._queued_media_bytes += held
        self._pending.append(item)
        # Encoding starts now, beside the loop: left to the next flush, a second's worth of images
        # would be encoded while log() waits for them (the lag bound below).
        if not self._wake.is_set():
            self._wake.set()
        if item.time > self._overdue_at:
            self._wait_for_lag_within_interval(item.time)

    def close(self, stall_timeout_s: float = 10.0) -> None:
        """Write everything pending and stop the thread.

        Waits as long as the writer makes progress; gives up (with a warning naming how many
        records were not written) only when it makes none for ``stall_timeout_s``, e.g. on a
        hung network filesystem.
        """
        self._stopping = True
        self._wake.set()
        if threading.current_thread() is self._thread:
            return
        remaining_before = None
        while True:
            self._thread.join(stall_timeout_s)
            if not self._thread.is_alive():
                return
            remaining = len(self._pending) + self._unwritten.size_bytes + self._queued_media  # media: one by one
            if remaining_before is not None and remaining >= remaining_before:
                warnings.warn(f"tracker: the writer made no progress for {stall_timeout_s:.0f} s; "
                              f"{len(self._pending) + self._unwritten.count_records()} records were not "
                              f"written to {self.events_path}", RuntimeWarning, stacklevel=3)
                return
            remaining_before = remaining

    # -- backpressure, on the training thread ------------------------------------------------

    def _catch_up(self, wall_time: float) -> None:
        pending = self._pending
        if len(pending) >= FLUSH_AT_RECORDS:
            if not self._wake.is_set():  # setting an Event takes a lock: once per batch is enough
                self._wake.set()
            if len(pending) >= MAX_PENDING_RECORDS:
                # Logging faster than the disk takes it: yield the GIL briefly so memory stays bounded.
                time.sleep(BACKPRESSURE_SLEEP_S)
            elif not self._failing:  # a disk that refuses writes must not slow the loop
                time.sleep(0)
        if wall_time > self._overdue_at:
            self._wait_for_lag_within_interval(wall_time)

    def _wait_for_lag_within_interval(self, wall_time: float) -> None:
        """Return once every record older than one flush interval before ``wall_time`` is written."""
        interval = self.flush_interval_s
        give_up_at = time.monotonic() + BACKPRESSURE_MAX_WAIT_S
        while True:
            oldest = self._oldest_unwritten()
            if oldest is None or wall_time - oldest <= interval:
                self._overdue_at = (wall_time if oldest is None else oldest) + interval
                return
            if (not BOUND_LAG_BY_TIME or self._failing or self._stopping or not self._thread.is_alive()
                    or time.monotonic() > give_up_at):
                self._overdue_at = wall_time + interval  # look again one interval later
                return
            self._written.clear()  # before looking again: a write after the look wakes the wait
            if self._oldest_unwritten() == oldest:
                self._wake.set()
                self._written.wait(BACKPRESSURE_POLL_S)

    def _wait_for_media_room(self, held: int) -> bool:
        """Wait until ``held`` more bytes of media fit in the queue's bound; False when they did not
        within BACKPRESSURE_MAX_WAIT_S (or the writer has stopped)."""
        give_up_at = time.monotonic() + BACKPRESSURE_MAX_WAIT_S
        while self._queued_media_bytes and self._queued_media_bytes + held > self.max_queued_media_bytes:
            if self._stopping or not self._thread.is_alive() or time.monotonic() > give_up_at:
                return False
            self._media_room.clear()  # before looking again: a store after the look wakes the wait
            if self._queued_media_bytes and self._queued_media_bytes + held > self.max_queued_media_bytes:
                self._wake.set()
                self._media_room.wait(BACKPRESSURE_POLL_S)
        return True

    def _oldest_unwritten(self) -> float | None:
        since = self._in_flight_since
        if since is not None:
            return since
        try:
            return _time_of(self._pending[0])
        except IndexError:
            return None

    # -- background thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            if not self._stopping and len(self._pending) < MAX_BATCH_RECORDS:  # a backlog: no wait between batches
                self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            stopping = self._stopping
            try:
                self._write_pending(retry_now=stopping)
                self._beat()
            except Exception as exc:  # never let the thread die: the run would go silent
                self._warn_once(f"internal:{type(exc).__name__}", f"tracker: writer error {exc!r}; continuing")
            if stopping and not self._pending:
                if self._unwritten:
                    self._warn_once("lost", f"tracker: {self._unwritten.count_records():,} records could not "
                                            f"be written to {self.events_path} before the run ended")
                self._beat(force=True)
                return

    def _write_pending(self, retry_now: bool) -> None:
        pending = self._pending
        count = min(len(pending), MAX_BATCH_RECORDS)
        if count:
            self._in_flight_since = _time_of(pending[0])  # before the swap: log() always sees one of the two
            popleft = pending.popleft
            items = [popleft() for _ in range(count)]
            if self._queued_media:  # put before it is queued: a batch holding media always sees it
                items = self._store_media(items)
            self._unwritten.add(self._encoder.encode(items))
            if self._failing:
                self._keep_within_bound()
        if self._unwritten and (retry_now or not self._failing or time.monotonic() >= self._retry_at):
            self._write_unwritten()
        self._in_flight_since = None
        self._written.set()

    def _store_media(self, items: list) -> list:
        """``items`` with each QueuedMedia replaced by its ``media`` record, its files written first;
        or left out, when it is skipped (media_files.py warns)."""
        kept = []
        for index, item in enumerate(items):
            if type(item) is not QueuedMedia:
                kept.append(item)
                continue
            items[index] = None  # its copy is freed once encoded: room for the loop's next objects
            try:
                record = self._media.record(item)
            finally:
                with self._media_lock:
                    self._queued_media -= 1
                    self._queued_media_bytes -= item.held_bytes
                self._media_room.set()
            if record is not None:
                kept.append(record)
        return kept

    def _keep_within_bound(self) -> None:
        dropped = self._unwritten.shed(self.max_unwritten_bytes)
        if dropped:
            self._file_state.invalidate()  # the file will lack what was folded
            self._warn_once("dropped", f"tracker: {self.events_path} cannot be written and over "
                            f"{self.max_unwritten_bytes:,} bytes of records wait: dropping the oldest metrics "
                            f"({dropped:,} records this time); config, summary and end records are kept")

    def _write_unwritten(self) -> None:
        try:
            fd = self._open_events()
        except OSError as exc:
            self._write_failed(exc)
            return
        try:
            self._unwritten.write_to(fd)
        except OSError as exc:
            self._write_failed(exc)
            return
        finally:
            os.close(fd)
        self._failing = False
        self._retry_delay_s = self.flush_interval_s

    def _write_failed(self, exc: OSError) -> None:
        self._failing = True
        self._retry_at = time.monotonic() + self._retry_delay_s
        self._retry_delay_s = min(self._retry_delay_s * 2, max(RETRY_MAX_INTERVAL_S, self.flush_interval_s))
        self._warn_io(exc)
        self._keep_within_bound()

    def _open_events(self) -> int:
        try:
            fd = os.open(self.events_path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            return self._create_events()
        self._file_seen = True
        if self._needs_newline_check:
            try:
                if self._ends_mid_line(fd):  # a crash of an earlier writer tore its last line
                    os.write(fd, b"\n")
            except OSError:
                os.close(fd)
                raise
            self._needs_newline_check = False
        return fd

    def _create_events(self) -> int:
        """Create the events file; if it existed before, the run folder vanished: restore its head."""
        folder = os.path.dirname(self.events_path)
        folder_vanished = not os.path.isdir(folder)
        os.makedirs(folder, exist_ok=True)
        fd = os.open(self.events_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        self._needs_newline_check = False
        if self._file_seen:
            self._file_state.invalidate()  # the records written before are gone
            self._unwritten.add_first(self._encoder.encode(self._head_records))
            what = "the run folder has vanished" if folder_vanished else "its events file has vanished"
            self._warn_once("vanished", f"tracker: cannot write {self.events_path}: {what}. Created it again "
                                        "with the run's head records; records written before are lost, "
                                        "later ones are written there.")
        self._file_seen = True
        return fd

    @staticmethod
    def _ends_mid_line(fd: int) -> bool:
        size = os.fstat(fd).st_size
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"

    def _beat(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_heartbeat < self.heartbeat_interval_s:
            return
        self._last_heartbeat = now
        try:
            replace_file(self.heartbeat_path, json.dumps({"writer": self.writer_id, "time": now, "pid": os.getpid()}))
        except FileNotFoundError:
            pass  # the run folder vanished: the next records write creates it again, and warns
        except OSError as exc:
            self._warn_io(exc)

    def _warn_io(self, exc: OSError) -> None:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            cause = "the disk is full"
        else:
            cause = exc.strerror or type(exc).__name__
        self._warn_once(
            f"io:{exc.errno}",
            f"tracker: cannot write {self.events_path}: {cause}. Training continues; records are kept "
            f"in memory (up to {self.max_unwritten_bytes:,} bytes, then the oldest metrics are dropped) "
            "and written when the disk takes them again.",
        )

    def _warn_once(self, cause: str, message: str) -> None:
        if cause not in self._warned:
            self._warned.add(cause)
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def _time_of(item) -> float | None:
    """When a queued item was logged: metrics tuples and media carry it; records without a time count as now."""
    if type(item) is tuple:
        return item[1]
    stamp = item.get("time") if isinstance(item, dict) else getattr(item, "time", None)
    return stamp if isinstance(stamp, (int, float)) else time.time()
