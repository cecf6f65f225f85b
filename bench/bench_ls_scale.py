"""Scale benchmark of `tracker ls`: the listing of a big runs folder after one changed run, next to a
floor that lists every run folder and stats its files (issue 17: 100,000 runs, <= 3 s on 2 cores and
<= 5x the floor).

    python bench/bench_ls_scale.py --runs-dir /tmp/scale/runs-100000x100 [--repeats 5] [--before TREE]
    python bench/bench_ls_scale.py --work DIR --runs 100000 --steps 100   # writes the runs once

The runs folder is listed once first (the listing cache made; that first listing is timed and
reported). Then each repeat appends one metrics record to a different run (as a resumed logger
would) and times, each in a fresh process, in turn:

1. the floor: list the runs folder, list each run folder and stat each entry (bench_site.py's
   SCAN_FLOOR_CODE, the least a listing that must notice a changed file can do);
2. ``tracker ls --runs DIR`` as a person runs it, output to /dev/null: wall and CPU time (the
   process and any workers);
3. with ``--before TREE`` (a folder holding another version's ``tracker`` package, e.g. from
   ``git archive <commit> tracker | tar -x -C TREE``), the same command of that version, which
   keeps a listing cache of its own, so that both meet the same load.

The order of 2 and 3 alternates between repeats. The commands run outside any git checkout, and
the files are in the page cache: this measures the listing, not the disk.
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

from bench_site import SCAN_FLOOR_CODE, append_point
from common import git_revision, machine_description, markdown_table, median, report_section, today, verdict
from synthetic_runs import write_runs

HEADING = "## tracker ls after one changed run, at scale"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/listing.md")
TARGET_S = 3.0      # issue 17: tracker ls after one changed run among 100,000, on 2 cores
TARGET_RATIO = 5.0  # ... within 5x the scan floor
COMMANDS_CWD = tempfile.gettempdir()  # outside any checkout, as bench_scale.py runs its commands


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of it and its children) of ``argv``, output dropped; raises naming
    the command when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=COMMANDS_CWD, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ls_argv(runs: Path) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", "ls", "--runs", str(runs)]


def tree_env(tree: Path | None) -> dict | None:
    """The environment that makes a fresh interpreter import the tracker of ``tree`` (None: this one's)."""
    return None if tree is None else {**os.environ, "PYTHONPATH": str(tree.resolve())}


def runs_folder(args) -> Path:
    if args.runs_dir:
        return Path(args.runs_dir)
    folder = Path(args.work or tempfile.mkdtemp(prefix="bench-ls-scale-")) / f"runs-{args.runs}x{args.steps}"
    if not (folder / ".complete").exists():
        started = time.perf_counter()
        write_runs(str(folder), args.runs, args.steps)
        (folder / ".complete").write_text("written by bench/synthetic_runs.py\n")
        print(f"  wrote {args.runs:,} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return folder


def measure(args) -> dict:
    runs = runs_folder(args)
    folders = sorted(path for path in runs.iterdir() if path.is_dir())
    load_before = os.getloadavg()[0]
    first = {"after": timed(ls_argv(runs))}  # makes (or brings up to date) each version's listing cache
    if args.before:
        first["before"] = timed(ls_argv(runs), tree_env(args.before))
    floors, afters, befores = [], [], []
    for repeat in range(args.repeats):
        print(f"  repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
        append_point(folders[(repeat * 7919 + 1) % len(folders)])
        floors.append(timed([sys.executable, "-c", SCAN_FLOOR_CODE, str(runs)]))
        versions = [("after", None), ("before", args.before)] if args.before else [("after", None)]
        for name, tree in versions if repeat % 2 == 0 else versions[::-1]:
            (afters if name == "after" else befores).append(timed(ls_argv(runs), tree_env(tree)))
    results = {"runs": len(folders), "repeats": args.repeats, "runs_dir": str(runs),
               "first_after": first["after"], "floor": floors, "after": afters,
               "load_average": [load_before, os.getloadavg()[0]]}
    if befores:
        results.update(before=befores, before_tree=str(args.before), first_before=first["before"])
    return results


def summary(samples: list[tuple[float, float]], floors: list[tuple[float, float]]) -> list[str]:
    """Median wall, median CPU, and the median of the paired wall and CPU ratios to the floor."""
    return [f"{median(wall for wall, _ in samples):.2f}", f"{median(cpu for _, cpu in samples):.2f}",
            f"{median(a[0] / b[0] for a, b in zip(samples, floors)):.2f}",
            f"{median(a[1] / b[1] for a, b in zip(samples, floors)):.2f}"]


def render(results: dict, command: str) -> str:
    floors = results["floor"]
    rows = [["floor: list every run folder, stat each entry", *summary(floors, floors)],
            ["`tracker ls --runs DIR` after one changed run", *summary(results["after"], floors)]]
    if "before" in results:
        rows.insert(1, [f"the same, the tree in {results['before_tree']} (--before)", *summary(results["before"], floors)])
    wall = median(wall for wall, _ in results["after"])
    ratio = median(a[0] / b[0] for a, b in zip(results["after"], floors))
    first = f"{results['first_after'][0]:.2f} s wall, {results['first_after'][1]:.2f} s CPU"
    text = [
        f"`{command}` on {today()} at {git_revision('tracker', 'bench')}; {machine_description()}; one-minute "
        f"load average {results['load_average'][0]:.1f} before and {results['load_average'][1]:.1f} after.",
        "",
        f"{results['runs']:,} run folders in {results['runs_dir']}; each repeat appends a metrics record to a "
        f"different run, then times each line in a fresh process; medians of {results['repeats']} "
        "(ratios: medians of the paired ratios to the floor of the same repeat):",
        "",
        markdown_table(["what", "wall s", "CPU s", "x floor (wall)", "x floor (CPU)"], rows),
        "",
        f"- within {TARGET_S:.0f} s: {verdict(wall <= TARGET_S)} ({wall:.2f} s)",
        f"- within {TARGET_RATIO:.0f}x the floor: {verdict(ratio <= TARGET_RATIO)} ({ratio:.2f}x)",
        f"- the listing before the repeats (its cache made or brought up to date): {first}"
        + (f"; the --before tree's: {results['first_before'][0]:.2f} s wall" if "first_before" in results else ""),
    ]
    return "\n".join(text) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", help="an existing runs folder to measure (records are appended to its runs)")
    parser.add_argument("--runs", type=int, default=100_000, help="without --runs-dir: how many runs to write")
    parser.add_argument("--steps", type=int, default=100, help="without --runs-dir: steps a run")
    parser.add_argument("--work", help="without --runs-dir: folder to keep the written runs in between invocations")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a folder holding another version's tracker package: "
                        "its tracker ls is timed too, interleaved")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"Markdown file whose '{HEADING}' section is replaced (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    command = "python bench/bench_ls_scale.py " + " ".join(
        f"--{name.replace('_', '-')} {value}" for name, value in vars(args).items()
        if value not in (None, parser.get_default(name)) and name != "output")
    results = measure(args)
    report = render(results, command.strip())
    report_section(HEADING, report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
