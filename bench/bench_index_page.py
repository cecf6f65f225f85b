"""Index page at scale (issue 17): the index by column against the whole rows it replaced, in Chromium.

    python bench/bench_index_page.py [--rows 20000,100000] [--rounds 5] [--base 9b99469]
                                     [--work DIR] [--screenshots DIR] [--output /tmp/bench_sections/index_page.md]

Two sites of the same two synthetic runs are built, one by the code at ``--base`` (its scripts;
its data/index.js as whole rows, or by column where that code wrote columns) and one by this
checkout; then each gets the same
``--rows`` index rows, in the documented row shape, each its own run (made as bench/synthetic_runs.py
makes runs: a learning rate, seed and metrics of its own, a few values of batch size, dropout,
optimizer and depth), written as each code writes them. For each size, ``--rounds`` rounds
measure the two in turn, each in a fresh Chromium, as bench_site.py ``measure_index`` does: the
index interactive ("tracker:index-ready") next to the floor, a blank page that loads only the same
data/index.js; a search keystroke (``optimizer:adam``) and a sort by a metric answered (the table
changed), and the search drawn (the frame that shows it painted). Beside each wall time, the CPU
time of the page's main thread (Chromium's ThreadTime): on this shared machine the wall time is
mostly the wait for a core. Also the build's side: ``index_files`` of the rows against the old
join, in this process.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_site import BLANK_PAGE, BUILD_ENV, CHROMIUM, SORT_BY_METRIC, build_argv, redraw_ms
from common import REPO_ROOT, markdown_table, median, print_report, run_facts, verdict
from synthetic_runs import START_TIME, write_runs

from sitegen.index_data import MAX_COMPARE_RUNS, index_files, index_of_text
from sitegen.render import data_script_text, script_json
from tracker.rundiff import LOWER_IS_BETTER_WORDS

HEADING = "## The index page at 100,000 runs: the index by column"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/index_page.md")
DEFAULT_BASE = "9b99469"  # the last commit whose data/index.js held whole rows
TARGET_READY_MS = 1000.0
TARGET_SEARCH_MS = 100.0
SCREEN_SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def synthetic_rows(template: dict, count: int) -> list[dict]:
    """``count`` index rows shaped like ``template`` (a built row), each its own run."""
    rows = []
    for number in range(count):
        rng = random.Random(number)
        lr = 10 ** rng.uniform(-4, -1)
        run_id = f"20261129-{number:06d}-{rng.getrandbits(32):08x}"
        created = START_TIME + number * 60.0
        row = dict(template)
        row.update(id=run_id, name=f"sweep-{number}", slug=run_id, url=f"runs/{run_id}/index.html",
                   project=f"project-{number % 4}", created=created, last_seen=created + 100.0,
                   duration_s=100.0, tags=["synthetic", rng.choice(["baseline", "ablation"])],
                   commit=f"{rng.getrandbits(28):07x}",
                   config={"lr": lr, "batch_size": rng.choice([32, 64, 128, 256]),
                           "dropout": round(rng.uniform(0, 0.5), 3), "seed": number,
                           "optimizer": rng.choice(["adam", "sgd"]), "model": {"depth": rng.randint(2, 12)}},
                   summary={"train/loss": rng.random(), "valid/loss": rng.random(), "valid/acc": rng.random(),
                            "lr": lr * rng.random(), "grad_norm": 3 * rng.random()})
        rows.append(row)
    return rows


def whole_rows_text(row_texts: list[str]) -> str:
    """data/index.js as the code before the columns wrote it: the row texts joined."""
    rest = script_json({"unreadable": [], "maxCompareRuns": MAX_COMPARE_RUNS,
                        "lowerIsBetter": list(LOWER_IS_BETTER_WORDS)})
    return data_script_text("index", None, '{"runs":[' + ",".join(row_texts) + "]," + rest[1:])


def writes_columns(site: Path) -> bool:
    """Whether the code that built ``site`` writes data/index.js by column (else as whole rows)."""
    with open(site / "data" / "index.js", encoding="utf-8") as data:
        return 'TrackerData.index={"format":' in data.read(4096)  # whole rows begin {"runs":[


CODE_OF_SITE: dict[Path, Path | None] = {}  # each site's code for columns_text (None: this checkout)
# Run by the code at --base (PYTHONPATH): data/index.js as that code writes the rows read from stdin
ENCODE_AS_BASE = ("import sys; from sitegen.index_data import index_files; "
                  "sys.stdout.write(index_files(sys.stdin.read().split(chr(10)), [])['data/index.js'])")


def columns_text(code: Path | None, row_texts: list[str]) -> str:
    """data/index.js of ``row_texts`` by column, as the code under ``code`` writes it (None: this
    checkout): a base may store a column in a form this checkout does not, and its scripts not
    read this checkout's forms."""
    if code is None:
        return index_files(row_texts, [])["data/index.js"]
    return subprocess.run([sys.executable, "-c", ENCODE_AS_BASE], input="\n".join(row_texts), text=True,
                          env=dict(os.environ, PYTHONPATH=str(code)), cwd=code, capture_output=True, check=True).stdout


