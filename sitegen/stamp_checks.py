"""The last build's folder stamps checked by a forked child, on the second core, while the build reads on.

A rebuild after one changed run among 100,000 spends its time in two kinds of work that do not wait
for each other: a stat of each run folder and of its events file, to see that the folder's stamp
still holds (folder_stamps.py: a second of CPU, most of it in the kernel), and decoding what the
last build left (its manifest, the listing of its site). A build that owns its process (``tracker
build``, never a library call from a training script) forks a child once the stamps are read: the
child has them without a copy or a decode, checks every one (run_keys.stamp_holds, as the build
would), and hands back a byte a stamp, 1 where it holds, through a pipe; the build meanwhile reads
its manifest and lists the runs folders, then takes the bytes (verdicts).

The child closes every descriptor but its end of the pipe as it starts (the build's lock among them:
the lock dies with the build, never held on by the child) and leaves by os._exit, so it never runs the
build's cleanup (removing the lock file, the staging folder). It is never forked from a process
running other threads (a fork copies locks that they may hold). Anything short of a whole answer (the
fork refused, the child killed or failed) and the build checks the stamps itself, as before.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from operator import itemgetter

from tracker.run_keys import stamp_holds

from .folder_stamps import FolderStamps

_STAMP_OF_LINE = itemgetter(slice(3, None))  # a Stamp line's FolderStamp: its folders and files
_READ_BYTES = 1 << 20


class StampChecks:
    """A child checking the last build's ``stamps`` (fork_checks), until its verdicts are taken."""

    def __init__(self, pid: int, fd: int, stamps: FolderStamps):
        self.pid, self.fd, self.stamps = pid, fd, stamps
        self._ended = False

    def verdicts(self) -> list[bytes] | None:
        """For each runs folder, a byte a stamp of the last build's, in their order: 1 where it
        holds, else 0; None when the child did not answer for every stamp (the caller checks them
        itself). Waits for the child; once."""
        if self._ended:
            return None
        chunks = []
        try:
            while chunk := os.read(self.fd, _READ_BYTES):
                chunks.append(chunk)
        except OSError:
            chunks = []
        status = self.end(kill=False)
        answer = b"".join(chunks)
        if status != 0 or len(answer) != sum(map(len, self.stamps.previous)):
            return None
        verdicts, start = [], 0
        for stamps in self.stamps.previous:
            verdicts.append(answer[start:start + len(stamps)])
            start += len(stamps)
        return verdicts

    def end(self, kill: bool = True) -> int | None:
        """Wait for the child (killed first unless its answer was read: a build failing meanwhile
        does not wait for its stats); its exit code, None when it had ended already."""
        if self._ended:
            return None
        self._ended = True
        os.close(self.fd)
        if kill:
            os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


@contextlib.contextmanager
def stamps_checked_aside(stamps: FolderStamps, roots: list[str], allowed: bool):
    """fork_checks for the ``with`` body where ``allowed`` (a process the build owns) and this
    process runs no other thread (a fork copies the locks they may hold), else None: the build
    checks the stamps itself. The child is ended as the body ends, killed if still running."""
    checks = fork_checks(stamps, roots) if allowed and threading.active_count() == 1 else None
    try:
        yield checks
    finally:
        if checks is not None:
            checks.end()


def fork_checks(stamps: FolderStamps, roots: list[str]) -> StampChecks | None:
    """A child checking ``stamps``' folders under ``roots`` (absolute runs folders, in --runs
    order); None when there is no stamp to check or no child can be forked."""
    if not any(stamps.previous) or not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        _answer(write_end, stamps, roots)
    os.close(write_end)
    return StampChecks(pid, read_end, stamps)


def _answer(fd: int, stamps: FolderStamps, roots: list[str]) -> None:
    """The child's work: a byte a stamp, in the order of ``stamps.previous``; then os._exit."""
    code = 1
    try:
        os.closerange(3, fd)
        os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
        answer = bytearray()
        for index, previous in enumerate(stamps.previous):
            if index >= len(roots):  # a runs folder the last build had and this one has not: none hold
                answer += bytes(len(previous))
                continue
            prefix = os.path.join(roots[index], "")  # as discovery names a folder: its root, a separator, its name
            answer += bytes(map(stamp_holds, map(prefix.__add__, previous), map(_STAMP_OF_LINE, previous.values())))
        view = memoryview(answer)
        while view:
            view = view[os.write(fd, view):]
        code = 0
    finally:
        os._exit(code)
