"""Seeding every random number generator a training script uses, and recording the seed."""
from __future__ import annotations

import os
import random
import sys

from .active_run import current
from .errors import ArgumentTypeError, UsageError


def seed_everything(seed: int) -> int:
    """Seed Python's ``random``, NumPy and, when it is imported, PyTorch (CPU and CUDA) with ``seed``,
    set ``PYTHONHASHSEED`` for child processes, and record ``seed`` in the active run's config
    (call it after ``tracker.init()``, or pass the seed in init's config as well).

    Returns the seed. Call it before building the model and the data loaders. Frameworks are seeded
    only when the script imported them: seeding never imports (or installs) one.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ArgumentTypeError("seed_everything() seed", seed, "an int")
    if not 0 <= seed < 2**32:
        raise UsageError(f"seed_everything() seed {seed} is out of range: use 0 to 2**32 - 1 (what NumPy takes)")
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # this process's hashes are fixed at start; children inherit it
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)  # seeds every CUDA device too
    run = current()
    if run is not None:
        run.config["seed"] = seed
    return seed
