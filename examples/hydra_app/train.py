"""A Hydra app logging a tracker run: the resolved config and the command line's overrides.

    pip install -e '.[configs]'
    python examples/hydra_app/train.py                         # conf/config.yaml as it is
    python examples/hydra_app/train.py optim.lr=0.5 epochs=10  # recorded as config hydra.overrides
    tracker show <run> --runs tracker-runs

``tracker.init(config=cfg)`` takes the DictConfig itself: interpolations are resolved (``name``
below is ``logreg-lr0.5``), and inside a running Hydra app the overrides are kept beside them.
"""
from __future__ import annotations

import hydra
import numpy as np

import tracker


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg) -> None:
    run = tracker.init(project="hydra-example", name=cfg.name, config=cfg, dir=cfg.runs)
    rng = np.random.default_rng(cfg.data.seed)
    labels = rng.integers(0, 2, cfg.data.samples)
    features = rng.normal(size=(cfg.data.samples, 8)) + labels[:, None] * np.linspace(0.2, 1.0, 8)
    weights, bias = np.zeros(8), 0.0
    for epoch in range(cfg.epochs):
        p = 1 / (1 + np.exp(-(features @ weights + bias)))
        weights -= cfg.optim.lr * (features.T @ (p - labels) / len(labels) + cfg.model.l2 * weights)
        bias -= cfg.optim.lr * float(np.mean(p - labels))
        loss = -np.mean(labels * np.log(p + 1e-9) + (1 - labels) * np.log(1 - p + 1e-9))
        run.log({"loss": float(loss), "acc": float(np.mean((p > 0.5) == labels))}, step=epoch)
    run.finish()


if __name__ == "__main__":
    main()
