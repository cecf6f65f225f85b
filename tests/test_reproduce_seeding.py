"""tracker.seed_everything: Python, NumPy (and PyTorch when imported) seeded, the seed in the config."""
from __future__ import annotations

import random
import subprocess
import sys

import numpy
import pytest

import tracker
from tracker.reader import load_run

from frameworks import require_framework


def test_seed_everything_repeats_python_and_numpy_draws_and_records_the_seed(tmp_path):
    with tracker.init(project="p", dir=tmp_path, capture=False) as run:
        assert tracker.seed_everything(7) == 7
        first = (random.random(), numpy.random.rand())
        tracker.seed_everything(7)
        assert (random.random(), numpy.random.rand()) == first
    assert load_run(run.path).config == {"seed": 7}


def seeded_in_a_fresh_interpreter(code: str) -> str:
    """``code`` run by a new Python after ``import tracker``: other tests may have imported torch here."""
    done = subprocess.run([sys.executable, "-c", "import sys, tracker\n" + code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_seed_everything_does_not_import_torch():
    assert seeded_in_a_fresh_interpreter("tracker.seed_everything(1); print('torch' in sys.modules)") == "False"


def test_seed_everything_seeds_torch_when_the_script_imported_it():
    require_framework("torch", extra="lightning")
    assert seeded_in_a_fresh_interpreter(
        "import torch\n"
        "tracker.seed_everything(3); first = torch.rand(3).tolist()\n"
        "tracker.seed_everything(3); print(first == torch.rand(3).tolist())") == "True"


def test_seed_everything_refuses_what_numpy_cannot_take():
    with pytest.raises(tracker.UsageError, match=r"seed_everything\(\) seed is str"):
        tracker.seed_everything("7")
    with pytest.raises(tracker.UsageError, match="out of range: use 0 to 2\\*\\*32 - 1"):
        tracker.seed_everything(-1)
