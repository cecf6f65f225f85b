"""Console capture: tee the process's stdout and stderr into the run's ``console.log``.

It works on file descriptors 1 and 2, so output of C extensions and subprocesses is caught
too. Each stream's fd is pointed at a pipe (a pseudo-terminal when it was a terminal, so
programs that ask ``isatty()`` keep their colours and progress bars); a daemon thread copies
every chunk unchanged to the original fd and appends it to the log, up to MAX_CONSOLE_BYTES.
The log gets each line with token-shaped secrets redacted (``tracker.redact``): the thread
holds the unfinished end of a line (up to MAX_HELD_BYTES, or HOLD_MS without more output)
so a token split across two reads is still seen whole. The terminal gets the bytes unchanged.

- An uncaught exception: Python prints the traceback before atexit handlers run, so a
  ``stop()`` at exit (the run's finish) drains it into the log.
- SIGKILL: what the thread had copied stays in the log; microseconds of output in flight are
  lost, and so is an unfinished line (no newline or carriage return yet) printed in the last HOLD_MS.
- Terminal size changes after ``start()`` are not passed on to the pseudo-terminal.
"""
from __future__ import annotations

import os
import select
import sys
import threading

from .redact import redact_token_shapes

MAX_CONSOLE_BYTES = 10 * 1024 * 1024  # 10 MiB
STOP_TIMEOUT_S = 5.0
MAX_HELD_BYTES = 8192  # an unfinished line longer than this is logged (redacted) as it is
HOLD_MS = 200  # an unfinished line is logged after this long without more output
_CHUNK_BYTES = 65536
_QUIET_MS = 50  # after stop(), this long without output means the pipes are drained
_LINE_ENDS = (b"\n", b"\r")  # progress bars end their updates with "\r"


