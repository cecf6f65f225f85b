"""Site build with media: runs each with 20 images, a confusion matrix and a 1,000-row table.

    python bench/bench_site_media.py [--runs 1000] [--work DIR] [--output /tmp/bench_sections/site-media.md]

Each run is logged through the real client (tracker.init, run.log with tracker.Image, a
confusion matrix and a table through the run's methods), in worker processes: 20 steps of a loss,
an image per step (64x64 RGB, different in every run and step, so nothing is shared by content),
and at the last step a 10-class confusion matrix of 1,000 predictions and a table of those 1,000
predictions (id, label, prediction, confidence). ``tracker build --full`` then builds them in a
fresh process (wall and CPU time of its process tree), and the site is counted in bytes by part:
media files, media data files, the rest. The media the build keeps are checked against the site's
media budget (sitegen/media_plan.py: each run's share is min(the per-run cap, the site budget /
runs)), and what it left out is counted from the media data files. A second build of the same
runs gives the site a tenth of the media budget: each run's share is then what a site of ten times
as many runs gives it (50 KB at 10,000 runs), and what is left out shows what such a site drops.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from bench_cold_read import timed_build
from bench_site import BUILD_ENV, build_argv
from common import REPO_ROOT, markdown_table, print_report, run_facts, run_sampling_tree
from sitegen.media_plan import DEFAULT_RUN_MEDIA_BUDGET_MB, DEFAULT_SITE_MEDIA_BUDGET_MB, MB, run_media_budget_bytes

IMAGES, IMAGE_SIDE, TABLE_ROWS, CLASSES = 20, 64, 1000, 10


def log_media_run(root: str, index: int) -> None:
    """One run of the benchmark, logged through the client."""
    import tracker

    rng = np.random.default_rng(index)
    run = tracker.init(project="media", name=f"media-{index}", config={"seed": index}, dir=root, capture=False)
    for step in range(IMAGES):
        pixels = rng.integers(0, 256, (IMAGE_SIDE, IMAGE_SIDE, 3), dtype=np.uint8)
        run.log({"loss": 1.0 / (step + 1), "val/samples": tracker.Image(pixels, caption=f"step {step}")}, step=step)
    truth = rng.integers(0, CLASSES, TABLE_ROWS)
    predicted = np.where(rng.random(TABLE_ROWS) < 0.8, truth, rng.integers(0, CLASSES, TABLE_ROWS))
    run.log_confusion_matrix("val/confusion", truth, predicted, step=IMAGES - 1)
    rows = [[row, int(truth[row]), int(predicted[row]), round(float(rng.random()), 4)] for row in range(TABLE_ROWS)]
    run.log_table("val/predictions", rows=rows, columns=["id", "label", "prediction", "confidence"], step=IMAGES - 1)
    run.finish()


def _log_batch(root: str, indices: range) -> None:
    for index in indices:
        log_media_run(root, index)


def media_runs(work: Path, count: int) -> Path:
    """The runs folder for ``count`` media runs, logged once and reused."""
    folder = work / f"media-runs-{count}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        workers = os.cpu_count() or 1
        batch = max(1, -(-count // (workers * 4)))
        with ProcessPoolExecutor(workers) as pool:
            for future in [pool.submit(_log_batch, str(folder), range(start, min(count, start + batch)))
                           for start in range(0, count, batch)]:
                future.result()
        marker.write_text("written by bench/bench_site_media.py\n")
    return folder


def folder_bytes(path: Path) -> int:
    return sum(os.path.getsize(os.path.join(parent, name)) for parent, _, names in os.walk(path) for name in names)


def left_out(out: Path) -> tuple[int, int]:
    """(items, bytes) the build left out, summed over the runs' media data files."""
    items = size = 0
    for path in (out / "data" / "media").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text[text.index("]=") + 2:].rstrip().removesuffix(";"))
        items += data["leftOut"]["items"]
        size += data["leftOut"]["bytes"]
    return items, size


