"""Listing benchmark: the first ``tracker ls`` of finished runs, with no listing cache, next to a
floor that opens every events file and reads its first and last 4 KB.

    python bench/bench_listing.py [--runs 10000] [--steps 1000] [--whole-runs 1000] [--work DIR]
                                  [--repeats 3] [--before TREE] [--output /tmp/bench_sections/listing.md]

Synthetic finished runs (bench/synthetic_runs.py: the writer's own bytes, so each end record
carries the file's state) are written once into --work and measured, each in a fresh process,
repeats interleaved, median kept:

1. the floor: list the runs folder and each run folder, open each events file, read its first
   and last 4 KB (``os.pread``), close it; the least I/O a listing from the files' ends can do;
2. ``list_runs()``, timed inside its process (imports excluded), the listing cache deleted first
   (where the cores' share saves more than workers cost, it scans and reads them on every core:
   tracker/listing.py _ends_workers_pay; on 2 cores from about 12,500 runs);
3. ``tracker ls --runs DIR`` as a person runs it: wall time of the whole command, output to
   /dev/null, the listing cache deleted first;
4. for scale, the same listing of --whole-runs runs whose end records carry no state (as writers
   before it wrote them), which are read whole.

With ``--before TREE`` (a folder holding another version's ``tracker`` package, e.g. from
``git archive <commit> tracker | tar -x -C TREE``), each repeat also times ``list_runs()`` of that
version, between the floor and this one's, so that both meet the same load.

The files are in the page cache for all of them (they were just written, or read by the previous
repeat): this measures the reader, not the disk. Each is timed as wall time and as CPU (its own and
its forked workers'), each against the floor's of the same repeat: on a shared machine the wall
times swing with the load, the CPU much less.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (RESULT_PREFIX, git_revision, machine_description, markdown_table, median, report_section, run_child,
                    today, verdict)
from synthetic_runs import write_runs

from tracker.listing_cache import LEGACY_LISTING_FILES, LISTING_FILE
from tracker.ls_table_cache import TABLE_FILE

HEADING = "## tracker ls from the files' ends"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/listing.md")
TARGET_RATIO = 3.0   # listing / floor
TARGET_CLI_S = 3.0   # first tracker ls of 10,000 runs, on 2 cores
ENDS_BYTES = 4096

FLOOR_CODE = f"""
import json, os, sys, time
start, cpu = time.perf_counter(), time.process_time()
files = 0
with os.scandir(sys.argv[1]) as runs:
    folders = [entry.path for entry in runs if entry.is_dir() and not entry.name.startswith(".")]
for folder in folders:
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries if entry.name.startswith("events") and entry.name.endswith(".jsonl")]
    for name in names:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY)
        size = os.fstat(fd).st_size
        os.pread(fd, {ENDS_BYTES}, 0)
        os.pread(fd, {ENDS_BYTES}, max(0, size - {ENDS_BYTES}))
        os.close(fd)
        files += 1
print({RESULT_PREFIX!r} + json.dumps({{"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
                                       "files": files}}))
"""

# CPU: this process's and its workers' (forked, and waited for when the map ends; a forkserver's
# workers are not this process's children, and are missed)
LIST_CODE = f"""
import json, resource, sys, time, warnings
import tracker
from tracker.listing import list_runs
warnings.simplefilter("ignore")
def cpu():
    return sum(usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                                   resource.RUSAGE_CHILDREN)))
start, started_cpu = time.perf_counter(), cpu()
listing = list_runs(sys.argv[1])
print({RESULT_PREFIX!r} + json.dumps({{"seconds": time.perf_counter() - start, "cpu_s": cpu() - started_cpu,
                                       "runs": len(listing.rows), "errors": len(listing.errors),
                                       "tracker": tracker.__file__}}))
"""


def prepare(work: Path, name: str, runs: int, steps: int, end_state: bool) -> Path:
    """The runs folder ``work/name``, written once (a marker file says it is complete)."""
    folder = work / name
    marker = folder / ".complete"
    if not marker.exists():
        started = time.perf_counter()
        write_runs(str(folder), runs, steps, end_state=end_state)
        marker.write_text("")
        print(f"  wrote {runs:,} runs of {steps:,} steps in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return folder


def without_cache(folder: Path) -> None:
    """No listing cache of this version, nor of a --before tree of an older format, nor tracker
    ls's last table (which a listing of the same runs would print again)."""
    for name in LISTING_FILE, *LEGACY_LISTING_FILES, TABLE_FILE:
        (folder / name).unlink(missing_ok=True)


def floor_s(folder: Path) -> dict:
    return run_child([sys.executable, "-c", FLOOR_CODE, str(folder)])


def list_runs_s(folder: Path, expected: int, tree: Path | None = None) -> dict:
    """list_runs() of ``folder`` in a fresh process, of the tracker in ``tree`` when given."""
    without_cache(folder)
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    # run from the tree, so that its tracker comes first on the path whatever folder this runs from
    result = run_child([sys.executable, "-c", LIST_CODE, str(folder)], env=env, timeout_s=3600,
                       cwd=None if tree is None else str(tree))
    if result["runs"] != expected or result["errors"]:
        raise SystemExit(f"list_runs found {result['runs']} runs and {result['errors']} errors in {folder}; "
                         f"expected {expected} runs")
    if tree is not None and not result["tracker"].startswith(str(tree.resolve())):
        raise SystemExit(f"--before {tree}: the child imported {result['tracker']}, not that tree's tracker")
    return result


