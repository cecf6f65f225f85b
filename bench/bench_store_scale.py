"""Many runs in moto's S3 server: tracker ls and tracker build from s3://, cold and after one changed run, against a fresh process that lists the objects.

    python bench/bench_store_scale.py --runs 100000 [--steps 100] [--repeats 2] [--work /tmp/s4]
                                      [--build] [--output /tmp/bench_sections/store100k.md]

Issue 17's scale target: 100,000 runs in one store, ``tracker ls`` and a rebuild after one changed
run each <= 3 s and within 5x a floor that lists the objects. The runs are bench/synthetic_runs.py's
(written once under --work and kept), each as the uploader leaves a finished run
(bench_store_reading.run_objects: its events one closed segment, a console log), plus one run that
changes: before each measure it gets one new closed segment (20 more steps), the one object a
sync has to download.

The store: moto's S3 app in a child process on 127.0.0.1 (werkzeug, threaded, as
tests/s3_server.py serves it), filled before it listens by moto's own backend calls in that
process, not over HTTP (200,000 PUTs through moto take longer than everything measured here). The
child counts the requests it answers, by kind, so each measure says what it asked for.

Each measure is a fresh process, its wall and CPU (user + system of it and its children) kept:

- the floor: ``fsspec`` (s3fs) lists every object under the prefix with sizes and ETags, as a sync
  must (ListObjectsV2, pages of 1,000 keys), from import to the last page;
- ``tracker ls --runs s3://...`` with an empty cache (the first: every object downloaded), then
  after one changed run;
- the store's sync alone after one changed run (``StoreCache.sync``): what a rebuild from the
  store costs on top of a local rebuild;
- with ``--build``: the first ``tracker build --runs s3://...`` (its cache already synced by the
  ls) and a rebuild after one changed run.

Repeats are interleaved (floor, then each measure after a change) and the median kept.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_store_reading import LIVE_RUN, free_port, live_head, live_lines, run_objects
from common import REPO_ROOT, markdown_table, median, print_report, run_facts, verdict
from synthetic_runs import run_id, write_runs

from tracker.segments import closed_segment_name, segments_folder
from tracker.store_changes import entry_name
from tracker.store_shipping import Store

HEADING = "## 100,000 runs in the S3-compatible server"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/store100k.md")
BUCKET = "bench-scale"
PREFIX = "runs"
CHANGING_RUN = "changing-run"
COUNTS_PATH = "/__bench__/counts"  # the child's request counts, answered before moto sees the request
TARGET_RATIO = 5.0
TARGET_S = 3.0
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIABENCHSTORE000001", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1"}

# The floor: what any reader of the store pays to list its objects (boto3: the plain client); with a
# second argument, only that many pages (moto answers each page in time linear in the bucket's keys,
# so at 100,000 runs the whole listing is many minutes: the report scales the pages up).
FLOOR_CODE = """
import sys, boto3
bucket, _, prefix = sys.argv[1].removeprefix("s3://").partition("/")
pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(
    Bucket=bucket, Prefix=prefix + "/", PaginationConfig={"MaxItems": int(sys.argv[2]) * 1000} if len(sys.argv) > 2 else {})
