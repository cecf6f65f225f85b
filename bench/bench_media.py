"""Media logging benchmark: what logging an image costs the training loop, and what media cost plain log() calls.

    python bench/bench_media.py [--quick] [--output /tmp/bench_sections/media_bench.md]

Prints a Markdown report and writes it to ``--output`` (a section for docs/benchmarks.md). It measures:

1. **An image every step.** A 256x256x3 uint8 image, different at each step, logged with
   ``run.log({"loss": x, "sample": tracker.Image(pixels)})``, against the same loop writing the
   same image as a PNG file by hand with Pillow (``PIL.Image.fromarray(pixels).save(path)``).
   The number is the time the call takes in the loop (the object's copy, the queueing, and any
   wait for the writer), per call, mean and median, as a ratio to Pillow's. Two loops: one with a
   simulated training step of STEP_WORK_S between calls (a sleep, which releases the GIL as a loop
   waiting on its GPU does), the case the target is for, and a tight loop with no work, where
   the writer's encoding is the bottleneck and log() runs at its pace (the backpressure that bounds
   what a SIGKILL loses and the memory media hold).
2. **Plain numbers beside media.** ``run.log({"loss": x})`` in blocks of 1,000 calls with a
   256x256x3 image logged between blocks (``run.log_image``, not timed) and a training step of
   STEP_WORK_S (not timed, in every variant), per plain call, against the JSON-lines baseline of
   bench_logger.py (the same blocks, one open file) and against the same blocks of ours with no
   media in the run; in the loop alone, and with ``finish()`` spread over the calls.

Repeats are interleaved and each ratio is the median of the paired ratios, as in bench_logger.py.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

import tracker
from common import git_revision, machine_description, markdown_table, median, today

DEFAULT_OUTPUT = Path("/tmp/bench_sections/media_bench.md")
HEADING = "## Media logging"
IMAGE_SHAPE = (256, 256, 3)
STEP_WORK_S = 0.02  # a small model's training step; the writer encodes a 256x256 PNG in a few ms
IMAGE_TARGET = 0.2  # the loop's cost per image call, as a fraction of Pillow's PNG write in the loop
PLAIN_TARGET = 1.2  # plain log() in a run with media, over the JSON-lines baseline


@dataclass(frozen=True)
class Settings:
    image_steps: int   # images logged per loop with a training step
    tight_steps: int   # images logged per tight loop
    blocks: int        # blocks of plain calls (one image after each)
    block_calls: int   # plain calls per block
    repeats: int


FULL = Settings(image_steps=300, tight_steps=200, blocks=100, block_calls=1_000, repeats=5)
QUICK = Settings(image_steps=100, tight_steps=60, blocks=40, block_calls=1_000, repeats=3)


def base_image() -> np.ndarray:
    """A photo-like image: smooth gradients with a little noise (a PNG of noise alone would not compress)."""
    rows, columns = np.indices(IMAGE_SHAPE[:2])
    rng = np.random.default_rng(0)
    channels = [(rows + columns) / 2, rows, 255 - columns]
    image = np.stack(channels, axis=-1) + rng.integers(0, 24, IMAGE_SHAPE)
    return np.clip(image, 0, 255).astype(np.uint8)


BASE = base_image()


def image_at(step: int) -> np.ndarray:
    """A different image at each step (no two alike for 65,536 steps), so no file is deduplicated."""
    return np.roll(BASE, (step // 256, step % 256), axis=(0, 1))


# -- 1. an image every step -----------------------------------------------------------------------

def pillow_loop(folder: str, steps: int, work_s: float) -> list[float]:
    """Per-call seconds of writing each step's PNG by hand with Pillow."""
    costs = []
    for step in range(steps):
        if work_s:
            time.sleep(work_s)
        pixels = image_at(step)
        start = time.perf_counter()
        PILImage.fromarray(pixels).save(os.path.join(folder, f"sample-{step}.png"))
        costs.append(time.perf_counter() - start)
    return costs


def tracker_loop(folder: str, steps: int, work_s: float) -> tuple[list[float], float]:
    """Per-call seconds of ``run.log`` with the step's image, and the seconds ``finish()`` took."""
    run = tracker.init(project="bench", name="media", dir=folder, capture=False)
    costs = []
    for step in range(steps):
        if work_s:
            time.sleep(work_s)
        pixels = image_at(step)
        start = time.perf_counter()
        run.log({"loss": 1.0 / (step + 1), "sample": tracker.Image(pixels)}, step=step)
        costs.append(time.perf_counter() - start)
    start = time.perf_counter()
    run.finish()
    finish_s = time.perf_counter() - start
    _check_stored(run.path, steps)
    return costs, finish_s


PROBLEMS: list[str] = []


def _check_stored(run_path: str, images: int) -> None:
    """A fast result from media never stored is no result: note any loss."""
    with open(os.path.join(run_path, "events.jsonl"), encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if '"type":"media"' in line]
    files = {record["file"] for record in records}
    missing = [name for name in files if not os.path.exists(os.path.join(run_path, name))]
    if len(records) != images or missing:
        PROBLEMS.append(f"{images - len(records)} of {images} images have no record, {len(missing)} records no file")
        print(f"  {PROBLEMS[-1]} ({run_path})", file=sys.stderr)


