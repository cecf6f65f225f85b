"""Cold build against its floor: how far ``tracker build`` is from parsing every events line once.

    python bench/bench_cold_read.py [--runs 1000] [--rebuild-runs 10000] [--repeats 3] [--work DIR]
                                    [--breakdown 60] [--no-light] [--output /tmp/bench_sections/cold_build.md]

Synthetic finished runs of 1,000 steps x 5 metrics (bench/synthetic_runs.py, cached in --work as
bench_site.py caches them; the two share the default folder). Measured, interleaved, medians of
--repeats:

1. the floor: a fresh process that decodes every line of every events file with msgspec (the
   library the reader decodes with, tracker/fast_json.py) and keeps nothing;
2. the json floor: the same with the standard library's json, what the reader used before;
3. the cold build: ``tracker build --full`` into an empty folder, in a fresh process: wall time,
   and CPU time of the process tree (its worker processes included, as rusage counts them);
4. the same build as a light install makes it, msgspec blocked in every process of the build (a
   sitecustomize on PYTHONPATH): the build with json decoding. Both builds' run data files must
   be byte for byte the same, or the benchmark fails. --no-light leaves this build out (a tree whose
   site modules need msgspec cannot build without it).

Then, at --rebuild-runs runs: a cold build, and a rebuild after one record is appended to one run
(median of 5, a different run each time) next to bench_site.py's floor, a fresh process that
stats every file of every run folder.

--breakdown N: where a run page's time goes, each step of it (sitegen/run_pages.py render_run)
timed alone with time.process_time over the first N runs of the cold set, in this process.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

from bench_site import BUILD_ENV, append_point, build_argv, scan_floor_s, synthetic_runs
from common import REPO_ROOT, markdown_table, median, print_report, run_facts, wall_and_cpu
from sitegen.assets import plan_assets
from sitegen.csv_spool import CsvSpool
from sitegen.load import PAGE_POINTS_PER_SERIES, load_source, read_run
from sitegen.model import PageSettings, index_row, run_context, run_data_file, run_description, run_url
from sitegen.output import write_text
from sitegen.redaction import redact_source, redact_tokens
from sitegen.render import Renderer, data_script_text, script_json
from sitegen.run_data import run_data_json
from sitegen.theme import resolve_theme
from tracker.cyclic_gc import cyclic_gc_paused
from tracker.event_lines import record_chunks
from tracker.problems import Problems
from tracker.reader import created_time

HEADING = "## Cold build and its floor"
REBUILD_REPEATS = 5
MAX_COLD_TO_FLOOR = 2.0   # the target: a cold build within twice the floor
MAX_REBUILD_S = 1.0       # one changed run among --rebuild-runs
STEPS, METRICS = 1000, 5

FLOOR_CODE = """
import glob, json, os, sys, time
{decoder}
start, cpu_start = time.perf_counter(), time.process_time()
lines = 0
for path in glob.glob(os.path.join(sys.argv[1], "*", "events*.jsonl")):
    with open(path, "rb") as handle:
        for line in handle:
            decode(line)
            lines += 1