class ConsoleCapture:
    """Copies fd 1 and 2 into ``path`` while the terminal shows exactly what it did before.

    Streams that are not real file descriptors (pytest's capture, a closed fd) are left alone;
    nothing here raises into the caller.
    """

    def __init__(self, path: str, max_bytes: int = MAX_CONSOLE_BYTES):
        self.path = path
        self.max_bytes = max_bytes
        self.error: str | None = None  # why the log failed (the thread cannot warn: it owns stderr)
        self._streams: list[tuple[int, int]] = []  # (fd, saved copy of the original)
        self._wake = -1  # written to by stop(): the thread then reports once the pipes are quiet
        self._drained = threading.Event()
        self._copying = False

    def start(self) -> bool:
        """Start teeing; False when there is nothing to capture (then nothing changed)."""
        if self._streams or self._drained.is_set():
            return bool(self._streams)
        try:
            log_fd = _above_stdio(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
            wake_read, self._wake = map(_above_stdio, os.pipe())
        except OSError as exc:
            self.error = f"cannot open {self.path}: {exc.strerror}"
            return False
        readers = []
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            if not _is_real_fd(stream, fd):
                continue
            try:
                read_end, write_end = map(_above_stdio, _pipe_like(fd))
                saved = _above_stdio(os.dup(fd))
                stream.flush()
                os.dup2(write_end, fd)
            except (OSError, ValueError):
                continue
            os.close(write_end)  # fd is now the only write end: restoring it later gives the reader EOF
            self._streams.append((fd, saved))
            readers.append((read_end, saved))
        if not readers:
            for unused in (log_fd, wake_read, self._wake):
                os.close(unused)
            self._drained.set()
            return False
        self._copying = True
        threading.Thread(target=_tee, args=(self, readers, wake_read, log_fd), name="tracker-console",
                         daemon=True).start()
        return True

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Restore the original stdout and stderr; wait (at most ``timeout_s``) until the log has it all.

        A child process still holding the old stdout keeps being copied until it closes it.
        """
        streams, self._streams = self._streams, []
        if not streams:
            return
        for fd, saved in streams:
            try:
                (sys.stdout if fd == 1 else sys.stderr).flush()
            except Exception:
                pass
            try:
                os.dup2(saved, fd)
            except OSError:
                pass
        try:
            os.write(self._wake, b"x")
        except OSError:  # the thread ended already (the script closed both streams itself)
            pass
        self._drained.wait(timeout_s)
        os.close(self._wake)
        if not self._copying:  # else a lingering child still writes through them
            for _, saved in streams:
                os.close(saved)


def _is_real_fd(stream, fd: int) -> bool:
    try:
        os.fstat(fd)
        return stream is not None and stream.fileno() == fd
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both OSError and ValueError
        return False


def _above_stdio(fd: int) -> int:
    """``fd`` moved to a number above 2: with fd 1 or 2 closed, a new fd would otherwise take its place."""
    if fd > 2:
        return fd
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def _pipe_like(fd: int) -> tuple[int, int]:
    """(read end, write end): a raw pseudo-terminal when ``fd`` is a terminal, else a pipe."""
    if not os.isatty(fd):
        return os.pipe()
    import fcntl
    import termios
    import tty

    read_end, write_end = os.openpty()
    try:
        tty.setraw(write_end)  # pass bytes through unchanged: no \n -> \r\n, no echo
        size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(write_end, termios.TIOCSWINSZ, size)
    except OSError:
        pass
    return read_end, write_end


def _tee(capture: ConsoleCapture, readers: list[tuple[int, int]], wake_read: int, log_fd: int) -> None:
    """The thread: copy each chunk to its original fd and to the log until every stream ends.

    It must keep draining whatever happens, or the script would block on a full pipe.
    """
    targets = dict(readers)
    poller = select.poll()
    for read_end in (*targets, wake_read):
        poller.register(read_end, select.POLLIN)
    logged, stopping = 0, False
    held: dict[int, bytes] = {}  # read end -> the unfinished line it last sent
    while targets:
        events = poller.poll(_QUIET_MS if stopping else HOLD_MS if held else None)
        if not events:
            for read_end in list(held):
                logged, log_fd = _log_lines(capture, log_fd, held.pop(read_end), logged)
            if stopping:  # stopped, and nothing more came: all written before stop() is copied
                capture._drained.set()
                stopping = False
            continue
        for read_end, _ in events:
            if read_end == wake_read:
                poller.unregister(wake_read)
                stopping = True
                continue
            try:
                chunk = os.read(read_end, _CHUNK_BYTES)
            except OSError:  # a pseudo-terminal reports its closed end as EIO, not as EOF
                chunk = b""
            if not chunk:
                logged, log_fd = _log_lines(capture, log_fd, held.pop(read_end, b""), logged)
                poller.unregister(read_end)
                os.close(read_end)
                del targets[read_end]
                continue
            # The log first: whatever reached the terminal is then in the log even if we are killed.
            if log_fd >= 0:
                lines, held[read_end] = _split_unfinished(held.pop(read_end, b"") + chunk)
                if not held[read_end]:
                    del held[read_end]
                logged, log_fd = _log_lines(capture, log_fd, lines, logged)
            if targets[read_end] >= 0:
                try:
                    _write_all(targets[read_end], chunk)
                except OSError:  # the terminal went away: keep logging, as the script would not notice
                    targets[read_end] = -1
    if log_fd >= 0:
        os.close(log_fd)
    os.close(wake_read)
    capture._copying = False
    capture._drained.set()


def _split_unfinished(data: bytes) -> tuple[bytes, bytes]:
    """(whole lines, the unfinished end to hold back); all of it once the end is MAX_HELD_BYTES long."""
    cut = max(data.rfind(end) for end in _LINE_ENDS) + 1
    if len(data) - cut >= MAX_HELD_BYTES:
        return data, b""
    return data[:cut], data[cut:]


def _log_lines(capture: ConsoleCapture, log_fd: int, lines: bytes, logged: int) -> tuple[int, int]:
    """Append ``lines`` with secrets redacted (see ``_log``); bytes that are not UTF-8 pass unchanged."""
    if not lines or log_fd < 0:
        return logged, log_fd
    text = lines.decode("utf-8", "surrogateescape")
    redacted, kinds = redact_token_shapes(text)
    if kinds:
        lines = redacted.encode("utf-8", "surrogateescape")
    return _log(capture, log_fd, lines, logged)


def _log(capture: ConsoleCapture, log_fd: int, chunk: bytes, logged: int) -> tuple[int, int]:
    """Append ``chunk`` within the cap; returns the new count and the log fd (-1 once closed)."""
    room = capture.max_bytes - logged
    part = chunk[:room]
    try:
        _write_all(log_fd, part)
        if len(chunk) <= room:
            return logged + len(part), log_fd
        ended_line = not part or part.endswith(b"\n")
        _write_all(log_fd, (b"" if ended_line else b"\n") + _cap_marker(capture.max_bytes))
    except OSError as exc:
        capture.error = f"cannot write {capture.path}: {exc.strerror}"
    os.close(log_fd)
    return capture.max_bytes, -1


def _cap_marker(max_bytes: int) -> bytes:
    mib = 1024 * 1024
    size = f"{max_bytes // mib} MiB" if max_bytes % mib == 0 else f"{max_bytes} bytes"
    return f"[console capture stopped at {size}]\n".encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
