"""How a run ends when the script does not call finish(): exit, exception, signal.

- normal interpreter exit: the run is finished;
- an uncaught exception: failed, with the traceback;
- KeyboardInterrupt: interrupted;
- SIGTERM: terminated (recorded, then the default action proceeds);
- SIGKILL or an OOM kill: nothing can run, so readers see a stale heartbeat and say crashed.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback

SIGTERM_WAIT_S = 2.0

_live_runs: set = set()  # strong references: an unfinished run must still be finished at exit
_installed = False
_uncaught: tuple[str, str] | None = None  # (status, traceback text) of an uncaught exception


def status_for_exception(exc_type) -> str:
    return "interrupted" if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) else "failed"


def format_error(exc_type, exc, tb) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))


def register(run) -> None:
    """Make sure ``run`` ends with the right status however the process ends."""
    _live_runs.add(run)
    _install_hooks()


def unregister(run) -> None:
    _live_runs.discard(run)


def _install_hooks() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_finish_live_runs_at_exit)
    previous_hook = sys.excepthook

    def record_uncaught(exc_type, exc, tb):
        global _uncaught
        _uncaught = (status_for_exception(exc_type), format_error(exc_type, exc, tb))
        previous_hook(exc_type, exc, tb)

    sys.excepthook = record_uncaught
    # Only replace the default SIGTERM action: a handler the script installed is its business.
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    os.register_at_fork(after_in_child=_forget_runs_in_child)


def _finish_live_runs_at_exit() -> None:
    status, error = _uncaught if _uncaught else ("finished", None)
    for run in list(_live_runs):
        run.finish(status=status, error=error)


def _on_sigterm(signum, frame) -> None:
    for run in list(_live_runs):
        # A terminated job is usually given a few seconds' grace: do not spend it on capture.
        run.finish(status="terminated", error="terminated by SIGTERM", wait_s=SIGTERM_WAIT_S)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _forget_runs_in_child() -> None:
    # A forked child (a DataLoader worker) shares the parent's run objects but not its
    # writer thread; it must neither write for the parent nor finish the parent's run.
    for run in list(_live_runs):
        run._detach_after_fork()
    _live_runs.clear()
