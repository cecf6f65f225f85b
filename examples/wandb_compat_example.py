"""A W&B script that changed one line: `import tracker.compat.wandb as wandb`.

    python examples/wandb_compat_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse

import numpy as np

import tracker.compat.wandb as wandb


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    true_w = rng.normal(size=8)
    X = rng.normal(size=(512, 8))
    y = X @ true_w + rng.normal(scale=0.1, size=512)

    run = wandb.init(project="examples", name="wandb-compat-regression", config={"lr": 0.05, "steps": args.steps},
                     tags=["example"], dir=args.runs)
    w = np.zeros(8)
    for step in range(args.steps):
        gradient = 2 * X.T @ (X @ w - y) / len(y)
        w -= wandb.config["lr"] * gradient
        loss = float(np.mean((X @ w - y) ** 2))
        wandb.log({"loss": loss, "weights": wandb.Histogram(w)} if step % 10 == 0 else {"loss": loss})
    run.summary["final_loss"] = loss
    wandb.finish()
    print(f"final loss {loss:.5f}")


if __name__ == "__main__":
    main()
