"""Big-run benchmark: ``tracker ls`` and ``tracker build`` of one run of 1,000,000 steps x 20 metrics.

    python bench/bench_big_run.py [--quick | --steps N] [--metrics 20] [--work DIR] [--output docs/benchmarks.md]

The run's events file is written directly (no logger: the point is the readers) and kept in
--work between runs. Each command runs in a fresh process; its wall time and peak memory (the
largest sum of RSS over its process tree, sampled every 10 ms) are reported as ratios to a
floor measured in the same run: a process that reads the file once with a plain JSON-lines parse
(``json.loads`` per line, nothing kept), the least any reader of the run does.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_site import run_measured
from common import BENCHMARKS_DOC, git_revision, machine_description, markdown_table, today, write_section

from tracker.listing_cache import LISTING_FILE

HEADING = "## Big run"
FULL_STEPS = 1_000_000
QUICK_STEPS = 50_000
T0 = 1_790_000_000.0
FLOOR_CODE = """
import json, sys
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.loads(line)
"""


def write_big_run(folder: Path, steps: int, metrics: int) -> Path:
    """One run folder of ``steps`` metrics records of ``metrics`` values, as the logger writes them."""
    run = folder / f"big-{steps}x{metrics}"
    events = run / "events.jsonl"
    if events.exists():
        return run
    run.mkdir(parents=True, exist_ok=True)
    names = [f"metric_{index:02d}" for index in range(metrics)]
    head = [{"type": "run", "schema": 1, "id": run.name, "project": "bench", "name": run.name, "time": T0},
            {"type": "start", "writer": "w0", "time": T0, "pid": 1, "host": "bench", "user": "bench"},
            {"type": "config", "time": T0, "values": {"lr": 0.001, "steps": steps}}]
    temporary = events.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in head)
        for start in range(0, steps, 10_000):
            lines = []
            for step in range(start, min(steps, start + 10_000)):
                value = math.sin(step / 5000)
                values = ",".join(f'"{name}":{value + index:.6f}' for index, name in enumerate(names))
                lines.append(f'{{"type":"metrics","step":{step},"time":{T0 + step * 0.01:.2f},"values":{{{values}}}}}\n')
            handle.writelines(lines)
        handle.write(json.dumps({"type": "end", "writer": "w0", "time": T0 + steps * 0.01, "status": "finished"}) + "\n")
    temporary.rename(events)
    return run


def measure(run: Path, work: Path) -> dict:
    runs = run.parent
    events = run / "events.jsonl"
    floor = run_measured([sys.executable, "-c", FLOOR_CODE, str(events)])
    (runs / LISTING_FILE).unlink(missing_ok=True)
    listing = run_measured([sys.executable, "-m", "tracker.cli", "ls", "--runs", str(runs)])
    out = Path(tempfile.mkdtemp(prefix="big-run-site-", dir=work))
    try:
        build = run_measured([sys.executable, "-m", "tracker.cli", "build", "--runs", str(runs), "--out", str(out)])
        site_bytes = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"events_bytes": events.stat().st_size, "floor": floor, "ls": listing, "build": build,
            "site_bytes": site_bytes}


def render(result: dict, steps: int, metrics: int) -> str:
    floor_s, floor_rss = result["floor"]
    rows = [["plain JSON-lines parse (floor)", f"{floor_s:.1f}", "1.0", f"{floor_rss / 2**20:.0f}", "1.0"]]
    for label, key in (("`tracker ls` (no cache)", "ls"), ("`tracker build` (cold)", "build")):
        seconds, rss = result[key]
        rows.append([label, f"{seconds:.1f}", f"{seconds / floor_s:.1f}", f"{rss / 2**20:.0f}", f"{rss / floor_rss:.1f}"])
    table = markdown_table(["command", "time (s)", "x floor", "peak RSS (MB)", "x floor"], rows)
    return (f"One run of {steps:,} steps x {metrics} metrics ({result['events_bytes'] / 2**20:.0f} MB of events), "
            f"measured by `bench/bench_big_run.py` on {today()} at {git_revision('tracker', 'sitegen')}, "
            f"{machine_description()}. Peak RSS sums the process tree (build workers included). "
            f"The floor reads the events file once with `json.loads` per line and keeps nothing.\n\n{table}\n\n"
            f"The site of this run is {result['site_bytes'] / 2**20:.1f} MB. Before streaming (issue 11), `tracker ls` "
            "of this run took 32 s and 3 GB, the build 35 s and 3 GB.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS:,} steps instead of {FULL_STEPS:,}")
    parser.add_argument("--steps", type=int, help="steps of the run (default: 1,000,000)")
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-big-run")
    parser.add_argument("--output", type=Path, default=BENCHMARKS_DOC,
                        help="write the results into this Markdown file ('-': print only)")
    args = parser.parse_args(argv)
    steps = args.steps or (QUICK_STEPS if args.quick else FULL_STEPS)
    args.work.mkdir(parents=True, exist_ok=True)
    run = write_big_run(args.work / f"runs-{steps}x{args.metrics}", steps, args.metrics)
    body = render(measure(run, args.work), steps, args.metrics)
    print(body)
    if str(args.output) != "-":
        write_section(HEADING, body, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent.parent)
    sys.exit(main())