print(sum(len(page.get("Contents", [])) for page in pages))
"""
# What the sync listed with before (s3fs's find: see tracker/store_backends.list_files).
FIND_CODE = """
import sys, fsspec.core
fs, root = fsspec.core.url_to_fs(sys.argv[1], skip_instance_cache=True)
print(len(fs.find(root, withdirs=False, detail=True)))
"""
SYNC_CODE = """
import sys
from tracker.store_cache import StoreCache
print(StoreCache(sys.argv[1]).sync().line())
"""


# -- the server child

def request_kind(method: str, path: str, query: str) -> str:
    if method == "GET" and path.strip("/") == BUCKET and "list-type=2" in query:
        return "list"
    return {"GET": "get", "HEAD": "head", "PUT": "put", "DELETE": "delete"}.get(method, method.lower())


def serve(port: int, runs_folder: str, runs: int) -> None:
    """Fill a bucket with the first ``runs`` runs of ``runs_folder`` through moto's backend, then
    serve it on 127.0.0.1:``port`` until killed; prints one JSON line once it listens."""
    import moto.server
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from werkzeug.serving import WSGIRequestHandler, make_server

    started = time.perf_counter()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    objects = 0
    finished_at = time.time() - 86_400  # the runs finished a day ago: their writers' last journal entries
    for index in range(runs):
        for key, data in run_objects(runs_folder, run_id(index)).items():
            backend.put_object(BUCKET, f"{PREFIX}/{key}", data)
            objects += 1
        backend.put_object(BUCKET, f"{PREFIX}/{entry_name(finished_at + index / 1000, f'w{index:06d}', run_id(index))}", b"")
        objects += 1
    fill_s = time.perf_counter() - started
    app = moto.server.DomainDispatcherApplication(moto.server.create_backend_app)
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def counting(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == COUNTS_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with lock:
                return [json.dumps({"counts": counts, "server": filled,
                                    "cpu_s": usage.ru_utime + usage.ru_stime}).encode()]
        kind = request_kind(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""))
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
        return app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", port, counting, threaded=True, request_handler=Quiet)
    filled = {"objects": objects, "fill_s": fill_s, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(json.dumps(filled), flush=True)
    server.serve_forever()


@contextlib.contextmanager
def s3_server(runs_folder: str, runs: int):
    """The server child, started and filled; yields (endpoint, what it printed)."""
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--runs", str(runs),
                              "--runs-folder", runs_folder], stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"the S3 server child exited {child.wait()} before it listened")
        yield f"http://127.0.0.1:{port}", json.loads(line)
    finally:
        child.terminate()
        child.wait(timeout=30)


# -- the measures

def server_facts(endpoint: str) -> dict:
    """{"counts": requests answered by kind, "server": objects, fill_s, rss_mb} of the server child."""
    with urllib.request.urlopen(endpoint + COUNTS_PATH, timeout=60) as answer:
        return json.load(answer)


class ChangingRun:
    """The one run that changes, uploaded by the uploader's own Store: a closed head segment, then
    one new closed segment per change, each change followed by its writer's journal entry."""

    def __init__(self, fs, url: str, root: str, run: str = CHANGING_RUN):
        with contextlib.suppress(FileNotFoundError):  # left by an earlier bench against the same server
            fs.rm(f"{root}/{run}", recursive=True)
        self.store = Store(url, run)
        self.folder = segments_folder("events.jsonl")
        self.size, self.steps = 0, 0
        self.add(live_head().replace(f'"{LIVE_RUN}"'.encode(), f'"{run}"'.encode()))  # its own id: no copy of another

    def add(self, data: bytes) -> None:
        self.store.put_bytes(f"{self.folder}/{closed_segment_name(self.size)}", data)
        self.store.note_changes()
        self.size += len(data)

    def change(self, steps: int = 20) -> None:
        self.add(live_lines(self.steps, steps))
        self.steps += steps


class Timer:
    """Fresh processes timed against one server: wall, CPU of the process tree, requests by kind."""

    def __init__(self, endpoint: str, env: dict):
        self.endpoint, self.env = endpoint, env


    def run(self, argv: list[str]) -> dict:
        server_before = server_facts(self.endpoint)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, env=self.env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])} exited {done.returncode}: {done.stderr[-800:]}")
        server_after = server_facts(self.endpoint)
        before_counts, after_counts = server_before["counts"], server_after["counts"]
        requests = {kind: after_counts[kind] - before_counts.get(kind, 0) for kind in after_counts
                    if after_counts[kind] != before_counts.get(kind, 0)}
        server_cpu = server_after["cpu_s"] - server_before["cpu_s"]
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{' '.join(argv[2:5])[:60]!r}: {wall:.2f} s wall, {cpu:.2f} s CPU, server {server_cpu:.2f} s CPU, "
              f"{requests}", file=sys.stderr, flush=True)
        return {"wall_s": wall, "cpu_s": cpu, "server_cpu_s": server_cpu, "requests": requests,
                "stderr": done.stderr.strip()[-300:]}