print(json.dumps({{"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu_start, "lines": lines}}))
"""
MSGSPEC_FLOOR_CODE = FLOOR_CODE.format(decoder="from msgspec.json import Decoder\ndecode = Decoder().decode")
JSON_FLOOR_CODE = FLOOR_CODE.format(decoder="decode = json.loads")
# A light install, in every process of a build: each imports sitecustomize at start.
NO_MSGSPEC = "import sys\nsys.modules['msgspec'] = None  # as if not installed\n"


def floor_s(code: str, runs: Path) -> dict:
    """{seconds, cpu_s, lines} of a fresh process running ``code`` over every events file of ``runs``."""
    done = subprocess.run([sys.executable, "-c", code, str(runs)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def timed_build(runs: Path, out: Path, env: dict, full: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of ``tracker build`` in a fresh process.

    CPU is the build's rusage, which holds that of every process it waited for: the workers it
    forks (tracker/parallel.py) and git. The tree used to be sampled with psutil every 20 ms,
    when the workers came from a forkserver nobody waits for; each sample cost 1.4 ms of CPU, a
    fourteenth of a core taken from the build it timed on a two-core machine (the floor runs
    unsampled)."""
    return wall_and_cpu(build_argv(runs, out) + (["--full"] if full else []), env=env, cwd=REPO_ROOT)


def light_install_env(shim: Path) -> dict:
    """BUILD_ENV with msgspec blocked in the build and in every worker it starts."""
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "sitecustomize.py").write_text(NO_MSGSPEC, encoding="utf-8")
    env = dict(BUILD_ENV, PYTHONPATH=os.pathsep.join([str(shim), str(REPO_ROOT)]))
    probe = subprocess.run([sys.executable, "-c", "from tracker.fast_json import decode_fast\n"
                            "print(decode_fast(b'[1]'))"], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert probe.stdout.strip() == "None", f"msgspec is not blocked: {probe.stdout}{probe.stderr}"
    return env


def run_data_digest(out: Path) -> str:
    """One hash of every run data file of a site, to check two builds made the same data."""
    digest = hashlib.sha256()
    for path in sorted((out / "data" / "runs").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def measure_cold(work: Path, count: int, repeats: int, light: bool = True) -> dict:
    runs = synthetic_runs(work, count, STEPS, METRICS)
    builds = [("cold", dict(BUILD_ENV, PYTHONPATH=str(REPO_ROOT)))]
    if light:
        builds.append(("cold_json", light_install_env(work / "no-msgspec")))
    samples: dict[str, list] = {"floor": [], "json_floor": [], "cold": [], "cold_json": []}
    sites = work / f"cold-sites-{count}"
    # Each round builds into a folder never used before, and the rounds' sites are removed only at
    # the end. This machine's ext4 has no journal, and there the kernel does not reuse an inode
    # freed in the last minute (five, while its block is not written back), checking each such
    # inode in turn: a build into the folder the previous round had just removed spent 0.5-1.3 s
    # more system CPU creating its 3,000 files and folders (perf: find_inode_bit,
    # recently_deleted). That is the benchmark's own clean-up, which the floor (it writes
    # nothing) never pays.
    shutil.rmtree(sites, ignore_errors=True)
    try:
        for round_number in range(repeats):  # interleaved, so a busy moment hits all four alike
            samples["floor"].append(floor_s(MSGSPEC_FLOOR_CODE, runs))
            samples["json_floor"].append(floor_s(JSON_FLOOR_CODE, runs))
            for name, env in builds:
                samples[name].append(timed_build(runs, sites / f"{name}-{round_number}", env))
        same = None
        if light:
            last = repeats - 1
            same = run_data_digest(sites / f"cold-{last}") == run_data_digest(sites / f"cold_json-{last}")
            assert same, "the builds with msgspec and with json made different run data files"
    finally:
        shutil.rmtree(sites, ignore_errors=True)
    return {"runs": count, "lines": samples["floor"][0]["lines"],
            "floor_s": median(floor["seconds"] for floor in samples["floor"]),
            "floor_cpu_s": median(floor["cpu_s"] for floor in samples["floor"]),
            "json_floor_s": median(floor["seconds"] for floor in samples["json_floor"]),
            "cold_s": median(wall for wall, _ in samples["cold"]), "cold_cpu_s": median(cpu for _, cpu in samples["cold"]),
            "cold_json_s": median(wall for wall, _ in samples["cold_json"]) if light else None,
            "cold_json_cpu_s": median(cpu for _, cpu in samples["cold_json"]) if light else None,
            "same_run_data": same}


def measure_rebuild(work: Path, count: int) -> dict:
    runs = synthetic_runs(work, count, STEPS, METRICS)
    env = dict(BUILD_ENV, PYTHONPATH=str(REPO_ROOT))
    out = work / f"cold-rebuild-{count}"
    shutil.rmtree(out, ignore_errors=True)
    cold_wall, cold_cpu = timed_build(runs, out, env)
    folders = sorted(path for path in runs.iterdir() if path.is_dir())
    rebuilds, scans = [], []
    for position in range(REBUILD_REPEATS):
        append_point(folders[(position * 7919 + 3) % len(folders)])
        rebuilds.append(timed_build(runs, out, env, full=False))
        scans.append(scan_floor_s(runs))
    return {"runs": count, "cold_s": cold_wall, "cold_cpu_s": cold_cpu,
            "rebuild_s": median(wall for wall, _ in rebuilds), "rebuild_cpu_s": median(cpu for _, cpu in rebuilds),
            "scan_floor_s": median(scans)}


BREAKDOWN_STEPS = ("decode (record_chunks)", "read (load_run, CSV spool)", "extra files (load_source)", "redact",
                   "render page", "run data (run_data_json)", "write files", "index row")


def step_breakdown(runs: Path, count: int) -> dict[str, float]:
    """{step: CPU ms per run} of rendering the first ``count`` runs of ``runs``, step by step."""
    theme = resolve_theme(None)
    settings = PageSettings("Experiments", theme, plan_assets(theme.static_dirs)[1], "tracker", None, None)
    renderer = Renderer(theme, auto_reload=False)  # as a build's worker renders (run_pages.render_run)
    folders = sorted(path for path in runs.iterdir() if path.is_dir())[:count]
    spent = dict.fromkeys(BREAKDOWN_STEPS, 0.0)

    def timed(step, function, *args, **kwargs):
        started = time.process_time()
        result = function(*args, **kwargs)
        spent[step] += time.process_time() - started
        return result

    # the cycle collector paused, as render_run pauses it for each run
    with tempfile.TemporaryDirectory() as staging, warnings.catch_warnings(), cyclic_gc_paused():
        warnings.simplefilter("ignore")
        for folder in map(str, folders):
            Path(folder, "events.jsonl").read_bytes()  # in the page cache, as for the floor, which reads first
            timed(BREAKDOWN_STEPS[0], lambda: [None for _ in record_chunks(f"{folder}/events.jsonl", Problems())])
            csv = CsvSpool(staging, partial(created_time, folder), redact_tokens,
                           hold_records=PAGE_POINTS_PER_SERIES)
            run = timed(BREAKDOWN_STEPS[1], read_run, folder, on_metrics=csv)
            csv.discard()
            source = timed(BREAKDOWN_STEPS[2], load_source, run)
            timed(BREAKDOWN_STEPS[3], redact_source, source)
            page = timed(BREAKDOWN_STEPS[4], lambda: renderer.render(
                "run.html", run_context(settings.title, source) | settings.common("../../", run_url(source),
                                                                                  run_description(run)), folder))
            data = timed(BREAKDOWN_STEPS[5], lambda: data_script_text("runs", run.id, run_data_json(source)))
            timed(BREAKDOWN_STEPS[6], lambda: (write_text(staging, run_url(source), page),
                                               write_text(staging, run_data_file(source.slug), data)))
            timed(BREAKDOWN_STEPS[7], lambda: script_json(index_row(source)))
    return {step: seconds * 1000 / max(1, len(folders)) for step, seconds in spent.items()}


def render_report(results: dict) -> str:
    cold, rebuild = results["cold"], results.get("rebuild")
    ratio = cold["cold_s"] / cold["floor_s"]
    cpu_ratio = cold["cold_cpu_s"] / cold["floor_cpu_s"]
    rows = [[f"{cold['runs']:,}", f"{cold['lines']:,}", f"{cold['floor_s']:.2f}", f"{cold['floor_cpu_s']:.2f}",
             f"{cold['json_floor_s']:.2f}", f"{cold['cold_s']:.2f}", f"{cold['cold_cpu_s']:.2f}", f"{ratio:.1f}x",
             f"{cpu_ratio:.1f}x"] + ([f"{cold['cold_json_s']:.2f}", f"{cold['cold_json_cpu_s']:.2f}",
                                      f"{cold['cold_json_cpu_s'] / cold['cold_cpu_s']:.2f}x"]
                                     if cold["cold_json_s"] is not None else ["not built"] * 3)]
    parts = [
        f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
        f"{results['machine']}; load average {results['load_before']} before, {results['load_after']} after.",
        f"Synthetic finished runs of {STEPS:,} steps x {METRICS} metrics (bench/synthetic_runs.py). The floor is one "
        "process that decodes every line of every events file with msgspec, the library the reader decodes "
        "with, and keeps nothing; the json floor does the same with the standard library. The cold build is "
        "`tracker build --full` into an empty folder in a fresh process (it spreads the runs over the cores); "
        "CPU is the user + system time of its process tree, workers included (on a shared machine, the "
        "steadier number). \"Light install\" is the same build with msgspec "
        "blocked in every process, so the reader decodes with json as before; both builds made the same run "
        f"data files byte for byte. Medians of {results['repeats']} interleaved rounds.",
        markdown_table(["Runs", "Record lines", "Floor s (msgspec)", "Floor CPU s", "json floor s", "Cold build s",
                        "Cold CPU s", "Cold / floor", "Cold CPU / floor CPU", "Light install build s",
                        "Light install CPU s", "Light / msgspec CPU"], rows),
        f"Target: a cold build within {MAX_COLD_TO_FLOOR:.0f}x its floor: "
        f"{'met' if ratio <= MAX_COLD_TO_FLOOR else 'not met'} ({ratio:.1f}x wall, {cpu_ratio:.1f}x CPU).",
    ]
    breakdown = results.get("breakdown")
    if breakdown:
        floor_ms = cold["floor_cpu_s"] * 1000 / cold["runs"]
        parts.append(f"Where a run page's CPU time goes, each step timed alone over {breakdown['runs']} of the runs "
                     "in one process (`--breakdown`; the decode is timed alone, then again inside the read):")
        parts.append(markdown_table(["Step", "CPU ms per run", "x floor"],
                                    [[step, f"{ms:.2f}", f"{ms / floor_ms:.2f}x"]
                                     for step, ms in breakdown["steps"].items()]))
    if rebuild:
        parts.append(markdown_table(
            ["Runs", "Cold build s", "Cold CPU s", "One changed run rebuilt s", "Rebuild CPU s", "Scan floor s",
             "Rebuild / scan floor"],
            [[f"{rebuild['runs']:,}", f"{rebuild['cold_s']:.1f}", f"{rebuild['cold_cpu_s']:.1f}",
              f"{rebuild['rebuild_s']:.2f}", f"{rebuild['rebuild_cpu_s']:.2f}", f"{rebuild['scan_floor_s']:.2f}",
              f"{rebuild['rebuild_s'] / rebuild['scan_floor_s']:.1f}x"]]))
        met = rebuild["rebuild_s"] < MAX_REBUILD_S
        parts.append(f"Target: one changed run among {rebuild['runs']:,} rebuilt in under {MAX_REBUILD_S:.0f} s: "
                     f"{'met' if met else 'not met'} ({rebuild['rebuild_s']:.2f} s, median of {REBUILD_REPEATS}, "
                     "a different run each time).")
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs of the cold builds (default 1000)")
    parser.add_argument("--rebuild-runs", type=int, default=10000,
                        help="runs of the one-changed-run rebuild (default 10000; 0 skips it)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the cold measures")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-site",
                        help="where synthetic runs and sites go (shared with bench_site.py)")
    parser.add_argument("--output", type=Path, help="write the Markdown section here too")
    parser.add_argument("--no-light", dest="light", action="store_false",
                        help="leave out the light-install build (msgspec blocked)")
    parser.add_argument("--breakdown", type=int, default=0, metavar="N",
                        help="time each step of a run page over N of the cold runs (default 0: not done)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    print(f"{args.runs} runs, cold ...", file=sys.stderr, flush=True)
    cold = measure_cold(args.work, args.runs, args.repeats, args.light)
    print(json.dumps(cold), file=sys.stderr, flush=True)
    breakdown = None
    if args.breakdown:
        steps = step_breakdown(synthetic_runs(args.work, args.runs, STEPS, METRICS), args.breakdown)
        breakdown = {"runs": min(args.breakdown, args.runs), "steps": steps}
        print(json.dumps(breakdown), file=sys.stderr, flush=True)
    rebuild = None
    if args.rebuild_runs:
        print(f"{args.rebuild_runs} runs, rebuild ...", file=sys.stderr, flush=True)
        rebuild = measure_rebuild(args.work, args.rebuild_runs)
        print(json.dumps(rebuild), file=sys.stderr, flush=True)
    command = "python bench/bench_cold_read.py" + "".join(
        f" {flag} {value}" for flag, value, default in (("--runs", args.runs, 1000),
                                                        ("--rebuild-runs", args.rebuild_runs, 10000),
                                                        ("--repeats", args.repeats, 3),
                                                        ("--breakdown", args.breakdown, 0)) if value != default)
    command += "" if args.light else " --no-light"
    results = {**run_facts(command, load_before), "repeats": args.repeats, "cold": cold, "rebuild": rebuild,
               "breakdown": breakdown}
    report = HEADING + "\n\n" + render_report(results)
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
