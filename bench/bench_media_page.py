"""Opening a run page of many media keys: panels drawn as they come into view, against every panel drawn at once.

    python bench/bench_media_page.py [--keys 40] [--histogram-steps 500] [--repeats 3] [--before REV]
                                     [--work DIR] [--output /tmp/bench_sections/media-page.md]

One run is logged through the client with --keys media keys, in groups of eight: two image keys
(20 steps of a 32x32 image), two tables (300 rows, 3 steps), one histogram (--histogram-steps
steps, each a script of its own in the site), two texts (20 steps) and a confusion matrix (20
steps). It is built once; a copy of the site gets the run page's media scripts (media-panels.js,
run-media.js) of --before (by default the revision before panels were drawn lazily), so both
sites differ in those two files only. Each page is opened in headless Chromium from file://, at
the top and at its media section (#media), interleaved with two floors: a blank page, and a blank
page loading the site's plotly.js (which every run page loads, charts or not), a fresh browser
context each time, and timed until it settles: the load event fired, every media script the page
inserted has loaded, and no panel on screen waits to be drawn. Reported: the median time to
settle, its ratio to the floors', the main thread's busy time (Chrome's TaskDuration), and the
media scripts loaded by then.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench_site import BUILD_ENV, CHROMIUM, build_argv
from common import REPO_ROOT, markdown_table, median, print_report, run_facts

HEADING = "## Run page with many media keys"
JS_FILES = ("media-panels.js", "run-media.js")
VIEWPORT = {"width": 1280, "height": 900}
BLANK_PAGE = "<!doctype html><meta charset=utf-8><title>blank</title><p>blank</p>{scripts}"
# Counts the media data scripts (media/<aa>/<sha256>.js) that finished loading, whichever code inserted them.
COUNT_LOADS = """window.__mediaLoaded = 0;
document.addEventListener('load', (event) => {
  if (event.target.tagName === 'SCRIPT' && /\\/media\\/[0-9a-f]{2}\\/[0-9a-f]{64}\\.js$/.test(event.target.src)) window.__mediaLoaded += 1;
}, true);
document.addEventListener('error', (event) => {
  if (event.target.tagName === 'SCRIPT') window.__mediaLoaded += 1;
}, true);"""
SETTLED = """() => {
  if (document.readyState !== 'complete') return false;
  const inserted = [...document.scripts].filter((script) => /\\/media\\/[0-9a-f]{2}\\/[0-9a-f]{64}\\.js$/.test(script.src)).length;
  if (inserted !== window.__mediaLoaded) return false;
  const waiting = [...document.querySelectorAll('.media-panel-body[aria-busy]')].some((body) => {
    const box = body.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  });
  if (waiting) return false;
  window.__settledMs = window.__settledMs || performance.now();
  return {settled_ms: window.__settledMs, scripts: inserted};
}"""


def log_run(root: Path, keys: int, histogram_steps: int) -> None:
    """The benchmark's run, logged through the client."""
    import tracker

    rng = np.random.default_rng(0)
    run = tracker.init(project="media", name="many-keys", dir=str(root), capture=False)
    for group in range(0, keys, 8):
        names = [f"g{group // 8}/{kind}" for kind in ("image-a", "image-b", "table-a", "table-b", "histogram",
                                                      "text-a", "text-b", "confusion")][:keys - group]
        for step in range(20):
            for name in names:
                if "image" in name:
                    run.log({name: tracker.Image(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))}, step=step)
                elif "text" in name:
                    run.log_text(name, f"{name} at step {step}: " + "words " * 40, step=step)
                elif "confusion" in name:
                    truth = rng.integers(0, 10, 500)
                    run.log_confusion_matrix(name, truth, np.where(rng.random(500) < 0.8, truth, 0), step=step)
                elif "table" in name and step < 3:
                    rows = [[row, f"item {row}", round(float(rng.random()), 4)] for row in range(300)]
                    run.log_table(name, rows=rows, columns=["id", "name", "score"], step=step)
        if len(names) > 4:
            for step in range(histogram_steps):
                run.log_histogram(names[4], values=rng.normal(step / histogram_steps, 1, 200), bins=32, step=step)
    run.finish()


def build_sites(work: Path, keys: int, histogram_steps: int, before: str) -> dict:
    """The run, its site, and a copy of the site with --before's media scripts."""
    runs = work / f"runs-{keys}-{histogram_steps}"
    if not (runs / ".complete").exists():
        shutil.rmtree(runs, ignore_errors=True)
        runs.mkdir(parents=True)
        log_run(runs, keys, histogram_steps)
        (runs / ".complete").write_text("written by bench/bench_media_page.py\n")
    after = work / "site-after"
    shutil.rmtree(after, ignore_errors=True)
    argv = build_argv(runs, after) + ["--full", "--run-media-budget-mb", "100"]
    subprocess.run(argv, check=True, env=dict(BUILD_ENV, PYTHONPATH=str(REPO_ROOT)), cwd=REPO_ROOT,
                   stdout=subprocess.DEVNULL)
    before_site = work / "site-before"
    shutil.rmtree(before_site, ignore_errors=True)
    shutil.copytree(after, before_site)
    for name in JS_FILES:
        text = subprocess.run(["git", "show", f"{before}:themes/default/static/js/{name}"], check=True,
                              capture_output=True, text=True, cwd=REPO_ROOT).stdout
        (before_site / "assets" / "js" / name).write_text(text, encoding="utf-8")
    page = next((after / "runs").glob("*/index.html")).relative_to(after).as_posix()
    blank = after / "blank.html"
    blank.write_text(BLANK_PAGE.format(scripts=""), encoding="utf-8")
    plotly = after / "blank-plotly.html"
    vendored = next((after / "assets" / "vendor").glob("plotly-*.js")).relative_to(after).as_posix()
    plotly.write_text(BLANK_PAGE.format(scripts=f"<script src={vendored}></script>"), encoding="utf-8")
    return {"before": (before_site / page).as_uri(), "after": (after / page).as_uri(), "blank": blank.as_uri(),
            "plotly": plotly.as_uri()}


