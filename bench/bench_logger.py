"""Logger benchmark: what ``run.log()`` costs next to a plain JSON-lines write, and next to peers.

    python bench/bench_logger.py [--quick] [--peers] [--output docs/benchmarks.md]

Prints a Markdown report and puts it into docs/benchmarks.md under "## Logger". It measures:

1. the baseline: ``f.write(json.dumps({"step", "time", "values"}) + "\\n")`` to a buffered file,
   opened and closed inside the timing;
2. ours: ``run.log(values, step=i)`` N times plus ``run.finish()``, divided by N, for one scalar,
   for ten, and for one named ``inference_ms`` (against ``loss``: a name must not cost), as a ratio
   to the baseline (repeats interleaved, median of the paired ratios);
3. flatness: in a long run, the mean cost of the last 10% of calls over the middle (5th) 10%;
   the first tenth is not the reference, as it runs before the writer thread has caught up;
4. ``import tracker`` (and each peer's import) in a fresh process, timed inside the child;
5. ``tracker.init()`` with default capture in a fresh process, and the ``finish()`` after it;
6. with ``--peers``: MLflow (default and file store), trackio and W&B offline, each in its own
   process and temporary folder, with fewer calls since they are slow.

``--store`` measures instead, into "## Logger to a store": the same loop of ``run.log()`` with
``dir="s3://..."`` (an S3-compatible server, moto's, in a process of its own on 127.0.0.1) against
``dir=`` a local folder, repeats interleaved, as the median of the paired ratios: the uploader
thread must not slow the loop (docs/storage.md). ``finish()``, which waits for the last upload, is
timed apart.

``--durability`` measures instead, into "## Logger durability": a tight loop of 20 and 100 scalars
with the time-based backpressure that bounds what SIGKILL loses, against the same loop without it
and the baseline, and the loop while the disk is full (events file on /dev/full) against the same
loop on a working disk.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import tracker
import tracker.writer
from common import (BENCHMARKS_DOC, BYTECODE_ENV, REPO_ROOT, ChildFailed, git_revision, import_time_s,
                    machine_description, median, python_startup_s, run_child, today, us, verdict, write_section)
from logger_report import INF_NAME_WORKLOAD, render_durability_report, render_report

HEADING = "## Logger"
DURABILITY_HEADING = "## Logger durability"
RESULTS_JSON = Path(__file__).resolve().parent / "out" / "logger.json"  # raw numbers, git-ignored
WORKLOADS = {
    "1 scalar": {"loss": 0.31},
    "10 scalars": {f"metric_{index}": 0.1 * index + 0.01 for index in range(10)},
    # The writer's line template once turned itself off for a name holding "inf" or "nan": twice the cost.
    INF_NAME_WORKLOAD: {"inference_ms": 0.31},
}
PEER_WORKLOADS = ["1 scalar", "10 scalars"]  # a metric's name only matters to our line template
FLATNESS_WORKLOAD = "10 scalars"
PEER_DIR = Path(__file__).resolve().parent / "peers"
PEERS = [  # (label, runner file, variant, module to time the import of, slow: gets fewer calls)
    ("MLflow, default store (sqlite)", "run_mlflow.py", "default", "mlflow", True),
    ("MLflow, file store", "run_mlflow.py", "file", None, True),
    ("trackio", "run_trackio.py", "default", "trackio", False),
    ("W&B offline", "run_wandb.py", "default", "wandb", False),
]


@dataclass(frozen=True)
class Settings:
    calls: int            # log calls per per-call measurement
    long_calls: int       # log calls in the flatness run
    repeats: int          # repeats of each in-process measurement
    startup_repeats: int  # fresh processes per import / init measurement
    peer_calls: int       # log calls per run of a slow peer (milliseconds per call)


FULL = Settings(calls=100_000, long_calls=1_000_000, repeats=5, startup_repeats=7, peer_calls=5_000)
QUICK = Settings(calls=20_000, long_calls=200_000, repeats=3, startup_repeats=5, peer_calls=1_000)


# -- the loops being compared ----------------------------------------------------------------

def baseline_s(folder: str, values: dict, calls: int) -> float:
    """Seconds for ``calls`` plain buffered JSON-lines writes, open and close included."""
    start = time.perf_counter()
    with open(os.path.join(folder, "baseline.jsonl"), "w", encoding="utf-8") as handle:
        for step in range(calls):
            handle.write(json.dumps({"step": step, "time": time.time(), "values": values}) + "\n")
    return time.perf_counter() - start


def ours_s(folder: str, values: dict, calls: int, capture=False) -> float:
    """Seconds for ``calls`` ``run.log()`` calls plus ``finish()``; ``init()`` is not timed.

    Capture is off so its background thread does not share the two cores with the loop; its
    cost is in the init and finish numbers instead.
    """
    run = tracker.init(project="bench", name="per-call", dir=folder, capture=capture)
    start = time.perf_counter()
    for step in range(calls):
        run.log(values, step=step)
    run.finish()
    elapsed = time.perf_counter() - start
    _check_written(run.path, calls)
    return elapsed


PROBLEMS: list[str] = []  # records lost by a finish(); shown at the top of the report


def _check_written(run_path: str, calls: int) -> None:
    """A fast result from records that never reached the disk is no result: note any loss."""
    written = 0
    for name in os.listdir(run_path):
        if name.endswith(".jsonl"):
            with open(os.path.join(run_path, name), encoding="utf-8") as handle:
                written += sum(1 for line in handle if '"type":"metrics"' in line)
    if written != calls:
        PROBLEMS.append(f"{calls - written:,} of {calls:,} records were not on disk when finish() returned")
        print(f"  {PROBLEMS[-1]} ({run_path})", file=sys.stderr)


def flatness_blocks_s(folder: str, values: dict, calls: int) -> tuple[list[float], float]:
    """Seconds for each tenth of a long run of ``run.log()`` calls, and for the ``finish()`` after."""
    run = tracker.init(project="bench", name="flatness", dir=folder, capture=False)
    tenth = calls // 10
    blocks = []
    for block in range(10):
        start = time.perf_counter()
        for step in range(block * tenth, (block + 1) * tenth):
            run.log(values, step=step)
        blocks.append(time.perf_counter() - start)
    start = time.perf_counter()
    run.finish()
    finish_s = time.perf_counter() - start
    _check_written(run.path, tenth * 10)
    return blocks, finish_s


# -- measurements ------------------------------------------------------------------------------

def in_temp_folder(measure, *args):
    # A writer still running after a timed-out finish() must not turn cleanup into a crash.
    with tempfile.TemporaryDirectory(prefix="bench-logger-", ignore_cleanup_errors=True) as folder:
        return measure(folder, *args)


def measure_per_call(settings: Settings) -> dict:
    """Per-call seconds of baseline and ours for each workload, repeats interleaved."""
    results = {}
    for label, values in WORKLOADS.items():
        baseline, ours, loss = [], [], []
        for _ in range(settings.repeats):
            baseline.append(in_temp_folder(baseline_s, values, settings.calls) / settings.calls)
            ours.append(in_temp_folder(ours_s, values, settings.calls) / settings.calls)
            if label == INF_NAME_WORKLOAD:  # the same value named "loss", interleaved: the ratio is the name's cost
                loss.append(in_temp_folder(ours_s, WORKLOADS["1 scalar"], settings.calls) / settings.calls)
        results[label] = {
            "calls": settings.calls,
            "baseline_s": median(baseline),
            "ours_s": median(ours),
            "ratio": median(o / b for o, b in zip(ours, baseline)),
        }
        if loss:
            results[label].update(loss_s=median(loss), to_loss_ratio=median(o / l for o, l in zip(ours, loss)))
    return results


MIDDLE_TENTH = 4


def measure_flatness(settings: Settings) -> dict:
    """Per-call cost of each tenth of a long run, and its last over its middle; medians of 3 runs.

    The first tenth is cheaper than steady state because the writer's share of the work (JSON
    encoding on the same interpreter) has not started yet; comparing against it would measure
    warm-up, not growth.
    """
    values = WORKLOADS[FLATNESS_WORKLOAD]
    tenth = settings.long_calls // 10
    runs = [in_temp_folder(flatness_blocks_s, values, settings.long_calls) for _ in range(3)]
    return {
        "workload": FLATNESS_WORKLOAD,
        "calls": settings.long_calls,
        "tenths_s": [median(blocks[index] for blocks, _ in runs) / tenth for index in range(10)],
        "ratio": median(blocks[-1] / blocks[MIDDLE_TENTH] for blocks, _ in runs),
        "finish_s": median(finish_s for _, finish_s in runs),
    }


SAMPLER_ONLY = {"git": False, "code": False, "environment": False, "hardware": False, "console": False,
                "system": True}
SAMPLER_INTERVAL_S = "0.1"  # 50x the default rate, so any cost the sampler has shows up


def measure_sampler(settings: Settings) -> dict:
    """Per-call cost with the system-metrics sampler on (sampling every 0.1 s) over the same loop without it."""
    values = WORKLOADS[FLATNESS_WORKLOAD]
    os.environ["TRACKER_SYSTEM_INTERVAL_S"] = SAMPLER_INTERVAL_S
    try:
        without, with_sampler = [], []
        for _ in range(settings.repeats):
            without.append(in_temp_folder(ours_s, values, settings.calls) / settings.calls)
            with_sampler.append(in_temp_folder(ours_s, values, settings.calls, SAMPLER_ONLY) / settings.calls)
    finally:
        del os.environ["TRACKER_SYSTEM_INTERVAL_S"]
    return {"workload": FLATNESS_WORKLOAD, "calls": settings.calls, "interval_s": float(SAMPLER_INTERVAL_S),
            "without_s": median(without), "with_s": median(with_sampler),
            "ratio": median(w / o for w, o in zip(with_sampler, without))}


def measure_startup(settings: Settings, with_peers: bool) -> dict:
    """Python start-up, imports in fresh processes, and init/finish of a fresh process."""
    repeats = settings.startup_repeats
    probe_init = [sys.executable, str(Path(__file__).with_name("probe_init.py"))]
    run_child(probe_init, env=BYTECODE_ENV, cwd=REPO_ROOT)  # writes the bytecode the timed runs read
    imports = {"tracker": import_time_s("tracker", repeats, BYTECODE_ENV)}
    if with_peers:
        for _, _, _, module, _ in PEERS:
            if module:
                imports[module] = _or_failure(lambda: import_time_s(module, repeats, BYTECODE_ENV))
    probes = [run_child(probe_init, env=BYTECODE_ENV, cwd=REPO_ROOT) for _ in range(repeats)]
    return {
        "repeats": repeats,
        "python_s": python_startup_s(repeats),
        "imports_s": imports,
        "init_s": median(probe["init_s"] for probe in probes),
        "finish_s": median(probe["finish_s"] for probe in probes),
    }


def measure_peers(settings: Settings) -> list[dict]:
    """One fresh process per peer and workload; a failure becomes that row's result.

    Peers get as many calls as ours, except the slow ones, whose finish is then spread over
    fewer calls (which flatters them, if anything).
    """
    rows = []
    for label, runner, variant, _, slow in PEERS:
        calls = settings.peer_calls if slow else settings.calls
        for workload in PEER_WORKLOADS:
            values = WORKLOADS[workload]
            result = _or_failure(lambda: _run_peer(runner, variant, values, calls))
            rows.append({"peer": label, "workload": workload, "calls": calls, "result": result})
            print(f"  {label}, {workload}: {result}", file=sys.stderr)
    return rows


def _run_peer(runner: str, variant: str, values: dict, calls: int) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "MLFLOW_TRACKING_URI"}
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as folder:
        argv = [sys.executable, str(PEER_DIR / runner), "--dir", folder, "--calls", str(calls),
                "--values", json.dumps(values), "--variant", variant]
        return run_child(argv, env=env, cwd=folder)


def _or_failure(measure):
    """The measurement, or ``"failed: <reason>"`` so one broken peer does not stop the report."""
    try:
        return measure()
    except ChildFailed as failure:
        return f"failed: {failure.reason}"


# -- durability: the SIGKILL loss bound and a full disk ------------------------------------------

LAG_WORKLOADS = {f"{width} scalars": {f"metric_{index}": 0.5 + index for index in range(width)} for width in (20, 100)}
LAG_CALLS = {"20 scalars": 400_000, "100 scalars": 100_000}  # a few seconds of logging: several intervals
FULL_DISK_WORKLOAD = "10 scalars"


def bounded_loop_s(folder: str, values: dict, calls: int, bound_by_time: bool) -> tuple[float, float]:
    """Seconds for ``calls`` ``run.log()`` + ``finish()``, and how old the oldest unwritten record
    was when the loop ended (what a SIGKILL then would have lost)."""
    tracker.writer.BOUND_LAG_BY_TIME = bound_by_time
    try:
        run = tracker.init(project="bench", name="lag", dir=folder, capture=False)
        start = time.perf_counter()
        for step in range(calls):
            run.log(values, step=step)
        oldest = run._writer._oldest_unwritten()
        lag_s = time.time() - oldest if oldest is not None else 0.0
        run.finish()
        elapsed = time.perf_counter() - start
    finally:
        tracker.writer.BOUND_LAG_BY_TIME = True
    _check_written(run.path, calls)
    return elapsed, lag_s


def measure_lag_bound(settings: Settings) -> dict:
    """Per-call cost of a tight loop with and without the time bound, against the baseline."""
    results = {}
    for label, values in LAG_WORKLOADS.items():
        calls = LAG_CALLS[label]  # not fewer with --quick: the loop must outlast several intervals
        baseline, bounded, unbounded = [], [], []
        for _ in range(settings.repeats):
            baseline.append(in_temp_folder(baseline_s, values, calls) / calls)
            bounded.append(in_temp_folder(bounded_loop_s, values, calls, True))
            unbounded.append(in_temp_folder(bounded_loop_s, values, calls, False))
        results[label] = {
            "calls": calls,
            "baseline_s": median(baseline),
            "on_s": median(seconds / calls for seconds, _ in bounded),
            "off_s": median(seconds / calls for seconds, _ in unbounded),
            "on_ratio": median(on[0] / calls / base for on, base in zip(bounded, baseline)),
            "off_ratio": median(off[0] / calls / base for off, base in zip(unbounded, baseline)),
            "on_lag_s": median(lag for _, lag in bounded),
            "off_lag_s": median(lag for _, lag in unbounded),
        }
    return results


FULL_DISK_CALLS = 1_000_000  # about 10 s of logging: many flush intervals and retries, and the byte bound bites


def full_disk_loop_s(folder: str, values: dict, calls: int, disk_full: bool) -> tuple[float, float, int]:
    """Seconds for ``calls`` ``run.log()`` calls, seconds for the ``finish()`` after them, and the
    bytes held for retry when the loop ended.

    Both sides do the same work: every record is encoded, and on a working disk ``finish()``
    writes what the loop left, so loop + finish is the whole cost of logging ``calls`` records.
    """
    run = tracker.init(project="bench", name="full-disk", dir=folder, capture=False)
    if disk_full:
        events = os.path.join(run.path, "events.jsonl")
        os.remove(events)
        os.symlink("/dev/full", events)  # every write fails with ENOSPC, as on a full disk
    start = time.perf_counter()
    for step in range(calls):
        run.log(values, step=step)
    loop_s = time.perf_counter() - start
    held = run._writer._unwritten.size_bytes
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the disk is full": expected here
        run.finish()
    finish_s = time.perf_counter() - start
    if not disk_full:
        _check_written(run.path, calls)
    return loop_s, finish_s, held


def measure_full_disk(settings: Settings) -> dict:
    """Per-call cost of the loop while every write fails, over the same loop on a working disk."""
    values = WORKLOADS[FULL_DISK_WORKLOAD]
    calls = FULL_DISK_CALLS  # not fewer with --quick: the loop must outlast many flush intervals
    working, full = [], []
    for _ in range(settings.repeats):
        working.append(in_temp_folder(full_disk_loop_s, values, calls, False))
        full.append(in_temp_folder(full_disk_loop_s, values, calls, True))
    return {
        "workload": FULL_DISK_WORKLOAD,
        "calls": calls,
        "flush_interval_s": tracker.writer.FLUSH_INTERVAL_S,
        "working_s": median((loop + finish) / calls for loop, finish, _ in working),
        "full_s": median((loop + finish) / calls for loop, finish, _ in full),
        "ratio": median((f[0] + f[1]) / (w[0] + w[1]) for f, w in zip(full, working)),
        "working_loop_s": median(loop / calls for loop, _, _ in working),
        "full_loop_s": median(loop / calls for loop, _, _ in full),
        "loop_ratio": median(f[0] / w[0] for f, w in zip(full, working)),
        "working_finish_s": median(finish for _, finish, _ in working),
        "full_finish_s": median(finish for _, finish, _ in full),
        "held_bytes": max(held for _, _, held in full),
        "bound_bytes": tracker.writer.MAX_UNWRITTEN_BYTES,
    }


def main_durability(settings: Settings, command: str, output: Path) -> int:
    print("loss bound ...", file=sys.stderr)
    results = {"command": command, "date": today(), "revision": git_revision("tracker"),
               "machine": machine_description(), "settings": asdict(settings),
               "lag_bound": measure_lag_bound(settings)}
    print("full disk ...", file=sys.stderr)
    results["full_disk"] = measure_full_disk(settings)
    results["problems"] = PROBLEMS
    report = render_durability_report(results)
    print(report)
    write_section(DURABILITY_HEADING, report, output)
    print(f"wrote the '{DURABILITY_HEADING}' section of {output}", file=sys.stderr)
    return 0


# -- logging to a store: the uploader thread beside the loop ------------------------------------

STORE_HEADING = "## Logger to a store"
STORE_WORKLOAD = "1 scalar"  # the fastest loop, so the uploader's share of the interpreter shows most
STORE_CALLS = {"full": 1_000_000, "quick": 400_000}  # seconds of logging: several upload intervals
# the default, and 10x its rate, so that what the uploader costs the loop shows up
STORE_UPLOAD_INTERVALS_S = {"every 5 s (default)": 5.0, "every 0.5 s": 0.5}
STORE_RATIO_BUDGET = 1.2


def store_loop_s(location: str, values: dict, calls: int) -> tuple[float, float]:
    """Seconds for ``calls`` ``run.log()`` calls into ``location`` (a folder or a store URL), and
    for the ``finish()`` after them."""
    run = tracker.init(project="bench", name="store", dir=location, capture=False)
    start = time.perf_counter()
    for step in range(calls):
        run.log(values, step=step)
    loop_s = time.perf_counter() - start
    start = time.perf_counter()
    run.finish()
    finish_s = time.perf_counter() - start
    _check_written(run.path, calls)  # the spool is kept (TRACKER_KEEP_SPOOL): what was logged is there
    return loop_s, finish_s


def measure_store(settings: Settings, quick: bool) -> dict:
    """Per-call cost of the loop logging to s3:// over the same loop logging to a folder."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spool = tempfile.mkdtemp(prefix="bench-spool-")
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", TRACKER_SPOOL=spool, TRACKER_KEEP_SPOOL="1")
    try:
        _wait_for_port(port)
        import fsspec  # the loop below must not pay for the first import

        bucket = fsspec.filesystem("s3")
        bucket.mkdir("bench")
        values = WORKLOADS[STORE_WORKLOAD]
        calls = STORE_CALLS["quick" if quick else "full"]
        import tracker.store_upload

        local, store = [], {label: [] for label in STORE_UPLOAD_INTERVALS_S}
        for _ in range(settings.repeats):
            local.append(in_temp_folder(store_loop_s, values, calls))
            for label, interval_s in STORE_UPLOAD_INTERVALS_S.items():
                tracker.store_upload.UPLOAD_INTERVAL_S = interval_s
                store[label].append(store_loop_s("s3://bench/runs", values, calls))
                bucket.rm("bench/runs", recursive=True)  # the server holds objects in memory
                shutil.rmtree(spool, ignore_errors=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(spool, ignore_errors=True)
    return {"workload": STORE_WORKLOAD, "calls": calls,
            "local_s": median(loop / calls for loop, _ in local),
            "local_finish_s": median(finish for _, finish in local),
            "store": {label: {"interval_s": STORE_UPLOAD_INTERVALS_S[label],
                              "store_s": median(loop / calls for loop, _ in runs),
                              "ratio": median(s[0] / l[0] for s, l in zip(runs, local)),
                              "finish_s": median(finish for _, finish in runs)}
                      for label, runs in store.items()}}


def _wait_for_port(port: int, timeout_s: float = 60.0) -> None:
    give_up_at = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > give_up_at:
                raise
            time.sleep(0.2)


def render_store_report(results: dict) -> str:
    store = results["store"]
    rows = [f"| local folder | {us(store['local_s'])} | | | {store['local_finish_s']:.2f} |"]
    for label, variant in store["store"].items():
        rows.append(f"| s3://, uploads {label} | {us(variant['store_s'])} | {variant['ratio']:.2f} | "
                    f"{verdict(variant['ratio'] <= STORE_RATIO_BUDGET)} | {variant['finish_s']:.2f} |")
    return "\n".join([
        f"`{results['command']}` on {results['date']} ({results['revision']}), {results['machine']}.",
        "",
        f"`run.log()` of {store['workload']}, {store['calls']:,} calls, into `dir=\"s3://...\"` (moto's S3 server "
        "in its own process on 127.0.0.1) against a local folder; repeats interleaved, median of the paired "
        "ratios. `finish()` includes the last upload.",
        "",
        f"| into | per `log()` call (µs) | ratio to the folder | within {STORE_RATIO_BUDGET}x | `finish()` (s) |",
        "|---|---|---|---|---|",
        *rows,
        *(["", *(f"- **problem**: {problem}" for problem in results["problems"])] if results["problems"] else []),
    ]) + "\n"


def main_store(settings: Settings, quick: bool, command: str, output: Path) -> int:
    print("logging to a store ...", file=sys.stderr)
    results = {"command": command, "date": today(), "revision": git_revision("tracker"),
               "machine": machine_description(), "store": measure_store(settings, quick), "problems": PROBLEMS}
    report = render_store_report(results)
    print(report)
    write_section(STORE_HEADING, report, output)
    print(f"wrote the '{STORE_HEADING}' section of {output}", file=sys.stderr)
    return 0


# -- main --------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats (a minute or so)")
    parser.add_argument("--peers", action="store_true", help="also run MLflow, trackio and W&B (minutes)")
    parser.add_argument("--durability", action="store_true",
                        help=f"measure the SIGKILL loss bound and a full disk instead, into '{DURABILITY_HEADING}'")
    parser.add_argument("--store", action="store_true",
                        help=f"measure log() into s3:// against a folder instead, into '{STORE_HEADING}'")
    parser.add_argument("--output", type=Path, default=BENCHMARKS_DOC,
                        help=f"Markdown file whose '{HEADING}' section is replaced (default: docs/benchmarks.md)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    command = "python bench/bench_logger.py" + " --quick" * args.quick + " --peers" * args.peers
    if args.durability:
        return main_durability(settings, command + " --durability", args.output)
    if args.store:
        return main_store(settings, args.quick, command + " --store", args.output)

    print("per-call cost ...", file=sys.stderr)
    results = {
        "command": command,
        "date": today(),
        "revision": git_revision("tracker"),
        "machine": machine_description(),
        "settings": asdict(settings),
        "per_call": measure_per_call(settings),
    }
    print("flatness ...", file=sys.stderr)
    results["flatness"] = measure_flatness(settings)
    print("system-metrics sampler ...", file=sys.stderr)
    results["sampler"] = measure_sampler(settings)
    print("start-up ...", file=sys.stderr)
    results["startup"] = measure_startup(settings, args.peers)
    if args.peers:
        print("peers ...", file=sys.stderr)
        results["peers"] = measure_peers(settings)

    results["problems"] = PROBLEMS
    report = render_report(results)
    print(report)
    write_section(HEADING, report, args.output)
    RESULTS_JSON.parent.mkdir(exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote the '{HEADING}' section of {args.output} and the raw numbers to {RESULTS_JSON}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
