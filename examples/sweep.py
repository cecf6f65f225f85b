"""Run examples/train.py over a small grid, one subprocess per setting, into one runs folder.

Subprocesses, not function calls, so each run records its own command line, and a crash in one
setting is recorded as a failed run while the sweep goes on. The first setting is named
``baseline``: CI compares a pull request's baseline against main's with ``tracker diff``.

    python examples/sweep.py --runs tracker-runs        # 6 runs, a few seconds
    python examples/sweep.py --runs tracker-runs --quick  # 2 short runs, for tests
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

TRAIN_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train.py")
# (name, lr, hidden units); train.py's defaults are the baseline.
GRID = [("baseline", 0.5, 32), ("lr1.0-h32", 1.0, 32), ("lr0.5-h64", 0.5, 64), ("lr1.0-h64", 1.0, 64),
        ("lr0.5-h8", 0.5, 8), ("linear", 0.5, 0)]
QUICK_SETTINGS = 2
QUICK_EPOCHS = 60


def commands(runs: str, project: str, quick: bool) -> list[tuple[str, list[str]]]:
    """The (name, argv) of each training run of the sweep."""
    grid = GRID[:QUICK_SETTINGS] if quick else GRID
    result = []
    for name, lr, hidden in grid:
        argv = [sys.executable, TRAIN_SCRIPT, "--name", name, "--lr", str(lr), "--hidden", str(hidden),
                "--project", project, "--runs", runs]
        if quick:
            argv += ["--epochs", str(QUICK_EPOCHS)]
        result.append((name, argv))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="tracker-runs", help="runs folder (default: ./tracker-runs)")
    parser.add_argument("--project", default="spirals", help="tracker project (default: spirals)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the first {QUICK_SETTINGS} settings, {QUICK_EPOCHS} epochs each")
    args = parser.parse_args(argv)
    failed = []
    for name, command in commands(args.runs, args.project, args.quick):
        print(f"sweep: {name}", flush=True)
        if subprocess.run(command).returncode != 0:
            failed.append(name)  # the run itself is recorded as failed; the other settings still run
    print(f"sweep: done; see them with: tracker ls --runs {args.runs}")
    if failed:
        print(f"sweep: {len(failed)} setting(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
