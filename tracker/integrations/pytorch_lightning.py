"""PyTorch Lightning as the standalone `pytorch_lightning` package: the same Logger as tracker.integrations.lightning.

``pytorch_lightning.Trainer(logger=TrackerLogger())``: a Trainer of one package accepts only
loggers of its own package, so each package has its TrackerLogger; both record alike
(tracker/integrations/lightning_logger.py).
"""
from __future__ import annotations

from pytorch_lightning.loggers.logger import DummyExperiment, Logger
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from .lightning_logger import LightningLoggerMethods


class TrackerLogger(LightningLoggerMethods, Logger):
    """Record a ``pytorch_lightning`` fit; the arguments are those of tracker.integrations.lightning.TrackerLogger."""

    _integration = "tracker.integrations.pytorch_lightning"
    _rank_zero_only = rank_zero_only
    _dummy_experiment = DummyExperiment
