"""W&B offline: ``wandb.init(...)``, ``run.log(values, step=i)``, ``run.finish()``.

WANDB_MODE=offline keeps it off the network; its files and settings go to the temporary folder.
"""
import os

import harness


def start(folder, variant):
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        os.environ[name] = folder
    import wandb

    return wandb.init(project="bench", name="x")


def log(run, values, step):
    run.log(values, step=step)


def finish(run):
    run.finish()


if __name__ == "__main__":
    harness.measure(start, log, finish)