def build_sites(work: Path, base: str) -> dict[str, Path]:
    """The two sites of two runs: "before" built by the code at ``base``, "after" by this checkout."""
    runs = work / "runs"
    if not runs.exists():
        write_runs(str(runs), 2, steps=20)
    source = work / f"code-{base}"
    if not source.exists():
        source.mkdir()
        archive = subprocess.run(["git", "archive", base, "tracker", "sitegen", "themes"], cwd=REPO_ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    sites = {"before": work / "site-before", "after": work / "site-after"}
    CODE_OF_SITE.update({sites["before"]: source, sites["after"]: None})
    for name, site in sites.items():
        shutil.rmtree(site, ignore_errors=True)
        env = dict(BUILD_ENV, PYTHONPATH=str(source)) if name == "before" else BUILD_ENV
        subprocess.run(build_argv(runs, site), env=env, cwd=tempfile.gettempdir(), check=True,
                       stdout=subprocess.DEVNULL)
    return sites


def encode_seconds(row_texts: list[str], repeats: int) -> dict:
    """The build's index step: index_files against the old join, medians of ``repeats``."""
    columns, joined = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        index_files(row_texts, [])
        columns.append(time.perf_counter() - start)
        start = time.perf_counter()
        whole_rows_text(row_texts)
        joined.append(time.perf_counter() - start)
    return {"columns_s": median(columns), "join_s": median(joined)}


class ThreadClock:
    """The CPU seconds of a page's main thread so far (Chromium's Performance.getMetrics ThreadTime)."""

    def __init__(self, page):
        self.session = page.context.new_cdp_session(page)
        self.session.send("Performance.enable", {"timeDomain": "threadTicks"})

    def __call__(self) -> float:
        metrics = self.session.send("Performance.getMetrics")["metrics"]
        return next(metric["value"] for metric in metrics if metric["name"] == "ThreadTime")


READY = "performance.getEntriesByName('tracker:index-ready')"
# From the keystroke to the frame that shows the filtered table: a task posted from that frame's
# requestAnimationFrame callback runs after the frame's layout and paint.
SEARCH_DRAWN_MS = """() => new Promise((resolve) => {
    const table = document.getElementById('runs-table');
    const start = performance.now();
    const observer = new MutationObserver(() => {
        observer.disconnect();
        requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => resolve(performance.now() - start);
            channel.port2.postMessage(null);
        });
    });
    observer.observe(table, {childList: true, subtree: true});
    const input = document.getElementById('run-filter');
    input.value = 'optimizer:sgd'; input.dispatchEvent(new Event('input'));
})"""
SEARCH = ("const input = document.getElementById('run-filter');"
          "input.value = 'optimizer:adam'; input.dispatchEvent(new Event('input'));")


def measure_index(site: Path) -> dict:
    """One round on one site, in a fresh Chromium: the blank page, then the index, its search and sort."""
    from playwright.sync_api import sync_playwright

    blank = site / "bench-blank.html"
    blank.write_text(BLANK_PAGE, encoding="utf-8")
    found = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, url in (("blank", blank.as_uri()), ("ready", (site / "index.html").as_uri())):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                clock = ThreadClock(page)
                page.goto(url)
                page.wait_for_function(f"{READY}.length > 0", timeout=120_000)
                found[f"{name}_ms"] = page.evaluate(f"{READY}[0].startTime")
                found[f"{name}_cpu_ms"] = clock() * 1000
            for name, action in (("search", SEARCH), ("sort", SORT_BY_METRIC)):
                before = clock()
                found[f"{name}_ms"] = redraw_ms(page, action)
                found[f"{name}_cpu_ms"] = (clock() - before) * 1000
            before = clock()
            found["drawn_ms"] = page.evaluate(SEARCH_DRAWN_MS)
            found["drawn_cpu_ms"] = (clock() - before) * 1000
            browser.close()
    finally:
        blank.unlink()
    return found


MEASURES = ("ready_ms", "blank_ms", "search_ms", "sort_ms", "drawn_ms", "ready_cpu_ms", "blank_cpu_ms", "search_cpu_ms",
            "sort_cpu_ms", "drawn_cpu_ms")


def measure_size(sites: dict[str, Path], count: int, rounds: int) -> dict:
    template = index_of_text((sites["after"] / "data" / "index.js").read_text(encoding="utf-8"))["runs"][0]
    row_texts = [script_json(row) for row in synthetic_rows(template, count)]
    texts = {name: columns_text(CODE_OF_SITE[site], row_texts) if writes_columns(site) else whole_rows_text(row_texts)
             for name, site in sites.items()}
    for name, site in sites.items():
        (site / "data" / "index.js").write_text(texts[name], encoding="utf-8")
    samples = {name: [] for name in sites}
    for _ in range(rounds):
        for name, site in sites.items():
            samples[name].append(measure_index(site))
    result = {"rows": count, **encode_seconds(row_texts, 3)}
    for name in sites:
        taken = samples[name]
        result[name] = {"bytes": len(texts[name].encode("utf-8")),
                        **{key: median(sample[key] for sample in taken) for key in MEASURES},
                        "ratio": median(sample["ready_ms"] / sample["blank_ms"] for sample in taken),
                        "cpu_ratio": median(sample["ready_cpu_ms"] / sample["blank_cpu_ms"] for sample in taken)}
    return result


def screenshots(site: Path, folder: Path) -> list[Path]:
    """The index page at desktop and phone width, light and dark."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for size, (width, height) in SCREEN_SIZES.items():
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
                page.goto((site / "index.html").as_uri())
                page.wait_for_function("performance.getEntriesByName('tracker:index-ready').length > 0",
                                       timeout=60_000)
                path = folder / f"index-{size}-{scheme}.png"
                page.screenshot(path=str(path))
                taken.append(path)
                page.close()
        browser.close()
    return taken


def render_report(facts: dict, results: list[dict], rounds: int) -> str:
    rows = []
    for result in results:
        for name in ("before", "after"):
            found = result[name]
            rows.append([f"{result['rows']:,}", name, f"{found['bytes'] / 1e6:.1f} MB",
                         f"{found['bytes'] / result['rows']:.0f}",
                         f"{found['blank_ms']:.0f} ms ({found['blank_cpu_ms']:.0f})",
                         f"{found['ready_ms']:.0f} ms ({found['ready_cpu_ms']:.0f})",
                         f"{found['ratio']:.2f}x ({found['cpu_ratio']:.2f}x)",
                         f"{found['search_ms']:.0f} ms ({found['search_cpu_ms']:.0f})",
                         f"{found['sort_ms']:.0f} ms ({found['sort_cpu_ms']:.0f})",
                         f"{found['drawn_ms']:.0f} ms ({found['drawn_cpu_ms']:.0f})",
                         verdict(found["ready_ms"] <= TARGET_READY_MS and found["search_ms"] <= TARGET_SEARCH_MS)])
    table = markdown_table(["rows", "code", "data/index.js", "bytes a row", "blank page (floor)", "interactive",
                            "interactive / floor", "search answered", "sort answered", "search drawn",
                            f"wall <= {TARGET_READY_MS:.0f} ms and <= {TARGET_SEARCH_MS:.0f} ms"], rows)
    encode = markdown_table(["rows", "index_files (columns)", "the old join"],
                            [[f"{result['rows']:,}", f"{result['columns_s']:.2f} s", f"{result['join_s']:.3f} s"]
                             for result in results])
    return "\n\n".join([
        HEADING,
        f"`{facts['command']}` on {facts['date']} at {facts['revision']}; {facts['machine']}; one-minute load "
        f"average {facts['load_before']} before and {facts['load_after']} after.",
        table,
        f"- Medians of {rounds} rounds, before and after in turn, each a fresh Chromium (headless, from file://); "
        f"\"before\" is the code at {facts['base']} with data/index.js as that code writes it, \"after\" this checkout. "
        "The floor loads only the same data/index.js. Search: `optimizer:adam` typed right after the ready mark, "
        "until the table changes (a pause or timer after a keystroke included); sort: a metric column's header "
        "clicked; search drawn: `optimizer:sgd` typed, until the frame that shows it is painted. Wall times, and in "
        "brackets the CPU milliseconds of the page's main thread (ThreadTime) over the same span: the main "
        "thread's share of the work, which the load of this shared machine does not stretch.",
        "The build's side, the index's data file from the rows' texts (in-process, median of 3):",
        encode,
    ]) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000,100000", help="comma-separated index sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", default=DEFAULT_BASE, help="the commit whose code is 'before'")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-index-page")
    parser.add_argument("--screenshots", type=Path, help="folder for screenshots of the largest index (before/, after/)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    args.work.mkdir(parents=True, exist_ok=True)
    sites = build_sites(args.work, args.base)
    results = []
    for count in (int(size) for size in args.rows.split(",")):
        print(f"{count} rows ...", file=sys.stderr, flush=True)
        results.append(measure_size(sites, count, args.rounds))
        print(results[-1], file=sys.stderr, flush=True)
    if args.screenshots:  # the largest index, as each code shows it: to look at side by side
        for name, site in sites.items():
            for path in screenshots(site, args.screenshots / name):
                print(f"screenshot: {path}", file=sys.stderr)
    facts = run_facts("python bench/bench_index_page.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                      load_before)
    facts["base"] = args.base
    print_report(render_report(facts, results, args.rounds), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