def measure_page(browser, url: str) -> dict:
    """Time to settle, main-thread busy time and media scripts loaded, in a fresh context."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(COUNT_LOADS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    if "/blank" in url:
        page.wait_for_load_state("load")
        result = {"settled_ms": page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"), "scripts": 0}
    else:
        result = page.wait_for_function(SETTLED, polling="raf", timeout=300_000).json_value()
    metrics = {metric["name"]: metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]}
    context.close()
    return {**result, "busy_ms": metrics["TaskDuration"] * 1000}


def measure(urls: dict, repeats: int) -> dict:
    """Each page at the top and at #media, interleaved with the blank page, ``repeats`` times."""
    from playwright.sync_api import sync_playwright

    samples = {name: [] for name in ("blank", "plotly", "before", "after", "before#media", "after#media")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(repeats):
            for name in samples:
                base, _, anchor = name.partition("#")
                samples[name].append(measure_page(browser, urls[base] + (f"#{anchor}" if anchor else "")))
        browser.close()
    return {name: {field: median(sample[field] for sample in runs) for field in ("settled_ms", "busy_ms", "scripts")}
            for name, runs in samples.items()}


def default_before() -> str:
    """The revision before media panels were drawn as they come into view."""
    first = subprocess.run(["git", "log", "--format=%H", "-S", "whenNear", "--", "themes/default/static/js/media-panels.js"],
                           check=True, capture_output=True, text=True, cwd=REPO_ROOT).stdout.split()[-1]
    return f"{first}^"


def render_report(results: dict, args) -> str:
    pages = results["pages"]
    floor, plotly = pages["blank"]["settled_ms"], pages["plotly"]["settled_ms"]
    rows = [["a blank page (floor)", f"{floor:,.0f}", "1.0x", f"{pages['blank']['busy_ms']:,.0f}", "", "0"],
            ["a blank page loading plotly.js (floor)", f"{plotly:,.0f}", f"{plotly / floor:,.1f}x",
             f"{pages['plotly']['busy_ms']:,.0f}", "1.0x", "0"]]
    for opened, suffix in (("at the top", ""), ("at its media section (#media)", "#media")):
        before, after = pages["before" + suffix], pages["after" + suffix]
        for label, page in (("every panel drawn at once (before)", before), ("panels drawn when near (after)", after)):
            rows.append([f"{label}, opened {opened}", f"{page['settled_ms']:,.0f}", f"{page['settled_ms'] / floor:,.1f}x",
                         f"{page['busy_ms']:,.0f}", f"{page['settled_ms'] / plotly:,.1f}x", f"{page['scripts']:,.0f}"])
        rows.append([f"after / before, opened {opened}", f"{after['settled_ms'] / before['settled_ms']:.2f}", "",
                     f"{after['busy_ms'] / before['busy_ms']:.2f}", "", ""])
    return (f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
            f"{results['machine']}; load average {results['load_before']} before, {results['load_after']} after.\n\n"
            f"One run of {args.keys} media keys (bench/bench_media_page.py): in groups of eight, two image keys of 20 "
            f"steps, two 300-row tables of 3 steps, a histogram of {args.histogram_steps:,} steps, two texts and a "
            "confusion matrix of 20 steps. Its run page from file:// in headless Chromium, "
            f"{VIEWPORT['width']}x{VIEWPORT['height']}, with the media scripts of {results['before']} (before) and of "
            f"this commit (after); medians of {args.repeats}, interleaved with the floors (a blank page, and one "
            "loading the plotly.js every run page loads), each in a fresh browser context. Settled: the load event "
            "fired, every media script inserted has loaded, no panel on screen waits to be drawn.\n\n"
            + markdown_table(["Page", "settled, ms", "x the blank page", "main thread busy, ms",
                              "x the plotly page", "media scripts loaded"], rows) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40, help="media keys of the run (default 40)")
    parser.add_argument("--histogram-steps", type=int, default=500, help="steps of each histogram key (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="openings of each page, medians kept (default 3)")
    parser.add_argument("--before", help="the revision whose media scripts are 'before' (default: before lazy panels)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-media-page")
    parser.add_argument("--output", type=Path, help="write the Markdown section here too")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    before = args.before or default_before()
    urls = build_sites(args.work, args.keys, args.histogram_steps, before)
    pages = measure(urls, args.repeats)
    print(json.dumps(pages), file=sys.stderr, flush=True)
    command = "python bench/bench_media_page.py" + "".join(
        f" --{name.replace('_', '-')} {value}" for name, value in (("keys", args.keys), ("histogram_steps", args.histogram_steps),
                                                                   ("repeats", args.repeats))
        if value != parser.get_default(name))
    results = {**run_facts(command, load_before), "pages": pages,
               "before": subprocess.run(["git", "rev-parse", "--short", before], check=True, capture_output=True,
                                        text=True, cwd=REPO_ROOT).stdout.strip()}
    print_report(HEADING + "\n\n" + render_report(results, args), args.output)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
