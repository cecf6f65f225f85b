"""PyTorch Lightning (`lightning.pytorch`): a Logger recording hyper-parameters, metrics at Lightning's step, the fit's status and checkpoints.

``Trainer(logger=TrackerLogger())``; what it records is described in
tracker/integrations/lightning_logger.py and docs/integrations.md. For the standalone
``pytorch_lightning`` package, use tracker.integrations.pytorch_lightning's TrackerLogger.
"""
from __future__ import annotations

from lightning.pytorch.loggers.logger import DummyExperiment, Logger
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from .lightning_logger import LightningLoggerMethods


class TrackerLogger(LightningLoggerMethods, Logger):
    """Record a Lightning fit; ``project``, ``name``, ``group``, ``tags``, ``dir`` and ``capture`` are passed
    to ``tracker.init`` for the run it starts when the script has none active; ``log_model`` (False, True
    or "all") copies checkpoints into the run; ``all_ranks=True`` records every process, not rank 0 only."""

    _integration = "tracker.integrations.lightning"
    _rank_zero_only = rank_zero_only
    _dummy_experiment = DummyExperiment
