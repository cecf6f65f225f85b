"""tracker.seed_everything: Python, NumPy (and PyTorch when imported) seeded, the seed in the config."""
from __future__ import annotations

import random
import sys

import numpy
import pytest

import tracker
from tracker.reader import load_run


def test_seed_everything_repeats_python_and_numpy_draws_and_records_the_seed(tmp_path):
    with tracker.init(project="p", dir=tmp_path, capture=False) as run:
        assert tracker.seed_everything(7) == 7
        first = (random.random(), numpy.random.rand())
        tracker.seed_everything(7)
        assert (random.random(), numpy.random.rand()) == first
    assert load_run(run.path).config == {"seed": 7}


def test_seed_everything_does_not_import_torch():
    if "torch" in sys.modules:
        pytest.fail("a test imported torch")  # then this test could not tell
    tracker.seed_everything(1)
    assert "torch" not in sys.modules


def test_seed_everything_refuses_what_numpy_cannot_take():
    with pytest.raises(tracker.UsageError, match=r"seed_everything\(\) seed is str"):
        tracker.seed_everything("7")
    with pytest.raises(tracker.UsageError, match="out of range: use 0 to 2\\*\\*32 - 1"):
        tracker.seed_everything(-1)
