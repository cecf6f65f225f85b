"""The background writer: the only code that touches a run's record file while it runs.

``put()`` is called on the training thread: it appends to a deque and returns. A daemon
thread wakes every FLUSH_INTERVAL_S (or early when the buffer grows large), swaps out what
is pending, serializes it and appends it to the writer's own JSON-lines file with a single
``write`` call, and refreshes the heartbeat file. Trouble writing (full disk, vanished
folder) is reported once per cause as a warning and the records are kept, up to a cap, for
the next attempt: the training script never sees an exception from here.
"""
from __future__ import annotations

import collections
import errno
import json
import os
import threading
import time
import warnings

from .values import compact_json, encode_line

FLUSH_INTERVAL_S = float(os.environ.get("TRACKER_FLUSH_INTERVAL_S", "1.0"))
HEARTBEAT_INTERVAL_S = float(os.environ.get("TRACKER_HEARTBEAT_INTERVAL_S", "2.0"))
FLUSH_AT_RECORDS = 20_000  # wake the writer early so a fast loop does not hold much in memory
MAX_PENDING_RECORDS = 200_000  # past this, log() yields to the writer (about 1 ms) instead of growing
BACKPRESSURE_SLEEP_S = 0.001
MAX_UNWRITTEN_LINES = 1_000_000  # kept for retry while the disk refuses; older ones are dropped

_METRICS_PREFIX = '{"type":"metrics","step":'


class RecordWriter:
    """Appends records to ``events_path`` from a background thread."""

    def __init__(self, events_path: str, heartbeat_path: str, writer_id: str,
                 flush_interval_s: float = FLUSH_INTERVAL_S,
                 heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S):
        self.events_path = events_path
        self.heartbeat_path = heartbeat_path
        self.writer_id = writer_id
        self.flush_interval_s = flush_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self._pending: collections.deque = collections.deque()
        self._unwritten: list[str] = []
        self._wake = threading.Event()
        self._stopping = False
        self._warned: set[str] = set()
        self._last_heartbeat = 0.0
        self._needs_newline_check = True
        self._metrics_encoder = _MetricsLineEncoder()
        self._thread = threading.Thread(target=self._run, name=f"tracker-writer-{writer_id}", daemon=True)
        self._thread.start()

    def put(self, record: dict) -> None:
        """Queue a record (a dict with a ``type``). Never blocks on I/O."""
        self._pending.append(record)

    def put_metrics(self, step: int, wall_time: float, values: dict) -> None:
        """Queue one metrics record; the hot path, so it stores a tuple, not a dict."""
        pending = self._pending
        pending.append((step, wall_time, values))
        if len(pending) >= FLUSH_AT_RECORDS:
            if not self._wake.is_set():  # setting an Event takes a lock: once per batch is enough
                self._wake.set()
            if len(pending) >= MAX_PENDING_RECORDS:
                # Logging faster than the disk takes it: yield the GIL briefly so memory stays bounded.
                time.sleep(BACKPRESSURE_SLEEP_S)

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
            remaining = len(self._pending) + len(self._unwritten)
            if remaining_before is not None and remaining >= remaining_before:
                warnings.warn(f"tracker: the writer made no progress for {stall_timeout_s:.0f} s; "
                              f"{remaining} records were not written to {self.events_path}",
                              RuntimeWarning, stacklevel=3)
                return
            remaining_before = remaining

    # -- background thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            stopping = self._stopping
            try:
                self._write_pending()
                self._beat()
            except Exception as exc:  # never let the thread die: the run would go silent
                self._warn_once(f"internal:{type(exc).__name__}", f"tracker: writer error {exc!r}; continuing")
            if stopping and not self._pending:
                self._beat(force=True)
                return

    def _write_pending(self) -> None:
        pending = self._pending
        count = len(pending)
        if not count and not self._unwritten:
            return
        lines = self._unwritten
        self._unwritten = []
        metrics_line = self._metrics_encoder.line
        for _ in range(count):
            item = pending.popleft()
            if type(item) is tuple:
                lines.append(metrics_line(*item))
            else:
                lines.append(encode_line(item) + "\n")
        if lines and not self._append(lines):
            if len(lines) > MAX_UNWRITTEN_LINES:
                dropped = len(lines) - MAX_UNWRITTEN_LINES
                self._warn_once("dropped", f"tracker: dropped {dropped} oldest records that could not be written")
                lines = lines[dropped:]
            self._unwritten = lines

    def _append(self, lines: list[str]) -> bool:
        data = "".join(lines).encode("utf-8")
        try:
            fd = os.open(self.events_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            self._warn_io(exc)
            return False
        try:
            if self._needs_newline_check:
                data = self._after_torn_line(fd) + data
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError as exc:
            self._warn_io(exc)
            # A partial write leaves a torn line; the next successful write starts on a fresh one.
            self._needs_newline_check = True
            return False
        finally:
            os.close(fd)
        self._needs_newline_check = False
        return True

    @staticmethod
    def _after_torn_line(fd: int) -> bytes:
        """A newline to write first if the file ends mid-line (a crash or a full disk earlier)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return b""
        return b"" if os.pread(fd, 1, size - 1) == b"\n" else b"\n"

    def _beat(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_heartbeat < self.heartbeat_interval_s:
            return
        self._last_heartbeat = now
        temporary = f"{self.heartbeat_path}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump({"writer": self.writer_id, "time": now, "pid": os.getpid()}, handle)
            os.replace(temporary, self.heartbeat_path)
        except OSError as exc:
            self._warn_io(exc)

    def _warn_io(self, exc: OSError) -> None:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            cause = "the disk is full"
        elif exc.errno == errno.ENOENT:
            cause = "the run folder has vanished"
        else:
            cause = exc.strerror or type(exc).__name__
        self._warn_once(
            f"io:{exc.errno}",
            f"tracker: cannot write {self.events_path}: {cause}. Training continues; records are kept "
            f"in memory (up to {MAX_UNWRITTEN_LINES:,}) and written when the folder is writable again.",
        )

    def _warn_once(self, cause: str, message: str) -> None:
        if cause not in self._warned:
            self._warned.add(cause)
            warnings.warn(message, RuntimeWarning, stacklevel=2)


class _MetricsLineEncoder:
    """Metrics records as JSON lines, through a %-format template per key set.

    Training loops log the same keys every step, so the JSON for the keys is built once and each
    line is one C-level format call: cheaper than json.dumps of a fresh dict. Non-finite values
    (repr 'nan'/'inf') and unusual key sets fall back to the general encoder.
    """

    MAX_TEMPLATES = 1_000

    def __init__(self):
        self._templates: dict[tuple, str | None] = {}

    def line(self, step: int, wall_time: float, values: dict) -> str:
        keys = tuple(values)
        template = self._templates.get(keys, False)
        if template is False:
            template = self._template(keys) if len(self._templates) < self.MAX_TEMPLATES else None
            self._templates[keys] = template
        if template is not None:
            text = template % (step, wall_time, *values.values())
            if "nan" not in text and "inf" not in text:
                return text
        return f'{_METRICS_PREFIX}{step},"time":{wall_time!r},"values":{encode_line(values)}}}\n'

    @staticmethod
    def _template(keys: tuple) -> str | None:
        fields = ",".join(compact_json(key).replace("%", "%%") + ":%r" for key in keys)
        template = _METRICS_PREFIX + '%d,"time":%r,"values":{' + fields + "}}\n"
        # The check for non-finite values looks for 'nan'/'inf' in the line: keys must not contain them.
        return None if "nan" in template or "inf" in template else template