def measure_images(steps: int, work_s: float, repeats: int) -> dict:
    """Per-call means (and medians) in the loop, and ours with ``finish()`` spread over the calls."""
    pillow, ours, with_finish, finishes, pillow_medians, ours_medians = [], [], [], [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-media-") as folder:
            base = pillow_loop(folder, steps, work_s)
        with tempfile.TemporaryDirectory(prefix="bench-media-", ignore_cleanup_errors=True) as folder:
            costs, finish_s = tracker_loop(folder, steps, work_s)
        pillow.append(statistics.fmean(base))
        ours.append(statistics.fmean(costs))
        with_finish.append((sum(costs) + finish_s) / steps)
        finishes.append(finish_s)
        pillow_medians.append(median(base))
        ours_medians.append(median(costs))
    return {"steps": steps, "work_s": work_s, "pillow_s": median(pillow), "ours_s": median(ours),
            "ratio": median(o / p for o, p in zip(ours, pillow)), "with_finish_s": median(with_finish),
            "with_finish_ratio": median(o / p for o, p in zip(with_finish, pillow)), "finish_s": median(finishes),
            "pillow_median_s": median(pillow_medians), "ours_median_s": median(ours_medians)}


# -- 2. plain numbers beside media ------------------------------------------------------------------

def baseline_blocks(folder: str, settings: Settings) -> float:
    """Seconds per plain JSON-lines write (bench_logger.py's baseline), in the same blocks."""
    values = {"loss": 0.31}
    spent = 0.0
    with open(os.path.join(folder, "baseline.jsonl"), "w", encoding="utf-8") as handle:
        for block in range(settings.blocks):
            start = time.perf_counter()
            for step in range(block * settings.block_calls, (block + 1) * settings.block_calls):
                handle.write(json.dumps({"step": step, "time": time.time(), "values": values}) + "\n")
            spent += time.perf_counter() - start
            time.sleep(STEP_WORK_S)  # as in ours_blocks
    return spent / (settings.blocks * settings.block_calls)


def ours_blocks(folder: str, settings: Settings, with_media: bool) -> tuple[float, float]:
    """Seconds per plain ``run.log`` call, in blocks with an image logged between them (or none), and
    the seconds ``finish()`` took, per plain call."""
    run = tracker.init(project="bench", name="plain-beside-media", dir=folder, capture=False)
    values = {"loss": 0.31}
    spent = 0.0
    for block in range(settings.blocks):
        start = time.perf_counter()
        for step in range(block * settings.block_calls, (block + 1) * settings.block_calls):
            run.log(values, step=step)
        spent += time.perf_counter() - start
        if with_media:
            run.log_image("sample", image_at(block))
        time.sleep(STEP_WORK_S)  # a training step between blocks: the writer encodes the image meanwhile
    start = time.perf_counter()
    run.finish()
    finish_s = time.perf_counter() - start
    if with_media:
        _check_stored(run.path, settings.blocks)
    calls = settings.blocks * settings.block_calls
    return spent / calls, finish_s / calls


def measure_plain(settings: Settings) -> dict:
    """Per plain call: the baseline, ours with media in the run and without, each in the loop alone
    and with its ``finish()`` spread over the calls (as bench_logger.py counts it)."""
    runs = {"baseline": [], "media": [], "plain": []}
    for _ in range(settings.repeats):
        for label in runs:
            with tempfile.TemporaryDirectory(prefix="bench-media-", ignore_cleanup_errors=True) as folder:
                if label == "baseline":
                    loop_s = baseline_blocks(folder, settings)
                    finish_s = 0.0  # its close is inside the timing
                else:
                    loop_s, finish_s = ours_blocks(folder, settings, with_media=label == "media")
            runs[label].append((loop_s, loop_s + finish_s))
    result = {"calls": settings.blocks * settings.block_calls, "images": settings.blocks}
    for label, samples in runs.items():
        result[f"{label}_s"] = median(loop for loop, _ in samples)
        result[f"{label}_total_s"] = median(total for _, total in samples)
    for label in ("media", "plain"):
        result[f"{label}_ratio"] = median(o[0] / b[0] for o, b in zip(runs[label], runs["baseline"]))
        result[f"{label}_total_ratio"] = median(o[1] / b[1] for o, b in zip(runs[label], runs["baseline"]))
    result["media_over_plain"] = median(m[1] / p[1] for m, p in zip(runs["media"], runs["plain"]))
    return result


# -- the report ---------------------------------------------------------------------------------------

def png_sizes() -> tuple[int, int]:
    ours = tracker.Image(image_at(0)).encode().data
    buffer = io.BytesIO()
    PILImage.fromarray(image_at(0)).save(buffer, format="PNG")
    return len(ours), len(buffer.getvalue())


def render(settings: Settings, command: str, worked: dict, tight: dict, plain: dict) -> str:
    us = 1e6
    ours_png, pillow_png = png_sizes()
    verdict = lambda ratio, target: "yes" if ratio <= target else "no"  # noqa: E731
    summary = markdown_table(["measure", "result", "target", "met"], [
        [f"an image per step, {STEP_WORK_S * 1000:.0f} ms training step: the loop's cost per `run.log` with "
         "the image over Pillow's PNG write in the loop",
         f"{worked['ratio']:.3f}x ({worked['ours_s'] * us:,.0f} vs {worked['pillow_s'] * us:,.0f} µs)",
         f"≤ {IMAGE_TARGET}x", verdict(worked["ratio"], IMAGE_TARGET)],
        ["plain `run.log()` with media in the run, over the JSON-lines baseline (finish() included)",
         f"{plain['media_total_ratio']:.2f}x ({plain['media_total_s'] * us:.2f} "
         f"vs {plain['baseline_total_s'] * us:.2f} µs)",
         f"≤ {PLAIN_TARGET}x", verdict(plain["media_total_ratio"], PLAIN_TARGET)],
    ])
    rows = []
    for label, result in ((f"{STEP_WORK_S * 1000:.0f} ms of training per step", worked), ("tight (no work)", tight)):
        rows.append([label, result["steps"], f"{result['pillow_s'] * us:,.0f} ({result['pillow_median_s'] * us:,.0f})",
                     f"{result['ours_s'] * us:,.0f} ({result['ours_median_s'] * us:,.0f})", f"{result['ratio']:.3f}x",
                     f"{result['finish_s'] * 1000:,.0f} ms", f"{result['with_finish_s'] * us:,.0f}",
                     f"{result['with_finish_ratio']:.2f}x"])
    images = markdown_table(["loop", "images", "Pillow, µs/call: mean (median)",
                             "`run.log` with the image, µs/call: mean (median)", "ratio of means", "finish()",
                             "ours with finish(), µs/call", "ratio"], rows)
    plain_table = markdown_table(["run", "µs per plain call, loop", "ratio", "with finish()", "ratio"], [
        ["JSON-lines baseline", f"{plain['baseline_s'] * us:.2f}", "1.00x", f"{plain['baseline_total_s'] * us:.2f}",
         "1.00x"],
        ["ours, no media", f"{plain['plain_s'] * us:.2f}", f"{plain['plain_ratio']:.2f}x",
         f"{plain['plain_total_s'] * us:.2f}", f"{plain['plain_total_ratio']:.2f}x"],
        [f"ours, an image after every {settings.block_calls:,} calls", f"{plain['media_s'] * us:.2f}",
         f"{plain['media_ratio']:.2f}x", f"{plain['media_total_s'] * us:.2f}", f"{plain['media_total_ratio']:.2f}x"],
    ])
    problems = "".join(f"\n**Problem:** {problem}\n" for problem in PROBLEMS)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"""{HEADING}
{problems}
Measured on {today()} at commit {git_revision("tracker", "bench")} with `{command}` on {machine_description()}
(load average {load:.1f} at the end). Medians of {settings.repeats} repeats, ours and the baseline interleaved;
ratios are medians of the paired ratios.

{summary}

**An image every step** (256x256x3 uint8, a different photo-like image each step; our PNG
{ours_png:,} bytes, Pillow's {pillow_png:,}). Per call is the time the call takes in the loop: for
ours the image's copy (`tracker.Image(pixels)`), the queueing and any wait for the writer; the PNG
is encoded and written on the writer thread, which starts on it at once. With a training step
between calls the writer keeps up and the loop pays about the copy. In a tight loop the writer's
encoding is the bottleneck: a short loop leaves the encoding to `finish()`, a longer one waits in
`log()` once the oldest unwritten record is older than the flush interval (what bounds a SIGKILL's
loss and the memory queued media hold); either way the loop runs at the encoder's pace, which the
"with finish()" columns show.

{images}

**Plain numbers beside media**: {plain['calls']:,} calls of `run.log({{"loss": x}})` in blocks of
{settings.block_calls:,}, timed block by block; between blocks `run.log_image` logs a 256x256x3
image and sleeps {STEP_WORK_S * 1000:.0f} ms, a training step (neither timed; the baseline sleeps
too), {plain['images']} images in all. "With finish()" adds each run's `finish()` spread over its
calls, as bench_logger.py counts per-call costs. Each block starts after a sleep, so every loop
here runs slower per call than bench_logger.py's unbroken loops; the ratios compare like with
like. With media the plain calls cost {plain['media_over_plain']:.2f}x (with finish()) the same
calls in a run without media.

{plain_table}
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats (about a minute)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"report file (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    command = "python bench/bench_media.py" + (" --quick" if args.quick else "")
    print("image every step, with a training step ...", file=sys.stderr)
    worked = measure_images(settings.image_steps, STEP_WORK_S, settings.repeats)
    print("image every step, tight loop ...", file=sys.stderr)
    tight = measure_images(settings.tight_steps, 0.0, settings.repeats)
    print("plain numbers beside media ...", file=sys.stderr)
    plain = measure_plain(settings)
    report = render(settings, command, worked, tight, plain)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
