"""What every peer runner shares: its command line, the timed loop and the result line.

A runner is started as ``python bench/peers/run_<peer>.py --dir TMP --calls N --values JSON``
in a fresh process with TMP as its working directory. It supplies three functions:
``start(dir, variant)`` returns a handle (not timed, reported as ``start_s``), ``log(handle, values, step)``
is called N times, and ``finish(handle)`` ends the run. The reported ``per_call_s`` is the time
of the N calls plus ``finish``, divided by N, so work a peer defers to its end is counted.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import emit_result  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="empty temporary folder for the peer's files")
    parser.add_argument("--calls", type=int, required=True, help="number of log calls")
    parser.add_argument("--values", required=True, help="the dict logged on every call, as JSON")
    parser.add_argument("--variant", default="default", help="a peer's own choice, e.g. MLflow's store")
    return parser.parse_args()


def measure(start, log, finish) -> None:
    """Time ``log`` N times plus ``finish`` and print the result line."""
    args = parse_args()
    values = json.loads(args.values)
    began = time.perf_counter()
    handle = start(args.dir, args.variant)
    started = time.perf_counter()
    for step in range(args.calls):
        log(handle, values, step)
    logged = time.perf_counter()
    finish(handle)
    finished = time.perf_counter()
    emit_result({
        "calls": args.calls,
        "start_s": started - began,
        "per_call_s": (finished - started) / args.calls,
        "finish_s": finished - logged,
    })
