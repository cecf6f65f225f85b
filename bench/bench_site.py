"""Site benchmark: building and opening the site for 100, 1,000 and 10,000 runs.

    python bench/bench_site.py [--quick] [--sizes 100,1000,10000] [--work DIR] [--output docs/benchmarks.md]

For each size, synthetic runs of 1,000 steps x 5 metrics (bench/synthetic_runs.py, cached in
--work) are built with ``tracker build`` in a fresh process, and it measures:

1. the floor: a process that only reads every events file and parses every line (no site), the
   baseline the build is a ratio to;
2. the cold build: wall time, and peak memory as the largest sum of RSS over the build's process
   tree (its worker processes included), sampled every 10 ms;
3. a rebuild after one record is appended to one run (median of 5, a different run each time),
   next to its floor: a fresh process that stats every file of every run folder, the least any
   rebuild does to notice what changed (each measured right after a rebuild, so both see the
   same moment of a noisy machine);
4. the site's size (bytes of its files, as a host counts them) and file count;
5. ``tracker ls``: the first listing (no cache: every run read) and a listing after one run
   changed (median of 3), next to the same scan floor;
6. in headless Chromium from file://: when the index is interactive (the page's
   "tracker:index-ready" mark), next to a blank page that loads only the same data/index.js,
   and how long a search and a sort take to redraw the table.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from common import (BENCHMARKS_DOC, BYTECODE_ENV, REPO_ROOT, git_revision, machine_description, median,
                    run_sampling_tree, today, write_section)
from site_report import HEADING, render_report
from synthetic_runs import write_runs

from tracker.listing import LISTING_FILE

RESULTS_JSON = Path(__file__).resolve().parent / "out" / "site.json"  # raw numbers, git-ignored
CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
MEMORY_SAMPLE_S = 0.01
BUILD_ENV = BYTECODE_ENV  # builds run as an installed tracker does (common.BYTECODE_ENV)
FULL = {"sizes": [100, 1000, 10000], "steps": 1000, "metrics": 5, "cold_repeats": {100: 3, 1000: 3, 10000: 1},
        "rebuild_repeats": 5, "page_repeats": 3}
QUICK = {"sizes": [20, 200], "steps": 100, "metrics": 5, "cold_repeats": {}, "rebuild_repeats": 2,
         "page_repeats": 2}

FLOOR_CODE = """
import glob, json, os, sys, time
start = time.perf_counter()
lines = 0
for path in glob.glob(os.path.join(sys.argv[1], "*", "events*.jsonl")):
    with open(path, "rb") as handle:
        for line in handle:
            json.loads(line)
            lines += 1
print(json.dumps({"seconds": time.perf_counter() - start, "lines": lines}))
"""
SCAN_FLOOR_CODE = """
import os, sys
for entry in os.scandir(sys.argv[1]):
    if entry.is_dir():
        for child in os.scandir(entry.path):
            child.stat()
"""


def synthetic_runs(work: Path, count: int, steps: int, metrics: int) -> Path:
    """The runs folder for ``count`` runs, written once and reused while its parameters match."""
    folder = work / f"runs-{count}x{steps}x{metrics}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_runs(str(folder), count, steps, metrics)
        marker.write_text("written by bench/synthetic_runs.py\n")
    return folder


def run_measured(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, peak bytes of RSS summed over the process and its descendants)."""
    peak = 0

    def add_up_rss(tree) -> None:
        nonlocal peak
        total = 0
        for member in tree:
            try:
                total += member.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)

    elapsed = run_sampling_tree(argv, add_up_rss, MEMORY_SAMPLE_S, env=BUILD_ENV)
    return elapsed, peak


