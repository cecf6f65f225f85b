"""``tracker demo``: log a small sweep of real example runs (each its own process)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from ..session import runs_root
from . import add_runs_option

SWEEP = [
    ["--name", "baseline", "--lr", "0.1", "--tags", "baseline",
     "--notes", "Plain SGD with the **default** learning rate.\n\n- 6 polynomial features\n- 80/20 split"],
    ["--name", "lr-0.3", "--lr", "0.3", "--tags", "sweep"],
    ["--name", "lr-0.03", "--lr", "0.03", "--tags", "sweep"],
    ["--name", "lr-0.01-long", "--lr", "0.01", "--epochs", "60", "--tags", "sweep", "long"],
    ["--name", "seed-1", "--lr", "0.1", "--seed", "1", "--tags", "seeds"],
    ["--name", "diverged", "--lr", "5", "--epochs", "12", "--tags", "sweep",
     "--notes", "Learning rate far too high: the loss goes to **Infinity**."],
    ["--name", "broken-loader", "--lr", "0.1", "--fail-at", "7", "--tags", "bug"],
]


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "demo", help="log a small sweep of example runs",
        description="Train a small logistic regression with several settings, logging every run.",
        epilog="example:\n  tracker demo && tracker ls", formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser)
    parser.add_argument("--project", default="demo-moons", help="project name for the runs")
    parser.set_defaults(handler=run_demo)


def run_demo(args) -> int:
    root = runs_root(args.runs)

    def train(arguments: list[str]) -> tuple[str, int]:
        command = [sys.executable, "-m", "tracker.demo", "--runs", root, "--project", args.project, *arguments]
        finished = subprocess.run(command, capture_output=True, text=True)
        return arguments[1], finished.returncode

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(train, SWEEP))
    for name, code in results:
        outcome = "ok" if code == 0 else "failed (on purpose)" if name == "broken-loader" else f"exit {code}"
        print(f"  {name:<14} {outcome}")
    print(f"logged {len(results)} runs into {root}")
    unexpected = [name for name, code in results if code != 0 and name != "broken-loader"]
    return 1 if unexpected else 0
