"""Synthetic run folders for the site benchmarks: N finished runs of S steps x M metrics.

Written in the documented record format (docs/format.md) rather than through tracker.init(),
because 10,000 runs x 1,000 steps through the logger would take minutes and measure the logger,
not the readers. The bytes are still the writer's: the records go through its encoder
(line_encoding.BatchEncoder, metrics as the tuples log() queues: queued_metrics) with the
state it folds (end_state.FileState), so each end record carries that state as a real one does.
Each run looks like a real one: a config with a learning rate that drives the loss, a git
record, a small environment, an end record.

    python bench/synthetic_runs.py OUT --runs 1000 [--steps 1000 --metrics 5]
"""
from __future__ import annotations

import argparse
import math
import os
import random
from concurrent.futures import ProcessPoolExecutor

from tracker.end_state import FileState
from tracker.line_encoding import BatchEncoder, queued_metrics

START_TIME = 1_790_000_000.0  # 2026-09-21: runs are spread over the weeks after it
RUN_SPACING_S = 600.0
STEP_S = 0.5
METRIC_NAMES = ("train/loss", "valid/loss", "valid/acc", "lr", "grad_norm")
PACKAGES = {"numpy": "2.3.1", "torch": "2.13.0", "tracker": "0.1.0"}


def run_id(index: int) -> str:
    return f"synthetic-{index:06d}"


HEAD_RECORDS = 2  # run and start: written by tracker.init, before the writer's first batch


def run_records(index: int, steps: int, metrics: int, environment: dict | None = None) -> list:
    """Every record of run ``index``, metrics as the writer queues them (queued_metrics):
    deterministic, so two benchmark runs read the same data. ``environment``: the environment
    record's fields instead of the small default (bench_site_size.py gives a realistic one)."""
    rng = random.Random(index)
    created = START_TIME + index * RUN_SPACING_S
    lr = 10 ** rng.uniform(-4, -1)
    config = {"lr": lr, "batch_size": rng.choice([32, 64, 128, 256]), "dropout": round(rng.uniform(0, 0.5), 3),
              "seed": index, "optimizer": rng.choice(["adam", "sgd"]), "model": {"depth": rng.randint(2, 12)}}
    records = [
        {"type": "run", "schema": 1, "id": run_id(index), "project": f"project-{index % 4}",
         "name": f"sweep-{index}", "group": None, "time": created},
        {"type": "start", "writer": "w0", "time": created, "pid": 1000 + index, "host": "bench", "user": "bench",
         "resumed": False, "rank": None, "heartbeat_interval_s": 2.0},
        {"type": "config", "time": created, "values": config},
        {"type": "tags", "add": ["synthetic", rng.choice(["baseline", "ablation"])]},
    ]
    names = METRIC_NAMES[:metrics] + tuple(f"metric_{n}" for n in range(len(METRIC_NAMES), metrics))
    floor = 0.05 + abs(math.log10(lr) + 2.5) * 0.2
    for step in range(steps):
        decay = math.exp(-step / (steps / 5))
        values = {}
        for position, name in enumerate(names):
            noise = rng.gauss(0, 0.02)
            if position == 2:
                values[name] = min(1.0, 1 - floor - decay * 0.5 + noise)
            elif position == 3:
                values[name] = lr * (0.5 * (1 + math.cos(math.pi * step / steps)))
            else:
                values[name] = floor + decay * (position + 1) + noise
        records.append(queued_metrics(step, created + step * STEP_S, values))
    ended = created + steps * STEP_S
    records += [
        {"type": "git", "time": created, "available": True, "in_repo": True,
         "commit": f"{rng.getrandbits(160):040x}", "branch": "main", "remote_url": None, "dirty": False,
         "untracked_files": [], "diff_bytes": 0},
        {"type": "environment", "time": created,
         **(environment or {"python": "3.11.7", "os": "Linux", "packages": PACKAGES})},
        {"type": "end", "writer": "w0", "time": ended, "status": "finished", "error": None},
    ]
    return records


def write_run(root: str, index: int, steps: int, metrics: int, end_state: bool = True,
              environment: dict | None = None) -> None:
    """Run ``index``'s folder; ``end_state=False`` writes the end record without its state, as
    writers before it did (readers then read the run whole)."""
    folder = os.path.join(root, run_id(index))
    os.makedirs(folder, exist_ok=True)
    records = run_records(index, steps, metrics, environment)
    state = FileState()
    state.add_head(records[:HEAD_RECORDS])
    if not end_state:
        state.invalidate()
    encoder = BatchEncoder(_refuse, state)
    with open(os.path.join(folder, "events.jsonl"), "wb") as handle:
        handle.write(BatchEncoder(_refuse).encode(records[:HEAD_RECORDS]) + encoder.encode(records[HEAD_RECORDS:]))


def _refuse(cause: str, message: str) -> None:
    raise RuntimeError(message)  # every synthetic record can be encoded


def _write_batch(root: str, indices: range, steps: int, metrics: int, end_state: bool,
                 environment: dict | None) -> None:
    for index in indices:
        write_run(root, index, steps, metrics, end_state, environment)


def write_runs(root: str, count: int, steps: int = 1000, metrics: int = 5, first: int = 0,
               end_state: bool = True, environment: dict | None = None) -> None:
    """Write runs ``first`` .. ``first + count - 1`` under ``root``, on every core."""
    os.makedirs(root, exist_ok=True)
    workers = os.cpu_count() or 1
    batch = max(1, math.ceil(count / (workers * 4)))
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_write_batch, root, range(start, min(first + count, start + batch)), steps, metrics,
                               end_state, environment)
                   for start in range(first, first + count, batch)]
        for future in futures:
            future.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="runs folder to write into")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--metrics", type=int, default=5)
    args = parser.parse_args()
    write_runs(args.out, args.runs, args.steps, args.metrics)


if __name__ == "__main__":
    main()
