"""tracker/forked_work.py: work done in a real forked child, its bytes back through a pipe."""
import os
import threading
import time

import pytest

from tracker.forked_work import fork_work

pytestmark = pytest.mark.usefixtures("threads_of_this_test")


def test_the_childs_bytes_come_back_and_the_child_is_reaped():
    big = bytes(range(256)) * 20_000  # more than a pipe's buffer: the parent reads while the child writes
    work = fork_work(lambda: big + str(os.getpid()).encode())
    assert work is not None
    answer = work.answer()
    assert answer[:len(big)] == big
    assert int(answer[len(big):]) != os.getpid()
    assert work.answer() is None  # once


def test_a_failing_work_answers_none():
    def fail() -> bytes:
        raise ValueError("no answer")
    work = fork_work(fail)
    assert work.answer() is None


def test_the_child_holds_none_of_the_parents_descriptors(tmp_path):
    lock = os.open(tmp_path / "lock", os.O_CREAT | os.O_RDWR)
    try:
        def fstat_lock() -> bytes:
            try:
                os.fstat(lock)
            except OSError:
                return b"closed"
            return b"open"
        assert fork_work(fstat_lock).answer() == b"closed"
    finally:
        os.close(lock)


def test_a_child_ended_early_is_killed_and_reaped():
    work = fork_work(lambda: time.sleep(30) or b"late")
    started = time.monotonic()
    assert work.end() == -9
    assert time.monotonic() - started < 5
    assert work.answer() is None


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert fork_work(lambda: b"x") is None
    finally:
        stop.set()
        other.join()
    assert fork_work(lambda: b"x").answer() == b"x"
