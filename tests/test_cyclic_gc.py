"""The cycle collector is paused while a reader reads (tracker/cyclic_gc.py) and is as it was after,
whatever happens in the block."""
from __future__ import annotations

import gc
import warnings

import pytest

import tracker
from tracker.cyclic_gc import cyclic_gc_paused
from tracker.reader import load_run


@pytest.fixture(autouse=True)
def collector_enabled():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_paused_in_the_block_and_enabled_after():
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()


def test_the_collector_is_enabled_again_when_the_block_raises():
    with pytest.raises(KeyError):
        with cyclic_gc_paused():
            raise KeyError("x")
    assert gc.isenabled()


def test_reading_a_run_with_a_corrupt_line_leaves_the_collector_enabled(tmp_path):
    run = tracker.init(project="p", name="gc", dir=str(tmp_path), capture=False)
    for step in range(50):
        run.log({"loss": 1 / (step + 1)})
    run.finish()
    with open(f"{run.path}/events.jsonl", "ab") as handle:
        handle.write(b'{"type":"metrics","step":\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = load_run(run.path)
    assert gc.isenabled() and read.history("loss").count == 50 and read.warnings