def build_argv(runs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", "build", "--runs", str(runs), "--out", str(out)]


def site_size(out: Path) -> tuple[int, int]:
    sizes = [path.stat().st_size for path in out.rglob("*") if path.is_file()]
    return sum(sizes), len(sizes)


def append_point(run_folder: Path) -> None:
    """A real change to one run: one more metrics record, as a resumed logger would write."""
    record = {"type": "metrics", "step": 10**6, "time": time.time(), "values": {"train/loss": 0.01}}
    with open(run_folder / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def measure_size(work: Path, count: int, config: dict) -> dict:
    runs = synthetic_runs(work, count, config["steps"], config["metrics"])
    out = work / f"site-{count}"
    floor = json.loads(subprocess.run([sys.executable, "-c", FLOOR_CODE, str(runs)], check=True,
                                      capture_output=True, text=True).stdout)
    cold = []
    for _ in range(config["cold_repeats"].get(count, 1)):
        shutil.rmtree(out, ignore_errors=True)
        cold.append(run_measured(build_argv(runs, out)))
    folders = sorted(path for path in runs.iterdir() if path.is_dir())
    rebuilds, scans = [], []
    for position in range(config["rebuild_repeats"]):
        append_point(folders[(position * 7919) % len(folders)])
        rebuilds.append(run_measured(build_argv(runs, out)))
        scans.append(scan_floor_s(runs))
    listings = measure_listing(runs, folders, config["rebuild_repeats"])
    size_bytes, files = site_size(out)
    return {"runs": count, "steps": config["steps"], "metrics": config["metrics"],
            "floor_s": floor["seconds"], "lines": floor["lines"],
            "cold_s": median(seconds for seconds, _ in cold), "cold_peak_bytes": max(peak for _, peak in cold),
            "rebuild_s": median(seconds for seconds, _ in rebuilds), "scan_floor_s": median(scans),
            "rebuild_peak_bytes": max(peak for _, peak in rebuilds),
            "site_bytes": size_bytes, "site_files": files, "page": measure_index(out, config["page_repeats"]),
            "listing": listings}


def scan_floor_s(runs: Path) -> float:
    """Seconds of a fresh process that stats every file of every run folder."""
    return run_measured([sys.executable, "-c", SCAN_FLOOR_CODE, str(runs)])[0]


def measure_listing(runs: Path, folders: list[Path], repeats: int) -> dict:
    """``tracker ls`` with no cache, then after one run changed (a different run each time)."""
    argv = [sys.executable, "-m", "tracker.cli", "ls", "--runs", str(runs)]
    (runs / LISTING_FILE).unlink(missing_ok=True)
    first, _ = run_measured(argv)
    again, scans = [], []
    for position in range(repeats):
        append_point(folders[(position * 104729 + 1) % len(folders)])
        again.append(run_measured(argv)[0])
        scans.append(scan_floor_s(runs))
    return {"first_s": first, "changed_s": median(again), "scan_floor_s": median(scans)}


SORT_BY_METRIC = ("(document.querySelector('#runs-table thead th[title^=\"metric\"] button')"
                  " || document.querySelector('#runs-table thead th[aria-sort] button')).click();")
BLANK_PAGE = ("<!doctype html><meta charset=utf-8><title>blank</title><script src=data/index.js></script>"
              "<script>performance.mark('tracker:index-ready')</script>")


def measure_index(out: Path, repeats: int) -> dict:
    """Index interactive time against a blank page that loads the same data; search and sort redraws."""
    from playwright.sync_api import sync_playwright

    blank = out / "bench-blank.html"
    blank.write_text(BLANK_PAGE, encoding="utf-8")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            ready, blank_ready, search, sort = [], [], [], []
            for _ in range(repeats):
                blank_ready.append(ready_ms(page, blank.as_uri()))
                ready.append(ready_ms(page, (out / "index.html").as_uri()))
                search.append(redraw_ms(page, "const input = document.getElementById('run-filter');"
                                              "input.value = 'optimizer:adam'; input.dispatchEvent(new Event('input'));"))
                sort.append(redraw_ms(page, SORT_BY_METRIC))
            rows = page.evaluate("document.querySelectorAll('#runs-table tbody tr').length")
            browser.close()
    finally:
        blank.unlink()
    return {"ready_ms": median(ready), "blank_ms": median(blank_ready), "search_ms": median(search),
            "sort_ms": median(sort), "rows_in_dom": rows}


def ready_ms(page, url: str) -> float:
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function("performance.getEntriesByName('tracker:index-ready').length > 0", timeout=60_000)
    return page.evaluate("performance.getEntriesByName('tracker:index-ready')[0].startTime")


def redraw_ms(page, action: str) -> float:
    """Milliseconds from ``action`` to the table's next change (search debounce included)."""
    return page.evaluate("""(action) => new Promise((resolve) => {
        const table = document.getElementById('runs-table');
        const start = performance.now();
        const observer = new MutationObserver(() => { observer.disconnect(); resolve(performance.now() - start); });
        observer.observe(table, {childList: true, subtree: true});
        new Function(action)();
    })""", action)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sites (a minute or so), not for the report")
    parser.add_argument("--sizes", help="comma-separated run counts (default 100,1000,10000)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-site",
                        help="where synthetic runs and sites go (10,000 runs take about 2 GB)")
    parser.add_argument("--output", type=Path, default=BENCHMARKS_DOC, help="Markdown file to update")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.sizes:
        config["sizes"] = [int(size) for size in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = []
    for count in config["sizes"]:
        print(f"{count} runs ...", file=sys.stderr, flush=True)
        sizes.append(measure_size(args.work, count, config))
        print(json.dumps(sizes[-1]), file=sys.stderr, flush=True)
    results = {"command": "python bench/bench_site.py" + (" --quick" if args.quick else ""),
               "date": today(), "revision": git_revision("tracker", "sitegen", "themes"),
               "machine": machine_description(), "cores": os.cpu_count(), "sizes": sizes,
               "rebuild_repeats": config["rebuild_repeats"]}
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=1), encoding="utf-8")
    report = render_report(results)
    print(report)
    if not args.quick:
        write_section(HEADING, report, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
