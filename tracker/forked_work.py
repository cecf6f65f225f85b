"""Work done in a forked child on another core, its answer bytes sent back through a pipe (command-line processes only).

`tracker ls` and `tracker build` each have a stretch of stats (is every run folder as it was?)
that waits on nothing they decode meanwhile, and threads do not overlap the two (both hold the
GIL). A fork does: the child has the parent's objects without a copy, does the work, writes its
answer and leaves by os._exit, so it never runs the parent's cleanup (removing a lock file, a
staging folder). It first closes every descriptor but its end of the pipe, so that nothing the
parent holds (a build's lock) outlives the parent in it.

Only a process that owns itself may fork here: the command line, never `tracker.runs()` or
anything a training script calls, whose process may hold threads, locks or a GPU. A process
running another thread does not fork (a fork copies locks those threads may hold). Anything short
of a whole answer (no fork, the child failed or was killed) is None, and the caller does the work
itself.
"""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

_READ_BYTES = 1 << 20


class ForkedWork:
    """A child computing ``work()``'s bytes, until ``answer()`` takes them or ``end()`` stops it."""

    def __init__(self, pid: int, fd: int):
        self.pid, self._fd = pid, fd
        self._ended = False

    @property
    def ended(self) -> bool:
        """Whether the answer was taken or the child stopped."""
        return self._ended

    def answer(self) -> bytes | None:
        """The bytes the child's work returned, waiting for them; None when it failed or was
        ended already."""
        if self._ended or self._fd is None:
            return None
        answer = self._read_to_end()
        status = self.end(kill=False)
        return None if status != 0 else answer

    @property
    def answered(self) -> bool:
        """Whether its early answer was taken (the child may still be working)."""
        return self._fd is None

    def early_answer(self) -> bytes | None:
        """The bytes the child sent with ``reply`` (fork_work(..., replies_early=True)), once it
        closed the pipe, without waiting for the rest of its work: None when it sent nothing (it
        failed first). The child is left to ``end``, which waits for it."""
        if self._ended or self._fd is None:
            return None
        answer = self._read_to_end()
        os.close(self._fd)
        self._fd = None
        return answer or None

    def _read_to_end(self) -> bytes | None:
        """What the child wrote until it closed the pipe; None when reading failed."""
        chunks = []
        try:
            while chunk := os.read(self._fd, _READ_BYTES):
                chunks.append(chunk)
        except OSError:
            return None
        return b"".join(chunks)

    def end(self, kill: bool = True) -> int | None:
        """Wait for the child, killed first unless its answer was read (a caller that fails
        meanwhile does not wait for the work); its exit code, None when it had ended already."""
        if self._ended:
            return None
        self._ended = True
        if self._fd is not None:
            os.close(self._fd)
        if kill:
            os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def __enter__(self) -> ForkedWork:
        return self

    def __exit__(self, *_) -> None:
        self.end()


def fork_work(work: Callable[..., bytes], replies_early: bool = False) -> ForkedWork | None:
    """A child doing ``work`` on another core; None where this process may not fork (one core,
    no fork, another thread running) or the fork or its pipe is refused. ``replies_early``: work
    is called with ``reply(bytes)``, which sends its answer and closes the pipe while the work
    goes on (ForkedWork.early_answer takes it); what work returns is sent only if it never replied."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or threading.active_count() != 1:
        return None
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        _answer(write_end, work, replies_early)
    os.close(write_end)
    return ForkedWork(pid, read_end)


def _answer(fd: int, work: Callable[..., bytes], replies_early: bool) -> None:
    code = 1
    try:
        os.closerange(3, fd)
        os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
        if not replies_early:
            _write_all(fd, work())
        else:
            replied = []

            def reply(data: bytes) -> None:
                _write_all(fd, data)
                os.close(fd)
                replied.append(True)

            answer = work(reply)
            if not replied:
                _write_all(fd, answer)
        code = 0
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
