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


def test_an_early_reply_comes_back_while_the_child_works_on_and_end_waits_for_it(tmp_path):
    done = tmp_path / "done"

    def reply_then_work(reply) -> bytes:
        reply(b"synced")
        time.sleep(1.0)
        done.write_text("state written")
        return b"never sent"

    work = fork_work(reply_then_work, replies_early=True)
    started = time.monotonic()
    assert work.early_answer() == b"synced" and work.answered
    assert time.monotonic() - started < 0.9 and not done.exists()  # the child works on
    assert work.end(kill=False) == 0
    assert done.read_text() == "state written"


def test_a_child_that_never_replies_early_sends_what_its_work_returns_or_nothing():
    assert fork_work(lambda reply: b"offline", replies_early=True).early_answer() == b"offline"

    def fail(reply) -> bytes:
        raise ValueError("no answer")
    work = fork_work(fail, replies_early=True)
    assert work.early_answer() is None
    assert work.end(kill=False) == 1
