"""Run pages of big runs: what one long run and one wide run cost the build and the browser.

    python bench/bench_run_pages.py [--steps 200000] [--work DIR] [--output docs/benchmarks.md | -]

Three runs, written directly as JSON lines (bench_big_run.write_big_run) and kept in --work:
a baseline of 1,000 steps x 20 metrics, a long run of --steps x 20 metrics, and a wide run of
3 steps x 5,000 metrics. Each is built alone with ``tracker build`` in a fresh process (wall time,
peak RSS of the process tree), and its run page is opened in headless Chromium from file://: the
time until the first chart is drawn, the charts drawn by then, and the JavaScript heap in use
(after a garbage collection). Everything is reported next to the baseline, measured in the same
invocation, so the ratios hold on a noisy machine. The long run's page holds about 5,000 points per
series whatever --steps is (sitegen/load.py), so its page figures stand for any longer run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_big_run import write_big_run
from bench_site import CHROMIUM, build_argv, run_measured
from common import BENCHMARKS_DOC, git_revision, machine_description, markdown_table, today, write_section

HEADING = "## Run pages of big runs"
BASELINE = (1_000, 20)
WIDE = (3, 5_000)
DRAWN = "document.querySelectorAll('figure.chart .plot.js-plotly-plot').length"


def measure_build(work: Path, steps: int, metrics: int) -> dict:
    """Build one run's site; its build cost and the sizes of its page data and CSV file."""
    run = write_big_run(work / f"runs-{steps}x{metrics}", steps, metrics)
    out = work / f"site-{steps}x{metrics}"
    shutil.rmtree(out, ignore_errors=True)
    build_s, build_rss = run_measured(build_argv(run.parent, out))
    csv_file = out / "runs" / run.name / "metrics.csv.gz"
    return {"steps": steps, "metrics": metrics, "build_s": build_s, "build_rss": build_rss,
            "data_bytes": (out / "data" / "runs" / f"{run.name}.js").stat().st_size,
            "csv_bytes": csv_file.stat().st_size if csv_file.exists() else 0,
            "page": (out / "runs" / run.name / "index.html").as_uri()}


def measure_page(browser, url: str) -> dict:
    """Time to the first chart drawn, the charts drawn by then, and the JS heap in use."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    cdp = page.context.new_cdp_session(page)
    page.goto(url)
    page.wait_for_function(f"{DRAWN} > 0", polling="raf", timeout=120_000)
    first_chart_ms = page.evaluate("performance.now()")
    drawn = page.evaluate(DRAWN)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    heap = next(metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]
                if metric["name"] == "JSHeapUsedSize")
    page.close()
    return {"first_chart_ms": first_chart_ms, "drawn": drawn, "heap_bytes": heap}


def render(results: list[dict]) -> str:
    base = results[0]
    rows = []
    for result in results:
        label = f"{result['steps']:,} steps x {result['metrics']:,} metrics" + (" (baseline)" if result is base else "")
        rows.append([label, f"{result['build_s']:.1f}", f"{result['build_s'] / base['build_s']:.1f}",
                     f"{result['build_rss'] / 2**20:.0f}", f"{result['build_rss'] / base['build_rss']:.1f}",
                     f"{result['data_bytes'] / 2**20:.2f}", f"{result['csv_bytes'] / 2**20:.1f}",
                     f"{result['first_chart_ms']:,.0f}", f"{result['first_chart_ms'] / base['first_chart_ms']:.1f}",
                     str(result["drawn"]), f"{result['heap_bytes'] / 2**20:.0f}",
                     f"{result['heap_bytes'] / base['heap_bytes']:.1f}"])
    table = markdown_table(["run", "build (s)", "x base", "build peak RSS (MB)", "x base", "page data (MB)",
                            "CSV file (MB)", "first chart (ms)", "x base", "charts drawn", "JS heap (MB)", "x base"],
                           rows)
    return (f"Measured by `bench/bench_run_pages.py` on {today()} at {git_revision('sitegen', 'themes')}, "
            f"{machine_description()}. Each run is built alone (a fresh `tracker build`, peak RSS of its process "
            "tree) and its page opened in headless Chromium from file:// (1280 x 900): time from navigation to "
            "the first chart drawn, the charts drawn by then, and the JavaScript heap in use after a garbage "
            f"collection.\n\n{table}\n\n"
            "A long run's page holds about 5,000 points per series however many steps it logged, and the CSV file "
            "of every point sits beside it (docs/site.md); before issue 11 a run of 1,000,000 steps x 20 metrics "
            "made 194 MB of page data and a gigabyte of browser heap. A wide run's page draws the charts near the "
            "viewport only; before, a run of 5,000 metrics drew 5,000 charts at once and never finished loading.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="steps of the long run (default 200,000)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-run-pages")
    parser.add_argument("--output", type=Path, default=BENCHMARKS_DOC,
                        help="write the results into this Markdown file ('-': print only)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    results = [measure_build(args.work, steps, metrics) for steps, metrics in (BASELINE, (args.steps, 20), WIDE)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        measure_page(browser, results[0]["page"])  # a warm-up: the browser's first page pays its start
        for result in results:
            result.update(measure_page(browser, result["page"]))
        browser.close()
    body = render(results)
    print(body)
    if str(args.output) != "-":
        write_section(HEADING, body, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent.parent)
    sys.exit(main())
