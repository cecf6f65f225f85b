"""Running one function over many items on every core, in batches, when there are enough of them.

Used where the work per item is a run folder read and parsed (``tracker ls``, ``tracker build``):
heavy enough that worker processes pay off from a few dozen runs, light enough that items go in
batches to save round trips. The function and its arguments must pickle (module-level function).

The workers end with the process that started them, however it ends: an exception in it (Ctrl-C,
a SIGTERM turned into SystemExit, a failed item) kills them before it propagates, and each worker
watches its parent and exits when it is gone (a SIGKILL leaves no chance to clean up). Without
that, a killed ``tracker build`` left its workers, and the forkserver they keep alive, forever.

A caller that runs no other thread (tracker build, tracker ls) forks its workers itself: they
begin with its modules imported, take batch numbers from one pipe that holds them all, and send
each batch's results back on a pipe of their own. Any other caller (tracker serve runs threads,
and a fork copies a lock another thread may hold) gets a ProcessPoolExecutor whose workers a
forkserver starts.
"""
from __future__ import annotations

import os
import pickle
import struct
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
    batches = [items[start:start + per_task] for start in range(0, len(items), per_task)]
    if _may_fork():
        for batch in _map_on_forked_workers(function, batches, args, workers, len(items), progress):
            results.extend(batch)
        return results, workers
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=_forkserver_context(function),
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


def _may_fork() -> bool:
    """Whether the workers may be forked from this process: Linux, and no other thread running
    (a fork copies a lock another thread may hold: tracker serve's threads).

    Forked, they begin with this process's modules imported. A forkserver imported the site
    modules again before the first worker could start: 0.3-0.6 s of a cold build's wall time with
    nothing else running (a fifth of it on an idle machine)."""
    import threading

    return sys.platform == "linux" and threading.active_count() == 1