def seed_cache(url: str, cache_dir: str, runs_folder: str) -> float:
    """Bring the cache to what a first sync leaves, reading the synthetic runs' bytes from
    ``runs_folder`` in place of one GET each (the listing and the rest of the sync are real):
    200,000 GETs through moto's server take longer than everything else measured. Seconds taken."""
    from tracker.store_cache import StoreCache, cache_folder

    class SeededCache(StoreCache):
        def _download(self, objects, report):
            local = {}
            for run in sorted({obj.key.split("/", 1)[0] for obj in objects} - {CHANGING_RUN}):
                local |= run_objects(runs_folder, run)
            fetched = {obj.key: local[obj.key] for obj in objects if obj.key in local}
            report.downloaded += len(fetched)
            return fetched | super()._download([obj for obj in objects if obj.key not in local], report)

    started = time.perf_counter()
    print(SeededCache(url, cache_folder(url, cache_dir)).sync().line(), file=sys.stderr)
    return time.perf_counter() - started


def tracker(*args: str) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", *args]


def measure(endpoint: str, args, work: str) -> dict:
    import fsspec.core

    url = f"s3://{BUCKET}/{PREFIX}"
    os.makedirs(work, exist_ok=True)
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="cache-", dir=work)
    site = os.path.join(work, f"site-{args.runs}")
    env = dict(os.environ, **CREDENTIALS, AWS_ENDPOINT_URL=endpoint, TRACKER_CACHE_DIR=cache_dir,
               PYTHONPATH=str(REPO_ROOT))
    env.pop("AWS_PROFILE", None)
    os.environ.update(CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
    fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True)
    # A cache an earlier bench left holds its changing run as that server had it: this one is new.
    changing = ChangingRun(fs, url, root, f"{CHANGING_RUN}-{int(time.time())}" if args.cache_dir else CHANGING_RUN)
    timer = Timer(endpoint, env)
    results: dict[str, list[dict]] = {"floor": [], "ls": [], "sync": [], "rebuild": [], "find": []}
    if args.cache_dir:  # a cache (and site) an earlier bench left: its first sync and build are done
        results["ls_warm"] = [timer.run(tracker("ls", "--runs", url))]
        if args.build:
            results["build_cold"] = [timer.run(tracker("build", "--runs", url, "--out", site))]
    elif args.seed:
        results["seeded_s"] = seed_cache(url, cache_dir, args.runs_folder)
        results["ls_warm"] = [timer.run(tracker("ls", "--runs", url))]  # the listing's own cache made
    else:
        results["ls_cold"] = [timer.run(tracker("ls", "--runs", url))]
    if args.build and not args.cache_dir:
        results["build_cold"] = [timer.run(tracker("build", "--runs", url, "--out", site))]
    for _ in range(args.repeats):
        pages = [str(args.floor_pages)] if args.floor_pages else []
        results["floor"].append(timer.run([sys.executable, "-c", FLOOR_CODE, url, *pages]))
        if args.s3fs_find:
            results["find"].append(timer.run([sys.executable, "-c", FIND_CODE, url]))
        changing.change()
        results["sync"].append(timer.run([sys.executable, "-c", SYNC_CODE, url]))
        changing.change()
        results["ls"].append(timer.run(tracker("ls", "--runs", url)))
        if args.build:
            changing.change()
            results["rebuild"].append(timer.run(tracker("build", "--runs", url, "--out", site)))
    return {name: summary(samples) if isinstance(samples, list) else samples for name, samples in results.items()
            if samples}


def summary(samples: list[dict]) -> dict:
    return {"wall_s": median(s["wall_s"] for s in samples), "cpu_s": median(s["cpu_s"] for s in samples),
            "server_cpu_s": median(s["server_cpu_s"] for s in samples),
            "requests": samples[-1]["requests"], "samples": len(samples), "last_stderr": samples[-1]["stderr"]}


# -- the report

MEASURES = [("find", "s3fs `find()` of the prefix (what the sync listed with before)", False),
            ("ls_cold", "`tracker ls`, empty cache (first)", False),
            ("ls_warm", "`tracker ls`, cache seeded from the local runs (first listing)", False),
            ("ls", "`tracker ls` after one changed run", True),
            ("sync", "store sync alone after one changed run", True),
            ("build_cold", "`tracker build`, first (cache synced by the ls)", False),
            ("rebuild", "`tracker build` after one changed run", True)]


def requests_cell(requests: dict) -> str:
    return ", ".join(f"{count:,} {kind}" for kind, count in sorted(requests.items())) or "none"


