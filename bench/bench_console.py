"""Console capture benchmark: what teeing stdout into console.log, and redacting it, cost a printing script.

    python bench/bench_console.py [--lines N] [--repeats R] [--output docs/benchmarks.md]

Each measurement is a fresh process that prints N log-like lines (some with a URL, a ``key=value``
or a token) to a pipe, timed inside the child from the first print to the last flush:

1. capture off: the floor, the script printing to its pipe;
2. capture on, redaction switched off (the tee alone, as before redaction);
3. capture on with redaction (what a run does).

Runs are interleaved and the ratios are medians of paired ratios to the floor of the same round,
so a noisy neighbour moves both sides. Puts a report under "## Console capture" in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import (BENCHMARKS_DOC, emit_result, git_revision, machine_description, markdown_table, median,
                    run_child, today, write_section)

HEADING = "## Console capture"
MODES = ("off", "tee only", "tee + redaction")
CHILD = r"""
import os, sys, time
mode, lines, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, os.environ["BENCH_DIR"])
from common import emit_result
import tracker.console as console
if mode == "tee only":
    console.redact_token_shapes = lambda text: (text, [])
capture = console.ConsoleCapture(log, max_bytes=1 << 40)
if mode != "off":
    assert capture.start()
kinds = ["step {i} loss=0.{i} acc=0.91 lr=0.001", "step {i} tokens_per_s=1234 saved to https://example.com/ckpt/{i}",
         "epoch {i}: 100%|##########| 50/50 [00:01<00:00, 45.2it/s]", "using token ghp_" + "a1B2" * 9 + " for {i}"]
start = time.perf_counter()
for i in range(lines):
    print(kinds[i % 4].format(i=i))
sys.stdout.flush()
elapsed = time.perf_counter() - start
capture.stop()
emit_result({"s": elapsed})
"""


def measure(mode: str, lines: int, folder: str) -> float:
    env = dict(os.environ, BENCH_DIR=str(Path(__file__).resolve().parent))
    result = run_child([sys.executable, "-c", CHILD, mode, str(lines), os.path.join(folder, "console.log")], env=env)
    return result["s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=BENCHMARKS_DOC)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            rounds.append({mode: measure(mode, args.lines, folder) for mode in MODES})
    rows = []
    for mode in MODES:
        seconds = median(round_[mode] for round_ in rounds)
        ratio = median(round_[mode] / round_["off"] for round_ in rounds)
        rows.append([mode, f"{args.lines:,}", f"{seconds * 1e6 / args.lines:.2f}", f"{ratio:.2f}x"])
    redaction = median(round_["tee + redaction"] / round_["tee only"] for round_ in rounds)
    body = "\n\n".join([
        f"Measured on {today()} at commit {git_revision('tracker', 'bench')} with `python bench/bench_console.py` "
        f"on {machine_description()}; medians of {args.repeats} interleaved rounds.",
        "A script printing log lines as fast as it can (a quarter with a URL, a quarter with a token) to a pipe; "
        "each line is teed to console.log by the capture thread, and with redaction every line is scanned for "
        "secrets before it is written (the terminal gets the bytes unchanged).",
        markdown_table(["Capture", "Lines", "µs/line", "Ratio to capture off"], rows),
        f"Redaction on top of the tee: **{redaction:.2f}x** the tee alone. A training script prints far fewer "
        "lines than this loop (thousands per second at most), so the cost of either is out of sight there.",
    ])
    print(body)
    write_section(HEADING, body, args.output)
    emit_result({"rounds": rounds})


if __name__ == "__main__":
    main()
