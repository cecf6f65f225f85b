"""One build at a time per output folder, and the leftovers of builds that were killed.

A build holds an exclusive ``fcntl.flock`` on ``.<out name>.lock`` beside the output folder (not
in it: a full build replaces the folder by a rename, and a lock inside would move with it). The
kernel drops the lock when its holder dies, however it dies, so a stale lock never blocks a build.
A second build into the same folder fails at once naming the holder's pid, rather than waiting
behind it: two builds of one site at once are a mistake in a script or a CI setup, and waiting
would hide it. The holder removes the lock file when it is done, while still holding the lock;
so a process that locked a file just removed (it opened it before the removal) checks that the
path still names the file it locked, and tries again if not.

Holding the lock, a build knows that no other build of the folder is running, so every staging
or retired folder beside it (``.<out name>.building-<pid>``, ``.<out name>.old-<pid>``) was left by a
killed build and is removed.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
import warnings

from .errors import SiteLockedError

# A build turned away names the holder's pid, which the holder writes just after it takes the lock:
# a busy machine can run the other build in between, so it looks again a few times (0.1 s at most).
HOLDER_PID_WAITS = 10
HOLDER_PID_WAIT_S = 0.01
# The lock files this process holds open. A process forked meanwhile (a build's workers, see
# tracker/parallel.py) closes its copies at once: a copy shares the lock, which would outlive a
# killed build for as long as its workers take to notice (half a second).
_held_fds: set[int] = set()


def _close_held_in_child() -> None:
    for fd in _held_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_fds.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


def lock_path(out: str) -> str:
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.lock")


def staging_path(out: str) -> str:
    """Where this process assembles the files of a build into ``out`` (beside it: one file system)."""
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.building-{os.getpid()}")


def retired_path(out: str) -> str:
    """Where a full build moves the previous site while it swaps the new one in."""
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.old-{os.getpid()}")


@contextlib.contextmanager
def locked_output(out: str):
    """Hold the build lock of ``out`` (an absolute path) for the ``with`` body; raises
    SiteLockedError when another process holds it. Stale staging is removed on entry."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    path = lock_path(out)
    fd, locked = _lock(path, out)
    _held_fds.add(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        if locked:  # without the lock another machine's build may be using what looks stale
            remove_stale_work(out)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        _held_fds.discard(fd)
        os.close(fd)  # releases the lock


def _lock(path: str, out: str) -> tuple[int, bool]:
    """An open descriptor of the lock file at ``path``, and whether it is locked: a shared file
    system mounted without locks (Lustre without ``-o flock``, some NFS setups) refuses flock,
    and the build then goes on unlocked, with a warning (docs/distributed.md)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            for _ in range(HOLDER_PID_WAITS):  # the holder writes its pid right after it locks
                if holder is not None:
                    break
                time.sleep(HOLDER_PID_WAIT_S)
                holder = _holder(fd)
            os.close(fd)
            raise SiteLockedError(out, holder) from None
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK):
                os.close(fd)
                raise
            warnings.warn(f"{out}: its file system has no file locks ({exc.strerror}); building without "
                          "the lock: run one build of this folder at a time", RuntimeWarning, stacklevel=4)
            return fd, False
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd, True
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder removed this file as we locked it: lock the one now at ``path``


def remove_stale_work(out: str) -> None:
    """Remove the staging and retired folders of ``out`` left by killed builds (call with the lock held)."""
    parent, name = os.path.split(out)
    prefixes = (f".{name}.building-", f".{name}.old-")
    with contextlib.suppress(FileNotFoundError), os.scandir(parent) as entries:
        stale = [entry.path for entry in entries if entry.name.startswith(prefixes)
                 and entry.name.rpartition("-")[2].isdigit() and entry.is_dir(follow_symlinks=False)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


def _holder(fd: int) -> int | None:
    """The pid the lock's holder wrote into the lock file (None if it has not written it yet)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