def report(args, server: dict, results: dict, facts: dict) -> str:
    floor = results["floor"]
    label = "floor: a fresh process lists the prefix (boto3, ListObjectsV2)"
    if args.floor_pages:
        pages = -(-server["objects"] // 1000)
        scale = pages / args.floor_pages
        floor = dict(floor, **{name: floor[name] * scale for name in ("wall_s", "cpu_s", "server_cpu_s")})
        label += f": its first {args.floor_pages} pages timed, scaled to all {pages} (x{scale:.1f})"
    rows = [[label, f"{floor['wall_s']:.2f}",
             f"{floor['cpu_s']:.2f}", f"{floor['server_cpu_s']:.2f}", requests_cell(floor["requests"]), "-", "-", "-",
             "-"]]
    for name, label, targeted in MEASURES:
        if name not in results:
            continue
        measured = results[name]
        wall_ratio, cpu_ratio = measured["wall_s"] / floor["wall_s"], measured["cpu_s"] / floor["cpu_s"]
        target = f"<= {TARGET_S:g} s, <= {TARGET_RATIO:g}x" if name != "sync" else f"<= {TARGET_RATIO:g}x"
        met = verdict(max(wall_ratio, cpu_ratio) <= TARGET_RATIO and (name == "sync" or measured["wall_s"] <= TARGET_S))
        rows.append([label, f"{measured['wall_s']:.2f}", f"{measured['cpu_s']:.2f}", f"{measured['server_cpu_s']:.2f}",
                     requests_cell(measured["requests"]), f"{wall_ratio:.2f}x", f"{cpu_ratio:.2f}x",
                     target if targeted else "-", met if targeted else "-"])
    table = markdown_table(["measure", "wall s", "CPU s", "server CPU s", "requests", "wall / floor's",
                            "CPU / floor's", "target", "met"], rows)
    return (f"`{facts['command']}` ({facts['date']}, {facts['revision']}, {facts['machine']}; load "
            f"{facts['load_before']} before, {facts['load_after']} after; medians of {args.repeats}). "
            f"{args.runs:,} runs of {args.steps} steps ({server['objects']:,} objects, put in moto's server "
            f"through its backend in {server['fill_s']:.0f} s; the server process held {server['rss_mb']:,.0f} MB). "
            "CPU: the measured process and the children it waited for; server CPU: moto's process meanwhile.\n\n"
            f"{table}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--build", action="store_true", help="also the first build and a rebuild")
    parser.add_argument("--s3fs-find", action="store_true", help="also time s3fs's find() (quadratic in runs)")
    parser.add_argument("--seed", action="store_true",
                        help="make the first sync's cache from the local runs, not one GET an object")
    parser.add_argument("--work", default="/tmp/s4", help="where the runs (kept) and the caches go")
    parser.add_argument("--runs-folder", help="synthetic runs to fill the store from (default: under --work)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cache-dir", help="a store cache an earlier bench left under --work (with its site): "
                                            "measured after one more sync and build, not made anew")
    parser.add_argument("--floor-pages", type=int, default=0,
                        help="time the floor's first N pages and scale to the whole listing (moto: minutes a listing)")
    parser.add_argument("--endpoint", help="a server child started with --serve PORT, kept between benches")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the server child
    args = parser.parse_args()
    runs_folder = args.runs_folder = args.runs_folder or os.path.join(args.work, f"runs-{args.steps}-steps")
    if args.serve:
        serve(args.serve, runs_folder, args.runs)
        return
    load_before = os.getloadavg()[0]
    present = len(os.listdir(runs_folder)) if os.path.isdir(runs_folder) else 0
    if present < args.runs:
        write_runs(runs_folder, args.runs - present, steps=args.steps, first=present)
    with contextlib.nullcontext((args.endpoint, None)) if args.endpoint else s3_server(runs_folder, args.runs) \
            as (endpoint, _):
        server = server_facts(endpoint)["server"]
        print(f"server: {server}", file=sys.stderr)
        results = measure(endpoint, args, args.work)
    command = "python bench/bench_store_scale.py " + " ".join(sys.argv[1:])
    print(json.dumps(results, indent=1), file=sys.stderr)
    print_report(f"{HEADING}\n\n{report(args, server, results, run_facts(command, load_before))}", args.output)


if __name__ == "__main__":
    main()