def cli_s(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``tracker ls`` of ``folder`` as a person runs it, no listing cache."""
    without_cache(folder)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracker.cli", "ls", "--runs", str(folder)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def measure(args) -> dict:
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-listing-"))
    print(f"runs in {work}", file=sys.stderr)
    ended = prepare(work, f"ended-{args.runs}x{args.steps}", args.runs, args.steps, end_state=True)
    whole = prepare(work, f"whole-{args.whole_runs}x{args.steps}", args.whole_runs, args.steps, end_state=False) \
        if args.whole_runs else None
    load_before = os.getloadavg()[0]
    floors, listings, clis, befores = [], [], [], []
    for repeat in range(args.repeats):
        print(f"  repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
        floors.append(floor_s(ended))
        if args.before:
            befores.append(list_runs_s(ended, args.runs, args.before))
        listings.append(list_runs_s(ended, args.runs))
        clis.append(cli_s(ended))
    results = {"runs": args.runs, "steps": args.steps, "repeats": args.repeats,
               "floor_s": median(floor["seconds"] for floor in floors),
               "floor_cpu_s": median(floor["cpu_s"] for floor in floors),
               "list_runs_s": median(listing["seconds"] for listing in listings),
               "list_runs_cpu_s": median(listing["cpu_s"] for listing in listings),
               "cli_s": median(wall for wall, _ in clis), "cli_cpu_s": median(cpu for _, cpu in clis),
               "ratio": median(listing["seconds"] / floor["seconds"] for listing, floor in zip(listings, floors)),
               "cpu_ratio": median(listing["cpu_s"] / floor["cpu_s"] for listing, floor in zip(listings, floors)),
               "load_average": [load_before, os.getloadavg()[0]]}
    if befores:
        results["before_tree"] = str(args.before)
        results["before_list_runs_s"] = median(before["seconds"] for before in befores)
        results["before_list_runs_cpu_s"] = median(before["cpu_s"] for before in befores)
        results["before_ratio"] = median(before["seconds"] / floor["seconds"] for before, floor in zip(befores, floors))
        results["before_cpu_ratio"] = median(before["cpu_s"] / floor["cpu_s"] for before, floor in zip(befores, floors))
    if whole is not None:
        results["whole_runs"] = args.whole_runs
        results["whole_list_runs_s"] = median(list_runs_s(whole, args.whole_runs)["seconds"] for _ in range(args.repeats))
    return results


def render(results: dict, command: str) -> str:
    runs = results["runs"]
    rows = [
        ["floor: open, read the first and last 4 KB, close (every events file, one process)",
         f"{results['floor_s']:.2f}", "1.00", f"{results['floor_cpu_s']:.2f}", "1.00"],
        ["`list_runs()`, no listing cache (imports excluded)", f"{results['list_runs_s']:.2f}",
         f"{results['ratio']:.2f}", f"{results['list_runs_cpu_s']:.2f}", f"{results['cpu_ratio']:.2f}"],
        ["`tracker ls --runs DIR`, no listing cache (the whole command)", f"{results['cli_s']:.2f}",
         f"{results['cli_s'] / results['floor_s']:.2f}", f"{results['cli_cpu_s']:.2f}",
         f"{results['cli_cpu_s'] / results['floor_cpu_s']:.2f}"],
    ]
    if "before_tree" in results:
        rows.insert(1, [f"`list_runs()` of the tree in {results['before_tree']} (--before), no listing cache",
                        f"{results['before_list_runs_s']:.2f}", f"{results['before_ratio']:.2f}",
                        f"{results['before_list_runs_cpu_s']:.2f}", f"{results['before_cpu_ratio']:.2f}"])
    text = [
        f"`{command}` on {today()} at {git_revision('tracker', 'bench')}; {machine_description()}.",
        "",
        f"The first listing of {runs:,} finished runs of {results['steps']:,} steps x 5 metrics (every end record "
        "carries its file's state, docs/format.md), median of "
        f"{results['repeats']} fresh processes, files in the page cache, one-minute load average "
        f"{results['load_average'][0]:.1f} before and {results['load_average'][1]:.1f} after:",
        "",
        markdown_table(["what", "wall s", "x floor", "CPU s", "x floor's CPU"], rows),
        "",
        f"- within {TARGET_RATIO:.0f}x the floor: {verdict(results['ratio'] <= TARGET_RATIO)} "
        f"({results['ratio']:.2f}x wall, {results['cpu_ratio']:.2f}x CPU; ratios are medians of each repeat's)",
        f"- whole `tracker ls` within {TARGET_CLI_S:.0f} s: {verdict(results['cli_s'] <= TARGET_CLI_S)} "
        f"({results['cli_s']:.2f} s)",
    ]
    if "whole_runs" in results:
        per_run = results["whole_list_runs_s"] / results["whole_runs"]
        text.append(f"- for scale, runs whose end records carry no state (older writers, or crashed runs) are read "
                    f"whole: {results['whole_runs']:,} of them took {results['whole_list_runs_s']:.2f} s "
                    f"({per_run * 1e3:.1f} ms a run on every core, about {per_run * runs:.0f} s for {runs:,})")
    return "\n".join(text) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--whole-runs", type=int, default=1_000, help="runs without end state, for scale (0: none)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a folder holding another version's tracker package: "
                        "its list_runs() is timed too, interleaved")
    parser.add_argument("--work", help="folder to keep the generated runs in between invocations (default: a temp folder)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"Markdown file whose '{HEADING}' section is replaced (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    command = "python bench/bench_listing.py" + "".join(
        f" --{name} {value}" for name, value in (("runs", args.runs), ("steps", args.steps),
                                                  ("whole-runs", args.whole_runs)) if value != parser.get_default(name.replace("-", "_")))
    results = measure(args)
    report = render(results, command)
    report_section(HEADING, report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
