"""Reading runs from a store: a sync and a ``tracker ls`` after one run changed, next to a floor that lists the objects.

    python bench/bench_store_reading.py [--runs 2000] [--steps 100] [--repeats 3] [--no-s3] [--work DIR]
                                        [--output /tmp/bench_sections/store-reader.md]

N synthetic finished runs (bench/synthetic_runs.py) are put in a store as docs/format.md lays
them out (each events file one closed segment, plus a console log), and one more run is live: its
events end in an open segment. Two stores: a folder through ``file://``, and moto's S3 server on
127.0.0.1 in its own process (``--no-s3`` skips it). For each, after a first (cold) sync:

1. the floor: an fsspec filesystem (its connections open, its listings cache emptied) lists the
   prefix with sizes and ETags (``find(detail=True)``): what a sync cannot avoid;
2. the live run's open segment grows, then ``StoreCache.sync()`` (which downloads that one object);
3. the live run grows again, then ``tracker ls --runs URL`` as a person runs it, in this process,
   output to /dev/null: the sync plus the listing (its cache warm from the previous repeat).

Repeats are interleaved and the median kept; each is reported as a ratio to the floor measured in
the same run. The issue's target is 100,000 runs within 5x the floor; the default here is 2,000
(50x fewer: the 2-core machine is shared), so the seconds are not the target's, the ratios are.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine_description, markdown_table, median, today, verdict
from synthetic_runs import write_runs

from tracker.cli import main as tracker_main
from tracker.segments import closed_segment_name, open_segment_name, segments_folder
from tracker.store_cache import StoreCache

HEADING = "## Reading runs from a store"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/store-reader.md")
TARGET_RATIO = 5.0  # a sync or tracker ls after one changed run, against the listing floor
LIVE_RUN = "live-run"


def run_objects(runs_folder: str, run_id: str) -> dict[str, bytes]:
    """One synthetic run as the store holds it: its events one closed segment, a console log."""
    with open(os.path.join(runs_folder, run_id, "events.jsonl"), "rb") as handle:
        events = handle.read()
    return {f"{run_id}/{segments_folder('events.jsonl')}/{closed_segment_name(0)}": events,
            f"{run_id}/console.log": b"epoch 1/1\n"}


def store_objects(runs_folder: str) -> dict[str, bytes]:
    """Every synthetic run of ``runs_folder`` as the store holds it (``run_objects``)."""
    objects = {}
    for run_id in sorted(os.listdir(runs_folder)):
        objects |= run_objects(runs_folder, run_id)
    return objects


def live_lines(first: int, count: int) -> bytes:
    return b"".join(json.dumps({"type": "metrics", "step": step, "time": 1_790_000_000.0 + step,
                                "values": {"loss": 1.0 / (step + 1)}}).encode() + b"\n"
                    for step in range(first, first + count))


def live_head() -> bytes:
    return (json.dumps({"type": "run", "schema": 1, "id": LIVE_RUN, "project": "bench", "name": LIVE_RUN,
                        "time": time.time()}) + "\n"
            + json.dumps({"type": "start", "writer": "w1", "time": time.time(), "heartbeat_interval_s": 3600})
            + "\n").encode()


class LiveRun:
    """The one run that changes: a closed head segment and an open segment that grows."""

    def __init__(self, fs, root: str):
        self.fs, self.root, self.steps = fs, root, 0
        self.head = live_head()
        fs.pipe_file(f"{root}/{LIVE_RUN}/{segments_folder('events.jsonl')}/{closed_segment_name(0)}", self.head)
        self.grow()

    def grow(self, steps: int = 20) -> None:
        self.steps += steps
        name = open_segment_name(len(self.head))
        self.fs.pipe_file(f"{self.root}/{LIVE_RUN}/{segments_folder('events.jsonl')}/{name}",
                          live_lines(0, self.steps))
        self.fs.pipe_file(f"{self.root}/{LIVE_RUN}/heartbeat-w1.json",
                          json.dumps({"writer": "w1", "time": time.time()}).encode())


def floor_s(fs, root: str) -> float:
    fs.invalidate_cache()
    start = time.perf_counter()
    fs.find(root, withdirs=False, detail=True)
    return time.perf_counter() - start


def tracker_ls_s(url: str, cache_dir: str) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = tracker_main(["ls", "--runs", url])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"tracker ls --runs {url} exited {code}")
    return elapsed


def measure(fsspec, url: str, objects: dict[str, bytes], work: str, repeats: int) -> dict:
    options = {"auto_mkdir": True} if url.startswith("file://") else {}  # a folder store makes its folders
    fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **options)
    started = time.perf_counter()
    fs.pipe({f"{root}/{key}": data for key, data in objects.items()})
    upload_s = time.perf_counter() - started
    live = LiveRun(fs, root)
    cache_dir = os.path.join(work, "cache-" + url.split("://")[0])
    os.environ["TRACKER_CACHE_DIR"] = cache_dir  # tracker ls's cache: the same folder the syncs keep
    cache = StoreCache(url)
    cold = cache.sync()
    tracker_ls_s(url, cache_dir)  # the listing cache, as a person's second ls finds it
    floors, syncs, listings, downloads = [], [], [], []
    floor_s(fs, root)  # its connections open, as the sync's are
    for _ in range(repeats):
        floors.append(floor_s(fs, root))
        live.grow()
        report = cache.sync()
        syncs.append(report.seconds)
        downloads.append(report.downloaded)
        live.grow()
        listings.append(tracker_ls_s(url, cache_dir))
    return {"url": url.split("://")[0] + "://", "objects": len(objects) + 3, "upload_s": upload_s,
            "cold_s": cold.seconds, "floor_s": median(floors), "sync_s": median(syncs), "ls_s": median(listings),
            "downloaded": max(downloads)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def s3_server():
    """moto's S3 server in its own process on 127.0.0.1, with dummy credentials in the environment."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update(AWS_ACCESS_KEY_ID="AKIABENCHSTORE000001", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("moto's S3 server did not start")
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true", help="measure the file:// store only")
    parser.add_argument("--work", help="folder for the runs and caches (default: a temporary one)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    import fsspec.core  # the [s3] extra

    work = args.work or tempfile.mkdtemp(prefix="bench-store-")
    write_runs(os.path.join(work, "runs"), args.runs, steps=args.steps)
    objects = store_objects(os.path.join(work, "runs"))
    results = [measure(fsspec, f"file://{work}/store", objects, work, args.repeats)]
    if not args.no_s3:
        with s3_server():
            fs, _ = fsspec.core.url_to_fs("s3://bench-runs", skip_instance_cache=True)
            fs.mkdir("bench-runs")
            results.append(measure(fsspec, "s3://bench-runs/runs", objects, work, args.repeats))
    rows = [[r["url"], f"{args.runs + 1:,}", f"{r['objects']:,}", f"{r['cold_s']:.2f}", f"{r['floor_s']:.2f}",
             f"{r['sync_s']:.2f} ({r['sync_s'] / r['floor_s']:.1f}x; {r['downloaded']} downloaded)",
             f"{r['ls_s']:.2f} ({r['ls_s'] / r['floor_s']:.1f}x)",
             verdict(max(r["sync_s"], r["ls_s"]) <= TARGET_RATIO * r["floor_s"])] for r in results]
    table = markdown_table(["store", "runs", "objects", "first sync s", "floor: listing s",
                            "sync after one change s", "tracker ls after one change s",
                            f"within {TARGET_RATIO:g}x the floor"], rows)
    body = (f"`python bench/bench_store_reading.py --runs {args.runs} --steps {args.steps}` ({today()}, "
            f"{machine_description()}; medians of {args.repeats}). {args.runs:,} finished runs of {args.steps} "
            "steps and one live run whose open segment grows before each measure (its open segment and "
            "heartbeat are what a sync downloads); the floor is one listing of the prefix with sizes and ETags, "
            "in the same run. The issue's scale is "
            f"100,000 runs; this is {100_000 // args.runs}x fewer on a shared 2-core machine, so compare the "
            f"ratios, not the seconds.\n\n{table}\n")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(f"{HEADING}\n\n{body}", encoding="utf-8")
    print(body)


if __name__ == "__main__":
    main()