def _forkserver_context(function):
    """Workers started through a forkserver, a clean process."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    # The server imports the function's module once, before it forks the workers, so that each
    # worker does not import it again (tracker.listing: ~0.1 s of one core per worker). It takes
    # effect when the server starts: the first map of the process.
    context.set_forkserver_preload(["__main__", function.__module__])
    return context


_in_forked_worker = False  # set in a worker _map_on_forked_workers forked


def in_worker() -> bool:
    """Whether this process is a worker map_on_cores started (forked, or a pool's)."""
    if _in_forked_worker:
        return True
    multiprocessing = sys.modules.get("multiprocessing")  # never imported here just to ask
    return multiprocessing is not None and multiprocessing.parent_process() is not None


# A batch's number in the task pipe, and the length before each answer in a result pipe.
_TASK, _LENGTH = struct.Struct("<I"), struct.Struct("<Q")
_TASKS_PER_WRITE = 1024  # 4 KiB, PIPE_BUF: a pipe takes such a write whole or not at all
_READ_BYTES = 1 << 20


def _map_on_forked_workers(function, batches: list, args: tuple, workers: int, total: int, progress) -> list:
    """Each batch's results, in order, from ``workers`` processes forked from this one.

    Every batch number is put in one pipe that the workers read 4 bytes at a time (a read of a
    pipe is atomic), so a worker that is done takes the next batch at once, and no process hands
    batches out: a ProcessPoolExecutor's threads took 60-80 ms of the parent's CPU over 125
    batches, on the cores its workers needed. A worker sends each batch's results, or the
    exception that stopped it, pickled on a pipe of its own. A worker that ends without sending
    all it took (killed, or os._exit in a template) fails the map with BrokenProcessPool, as a
    pool does. However the map ends early, the workers are killed first."""
    import selectors

    task_read, task_write = os.pipe()
    os.set_blocking(task_write, False)
    tasks = memoryview(b"".join(map(_TASK.pack, range(len(batches)))))
    running: dict[int, int] = {}  # result pipe -> the pid of the worker writing to it
    answers: list = [None] * len(batches)
    received = done = 0
    try:
        _fork_workers(workers, running, function, batches, args, task_read, task_write)
        os.close(task_read)
        task_read = None
        buffers = {result_read: bytearray() for result_read in running}
        with selectors.DefaultSelector() as selector:
            for result_read in running:
                selector.register(result_read, selectors.EVENT_READ)
            selector.register(task_write, selectors.EVENT_WRITE)
            while selector.get_map():
                for key, _ in selector.select():
                    if key.fd == task_write:
                        tasks = _feed_tasks(task_write, tasks)
                        if not tasks:  # all handed out: the workers read to the end, then stop
                            selector.unregister(task_write)
                            os.close(task_write)
                            task_write = None
                        continue
                    chunk = os.read(key.fd, _READ_BYTES)
                    if not chunk:  # the worker is done, or gone
                        selector.unregister(key.fd)
                        _, status = os.waitpid(running.pop(key.fd), 0)
                        os.close(key.fd)
                        if status != 0 or buffers[key.fd]:
                            _broken(os.waitstatus_to_exitcode(status))
                        continue
                    for index, failed, answer in _frames(buffers[key.fd], chunk):
                        if failed:
                            exception, trace = answer
                            raise exception from WorkerTraceback(trace)
                        answers[index] = answer
                        received += 1
                        done += len(answer)
                        if progress:
                            progress(done, total)
        if received != len(batches):
            _broken(0)
        return answers
    finally:
        for descriptor in (task_read, task_write):
            if descriptor is not None:
                os.close(descriptor)
        for result_read, pid in running.items():  # the map failed: stop what still works for it
            os.close(result_read)
            _kill_and_wait(pid)


class WorkerTraceback(Exception):
    """Where a forked worker's exception was raised: the cause of the one the map raises."""


def _fork_workers(workers: int, running: dict[int, int], function, batches: list, args: tuple,
                  task_read: int, task_write: int) -> None:
    """Fork ``workers`` workers, adding each one's result pipe and pid to ``running``."""
    parent = os.getpid()
    sys.stdout.flush()  # or a worker would write out this process's buffered text once more
    sys.stderr.flush()
    for _ in range(workers):
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: keeps only its ends of the pipes, and never returns
            for descriptor in (task_write, result_read, *running):
                os.close(descriptor)
            _forked_worker(parent, function, batches, args, task_read, result_write)
        os.close(result_write)
        running[result_read] = pid


def _frames(buffer: bytearray, chunk: bytes) -> list:
    """The answers that ``chunk`` completes in a worker's ``buffer`` (each pickled after its length)."""
    buffer += chunk
    answers = []
    while len(buffer) >= _LENGTH.size:
        end = _LENGTH.size + _LENGTH.unpack_from(buffer)[0]
        if len(buffer) < end:
            break
        answers.append(pickle.loads(buffer[_LENGTH.size:end]))
        del buffer[:end]
    return answers


def _feed_tasks(descriptor: int, tasks: memoryview) -> memoryview:
    """What is left of ``tasks`` once the pipe takes no more without blocking."""
    while tasks:
        try:
            written = os.write(descriptor, tasks[:_TASK.size * _TASKS_PER_WRITE])
        except BlockingIOError:
            break
        tasks = tasks[written:]
    return tasks


def _broken(code: int):
    from concurrent.futures.process import BrokenProcessPool

    raise BrokenProcessPool(f"a worker process ended abruptly (exit code {code}) before it sent back its work")


def _kill_and_wait(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass  # already gone and waited for


def _forked_worker(parent: int, function, batches: list, args: tuple, tasks: int, results: int) -> None:
    """A forked worker's life: take batch numbers until the task pipe is empty and closed, send
    back each batch's results, then leave by os._exit (the parent's cleanup is not its own)."""
    global _in_forked_worker
    code = 1
    try:
        _in_forked_worker = True
        _start_worker(parent)
        while got := os.read(tasks, _TASK.size):
            (index,) = _TASK.unpack(got)
            try:
                answer = (index, False, [function(item, *args) for item in batches[index]])
            except Exception as exc:  # the parent raises it, with where it came from
                import traceback

                answer = (index, True, (exc, "".join(traceback.format_exception(exc))))
            try:
                data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an exception or a result that does not pickle: its text does
                failure = RuntimeError(f"a worker's answer cannot be sent back ({type(exc).__name__}: {exc})")
                data = pickle.dumps((index, True, (failure, repr(answer[2])[:2000])), pickle.HIGHEST_PROTOCOL)
            view = memoryview(_LENGTH.pack(len(data)) + data)
            while view:
                view = view[os.write(results, view):]
        code = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


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
