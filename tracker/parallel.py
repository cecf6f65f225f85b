"""Running one function over many items on every core, in batches, when there are enough of them.

Used where the work per item is a run folder read and parsed (``tracker ls``, ``tracker build``):
heavy enough that worker processes pay off from a few dozen runs, light enough that items go in
batches to save round trips. The function and its arguments must pickle (module-level function).

The workers end with the process that started them, however it ends: an exception in it (Ctrl-C,
a SIGTERM turned into SystemExit, a failed item) kills them before it propagates, and each worker
watches its parent and exits when it is gone (a SIGKILL leaves no chance to clean up). Without
that, a killed ``tracker build`` left its workers, and the forkserver they keep alive, forever.
"""
from __future__ import annotations

import os
import sys

PARENT_CHECK_INTERVAL_S = 0.5  # how often a worker checks that the process it works for still lives
# When reading or rendering run folders (tracker ls, tracker build) is worth worker processes:
PARALLEL_MIN_RUNS = 16  # fewer runs than this are done in the calling process: workers cost ~0.3 s to start
RUNS_PER_TASK = 8       # runs handed to a worker at a time: fewer round trips, still an even spread


def map_on_cores(function, items: list, args: tuple = (), *, min_items: int, per_task: int,
                 progress=None) -> tuple[list, int]:
    """[function(item, *args) for item in items] in order, and how many processes computed it.

    Fewer than ``min_items`` items (or one core) run in the calling process, where starting
    workers would cost more than they save; ``progress(done, total)`` is called as results come.
    """
    workers = min(os.cpu_count() or 1, -(-len(items) // per_task))
    results: list = []
    if len(items) < min_items or workers < 2:
        for item in items:
            results.append(function(item, *args))
            if progress:
                progress(len(results), len(items))
        return results, 1
    from concurrent.futures import ProcessPoolExecutor

    batches = [items[start:start + per_task] for start in range(0, len(items), per_task)]
    pool = ProcessPoolExecutor(workers, mp_context=_start_context(function),
                               initializer=_start_worker, initargs=(os.getpid(),))
    try:
        for batch in pool.map(_run_batch, [function] * len(batches), batches, [args] * len(batches)):
            results.extend(batch)
            if progress:
                progress(len(results), len(items))
    except BaseException:
        # Waiting for the queued batches would make Ctrl-C (or a failed item) wait for the whole map.
        pool.shutdown(wait=False, cancel_futures=True)
        _kill_workers(pool)
        raise
    pool.shutdown()
    return results, workers


def _start_context(function):
    """How the workers start: forked from this process when it runs no other thread (tracker build,
    tracker ls), so that they begin with its modules imported; else through a forkserver, a clean
    process (tracker serve runs threads, and a fork copies a lock another thread may hold).

    The forkserver imported the site modules again before the first worker could start: 0.3-0.6 s
    of a cold build's wall time with nothing else running (a fifth of it on an idle machine)."""
    import multiprocessing
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    # The server imports the function's module once, before it forks the workers, so that each
    # worker does not import it again (tracker.listing: ~0.1 s of one core per worker). It takes
    # effect when the server starts: the first map of the process.
    context.set_forkserver_preload(["__main__", function.__module__])
    return context


def _run_batch(function, items: list, args: tuple) -> list:
    return [function(item, *args) for item in items]


def _kill_workers(pool) -> None:
    kill = getattr(pool, "kill_workers", None)  # Python 3.14+
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, ValueError):
            pass  # already gone, or already closed


def _start_worker(parent_pid: int) -> None:
    """Worker initializer: ignore Ctrl-C (the parent handles it and kills the workers; left alone,
    every worker printed a KeyboardInterrupt traceback), and exit once the parent process is gone.

    A forked worker starts with its parent's cycle collector, maybe paused (a build pauses it): it
    gets it back on, as a fresh process has it, with the parent's objects set aside (gc.freeze), so
    that no collection walks what the worker only inherited (at 100,000 runs, discovery's)."""
    import gc
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked one had its parent's handler (tracker serve's)
    gc.freeze()
    gc.enable()
    threading.Thread(target=_exit_when_gone, args=(parent_pid,), name="tracker-parent-watch",
                     daemon=True).start()


def _exit_when_gone(parent_pid: int) -> None:
    import time

    if os.getppid() == parent_pid:  # forked by it: once it is gone, the worker has another parent
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_INTERVAL_S)
        os._exit(1)
    # Started by a forkserver, whose child it is: psutil is asked (importing it took 50-110 ms of
    # a worker's start, which a forked worker spares)
    import psutil

    try:
        parent = psutil.Process(parent_pid)
        while parent.is_running() and parent.status() != psutil.STATUS_ZOMBIE:
            time.sleep(PARENT_CHECK_INTERVAL_S)
    except psutil.Error:
        pass  # no such process: it is gone already
    os._exit(1)  # a daemon thread cannot end its process otherwise; the work is nobody's any more