def measure(work: Path, count: int, budget_share: float = 1.0) -> dict:
    """One full build of ``count`` media runs with ``budget_share`` of the default site media budget."""
    runs = media_runs(work, count)
    out = work / f"site-media-{count}-{budget_share:g}"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(BUILD_ENV, PYTHONPATH=str(REPO_ROOT))
    if budget_share == 1.0:
        wall, cpu = timed_build(runs, out, env)
    else:  # wall time only: the CPU is the first build's to report
        argv = build_argv(runs, out) + ["--full", "--media-budget-mb", str(DEFAULT_SITE_MEDIA_BUDGET_MB * budget_share)]
        wall, cpu = run_sampling_tree(argv, lambda tree: None, 1.0, env=env, cwd=REPO_ROOT), None
    run_media = sum(folder_bytes(folder / "media") for folder in runs.iterdir() if (folder / "media").is_dir())
    items, dropped = left_out(out)
    return {"runs": count, "build_s": wall, "build_cpu_s": cpu, "site_bytes": folder_bytes(out),
            "media_bytes": folder_bytes(out / "media"), "media_data_bytes": folder_bytes(out / "data" / "media"),
            "run_media_bytes": run_media, "left_out_items": items, "left_out_bytes": dropped,
            "run_budget_bytes": run_media_budget_bytes(count, DEFAULT_SITE_MEDIA_BUDGET_MB * budget_share),
            "site_budget_bytes": DEFAULT_SITE_MEDIA_BUDGET_MB * budget_share * MB}


def render_report(results: dict) -> str:
    builds = results["builds"]
    count = builds[0]["runs"]

    def column(name: str, cell) -> list:
        return [name] + [cell(build) for build in builds]

    rows = [column("the site's media budget, MB", lambda b: f"{b['site_budget_bytes'] / MB:,.0f}"),
            column("each run's share (min of the per-run cap and the site budget / runs), MB",
                   lambda b: f"{b['run_budget_bytes'] / MB:,.2f}"),
            column("build (`tracker build --full`), wall s", lambda b: f"{b['build_s']:.1f}"),
            column("build, CPU s of the process tree", lambda b: f"{b['build_cpu_s']:.1f}" if b["build_cpu_s"] else ""),
            column("media the runs logged, MB", lambda b: f"{b['run_media_bytes'] / MB:,.1f}"),
            column("media files in the site, MB", lambda b: f"{b['media_bytes'] / MB:,.1f}"),
            column("media data files (data/media/), MB", lambda b: f"{b['media_data_bytes'] / MB:,.1f}"),
            column("the budget used", lambda b: f"{(b['media_bytes'] + b['media_data_bytes']) / b['site_budget_bytes']:.0%}"),
            column("items left out (over the budget)",
                   lambda b: f"{b['left_out_items']:,} ({b['left_out_bytes'] / MB:,.1f} MB)"),
            column("whole site, MB", lambda b: f"{b['site_bytes'] / MB:,.1f}")]
    return (f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
            f"{results['machine']}; load average {results['load_before']} before, {results['load_after']} after.\n\n"
            f"{count:,} runs logged through the client (bench/bench_site_media.py): each {IMAGES} images "
            f"({IMAGE_SIDE}x{IMAGE_SIDE} RGB noise, a different one per run and step, so none is shared by content), "
            f"a {CLASSES}-class confusion matrix and a {TABLE_ROWS:,}-row table at the last step, and {IMAGES} steps "
            f"of a loss; the per-run cap is the default {DEFAULT_RUN_MEDIA_BUDGET_MB:.0f} MB. The second build "
            "gives the site a tenth of the default media budget, so each run gets the share a site of ten times "
            "as many runs gives it.\n\n"
            + markdown_table(["Measure", "default budget", "a tenth of it"], rows) + "\n")


HEADING = "## Site build with media"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs logged and built (default 1000)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-site-media")
    parser.add_argument("--output", type=Path, help="write the Markdown section here too")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    builds = [measure(args.work, args.runs), measure(args.work, args.runs, 0.1)]
    print(json.dumps(builds), file=sys.stderr, flush=True)
    command = "python bench/bench_site_media.py" + (f" --runs {args.runs}" if args.runs != 1000 else "")
    results = {**run_facts(command, load_before), "builds": builds}
    report = HEADING + "\n\n" + render_report(results)
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
