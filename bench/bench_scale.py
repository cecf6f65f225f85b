"""Scale benchmark (issue 17): many runs on the local file system, a 100,000-row index page, a 64-writer run.

    python bench/bench_scale.py [--runs 100000] [--steps 100] [--index-rows 100000] [--writers 64]
                                [--writer-steps 1000] [--repeats 3] [--parts runs,writers,rebuild] [--work DIR]
                                [--keep] [--output /tmp/bench_sections/scale.md]

Three parts, each a ratio to a floor measured in the same run:

1. ``--runs`` synthetic finished runs of ``--steps`` steps (bench/synthetic_runs.py), built cold
   once; then, ``--repeats`` times, one record appended to one run (a different run each time)
   and ``tracker ls --runs DIR`` and ``tracker build`` each run in a fresh process, each followed
   by the floor: a fresh process that lists every run folder and stats its files (the least
   either must do to see what changed; bench_site.py's scan floor);
2. the index page in headless Chromium (bench_site.py ``measure_index``): first the built site's
   own index, then the same site with ``data/index.js`` holding ``--index-rows`` rows, made by
   copying the built rows (docs/site-data.md's row shape, each with its own id, name and slug):
   a cold build of 100,000 runs takes longer than this shared 2-core machine allows;
3. a run of ``--writers`` writers (one events file each, as the ranks of a job write them), each
   logging its own metric series of ``--writer-steps`` steps, against a run of one writer that logs
   the same points (the same steps, all the series in each record): ``tracker build`` of that one
   run, cold, in a fresh process, interleaved, median kept.

``--parts rebuild`` measures the rebuild of part 1 alone (no listing, no page), with the CPU time
of the build and of the floor beside their wall times.

Everything generated lives under --work (a temporary folder by default) and is deleted at the end
unless --keep is given; a kept runs folder and site are measured again without being remade. The
commands run outside any git checkout (COMMANDS_CWD says why).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_site import BUILD_ENV, SCAN_FLOOR_CODE, append_point, build_argv, measure_index
from common import git_revision, machine_description, markdown_table, median, today, verdict, wall_and_cpu
from synthetic_runs import START_TIME, STEP_S, write_runs

from tracker.end_state import FileState
from tracker.line_encoding import BatchEncoder, queued_metrics
from tracker.listing import LISTING_FILE

from sitegen.index_data import index_files, index_of_text
from sitegen.render import script_json

HEADING = "## Scale: 100,000 runs, a 100,000-row index, a 64-writer run"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/scale.md")
TARGET_CHANGED_S = 3.0        # tracker ls / rebuild after one changed run, on 2 cores
TARGET_CHANGED_RATIO = 5.0    # ... against the scan floor
TARGET_READY_MS = 1000.0      # the 100,000-row index interactive
TARGET_SEARCH_MS = 100.0      # a search keystroke answered
TARGET_WRITERS_RATIO = 2.0    # the many-writer run's build against one writer's with the same points
# The commands run outside any git checkout: inside one (this repository), a build resolves every
# distinct commit of the runs with git for the compare view's diffs (sitegen/commit_diffs.py), and
# each synthetic run has a commit of its own, which real runs do not.
COMMANDS_CWD = tempfile.gettempdir()


def timed(argv: list[str]) -> float:
    """Wall seconds of ``argv`` in a fresh process, output dropped; raises naming the command when it fails."""
    return timed_with_cpu(argv)[0]


def timed_with_cpu(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and of the children it waited for, as wait4 counts
    them: tracker build's forked stamp checks, sitegen/stamp_checks.py, and its render workers): on a
    shared machine the wall time is mostly the wait for a core, the CPU time what the command costs."""
    return wall_and_cpu(argv, env=BUILD_ENV, cwd=COMMANDS_CWD)


def scan_floor_s(runs: Path) -> float:
    return timed([sys.executable, "-c", SCAN_FLOOR_CODE, str(runs)])


def ls_argv(runs: Path) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", "ls", "--runs", str(runs)]


def many_runs(work: Path, count: int, steps: int, list_first: bool = True) -> tuple[Path, Path, dict]:
    """The runs folder and its site, written and built cold unless kept from an earlier invocation,
    and the times of doing so (None: kept). ``list_first``: also time a first ``tracker ls``."""
    runs, site = work / f"runs-{count}x{steps}", work / f"site-{count}"
    written_s = first_ls_s = cold_s = None  # None: kept from an earlier invocation (--keep)
    if not (runs / ".complete").exists():
        shutil.rmtree(runs, ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)
        started = time.perf_counter()
        write_runs(str(runs), count, steps)
        written_s = time.perf_counter() - started
        (runs / ".complete").write_text("written by bench/synthetic_runs.py\n")
        (runs / LISTING_FILE).unlink(missing_ok=True)
        if list_first:
            first_ls_s = timed(ls_argv(runs))
    if not (site / "index.html").exists():
        cold_s = timed(build_argv(runs, site))
    return runs, site, {"runs": count, "steps": steps, "written_s": written_s, "first_ls_s": first_ls_s,
                        "cold_s": cold_s, "site": str(site)}


def measure_many_runs(work: Path, count: int, steps: int, repeats: int) -> dict:
    """Part 1: write, build cold, list once; then ls and rebuild after one changed run, each beside its floor."""
    runs, site, made = many_runs(work, count, steps)
    folders = sorted(path for path in runs.iterdir() if path.is_dir())
    ls_s, ls_floor_s, build_s, build_floor_s = [], [], [], []
    for position in range(repeats):
        append_point(folders[(position * 7919 + 1) % len(folders)])
        ls_s.append(timed(ls_argv(runs)))
        ls_floor_s.append(scan_floor_s(runs))
        append_point(folders[(position * 104729 + 3) % len(folders)])
        build_s.append(timed(build_argv(runs, site)))
        build_floor_s.append(scan_floor_s(runs))
    return {**made, "ls_s": median(ls_s), "ls_floor_s": median(ls_floor_s),
            "ls_ratio": median(a / b for a, b in zip(ls_s, ls_floor_s)),
            "build_s": median(build_s), "build_floor_s": median(build_floor_s),
            "build_ratio": median(a / b for a, b in zip(build_s, build_floor_s))}


def measure_rebuilds(work: Path, count: int, steps: int, repeats: int) -> dict:
    """The rebuild alone: ``repeats`` times, one record appended to one run, then ``tracker build``
    and the scan floor, each a fresh process, with the CPU time of each beside its wall time (on
    this shared machine the wall time is mostly the wait for a core)."""
    runs, site, made = many_runs(work, count, steps, list_first=False)
    folders = sorted(path for path in runs.iterdir() if path.is_dir())
    builds, floors = [], []
    for position in range(repeats):
        append_point(folders[(position * 104729 + 3) % len(folders)])
        builds.append(timed_with_cpu(build_argv(runs, site)))
        floors.append(timed_with_cpu([sys.executable, "-c", SCAN_FLOOR_CODE, str(runs)]))
    return {**made, "build_s": median(wall for wall, _ in builds), "build_cpu_s": median(cpu for _, cpu in builds),
            "floor_s": median(wall for wall, _ in floors), "floor_cpu_s": median(cpu for _, cpu in floors),
            "ratio": median(a[0] / b[0] for a, b in zip(builds, floors)),
            "cpu_ratio": median(a[1] / b[1] for a, b in zip(builds, floors)),
            "python_cpu_s": timed_with_cpu([sys.executable, "-c", "pass"])[1]}


def widen_index(site: Path, rows_wanted: int) -> int:
    """Rewrite the site's data/index.js with ``rows_wanted`` rows copied from its own, each its own
    run, written as a build writes it (sitegen/index_data.py index_files)."""
    index_file = site / "data" / "index.js"
    index = index_of_text(index_file.read_text(encoding="utf-8"))
    built = index["runs"]
    rows = []
    for number in range(rows_wanted):
        row = dict(built[number % len(built)])
        slug = f"scale-{number:06d}"
        row.update(id=slug, name=f"sweep-{number}", slug=slug, url=f"runs/{slug}/index.html",
                   created=START_TIME + number * 60.0)
        rows.append(row)
    errors = [(item["path"], item["reason"]) for item in index["unreadable"]]
    texts = index_files([script_json(row) for row in rows], errors)
    index_file.write_text(texts["data/index.js"], encoding="utf-8")
    return len(rows)


def measure_index_pages(site: Path, built_rows: int, rows_wanted: int, repeats: int) -> list[dict]:
    """Part 2: the built index, then the same page over ``rows_wanted`` rows."""
    pages = [{"rows": built_rows, **measure_index(site, repeats)}]
    if rows_wanted > built_rows:
        pages.append({"rows": widen_index(site, rows_wanted), **measure_index(site, repeats)})
    return pages


def write_writer_file(path: Path, run_id: str, writer: str, rank: int | None, world: int | None,
                      steps: int, keys: list[str]) -> None:
    """One writer's events file through the writer's own encoder (as synthetic_runs.write_run)."""
    created = START_TIME
    head = [{"type": "run", "schema": 1, "id": run_id, "project": "scale", "name": run_id, "group": None,
             "time": created},
            {"type": "start", "writer": writer, "time": created, "pid": 1000 + (rank or 0), "host": "bench",
             "user": "bench", "resumed": False, "rank": rank, "local_rank": rank, "world_size": world,
             "node": "bench", "heartbeat_interval_s": 2.0}]
    body = [queued_metrics(step, created + step * STEP_S,
                           {key: 1.0 / (step + 1) + position * 1e-3 for position, key in enumerate(keys)})
            for step in range(steps)]
    body.append({"type": "end", "writer": writer, "time": created + steps * STEP_S, "status": "finished",
                 "error": None})
    state = FileState()
    state.add_head(head)
    path.write_bytes(BatchEncoder(_refuse).encode(head) + BatchEncoder(_refuse, state).encode(body))


def _refuse(cause: str, message: str) -> None:
    raise RuntimeError(message)


def write_writers_run(runs: Path, writers: int, steps: int, split: bool) -> None:
    """The run ``writers-N``: N writers with a series each (``split``), or one writer with all N series."""
    folder = runs / "writers-run"
    folder.mkdir(parents=True)
    keys = [f"rank{rank}/loss" for rank in range(writers)]
    if not split:
        write_writer_file(folder / "events.jsonl", "writers-run", "w0", None, None, steps, keys)
        return
    for rank in range(writers):
        name = "events.jsonl" if rank == 0 else f"events-w{rank}.jsonl"
        write_writer_file(folder / name, "writers-run", f"w{rank}", rank, writers, steps, [keys[rank]])


def measure_writers(work: Path, writers: int, steps: int, repeats: int) -> dict:
    """Part 3: cold builds of the many-writer run and of the one-writer run, interleaved."""
    cases = {"many": work / "writers-many", "one": work / "writers-one"}
    write_writers_run(cases["many"], writers, steps, split=True)
    write_writers_run(cases["one"], writers, steps, split=False)
    seconds = {name: [] for name in cases}
    for _ in range(repeats):
        for name, runs in cases.items():
            site = work / f"site-{name}"
            shutil.rmtree(site, ignore_errors=True)
            seconds[name].append(timed_with_cpu(build_argv(runs, site)))
    walls = {name: [wall for wall, _ in samples] for name, samples in seconds.items()}
    cpus = {name: [cpu for _, cpu in samples] for name, samples in seconds.items()}
    return {"writers": writers, "steps": steps, "many_s": median(walls["many"]), "one_s": median(walls["one"]),
            "ratio": median(a / b for a, b in zip(walls["many"], walls["one"])),
            "many_cpu_s": median(cpus["many"]), "one_cpu_s": median(cpus["one"]),
            "cpu_ratio": median(a / b for a, b in zip(cpus["many"], cpus["one"])),
            "python_s": timed([sys.executable, "-c", "pass"])}


def render(results: dict, command: str) -> str:
    rows, notes = [], []
    if "many" in results:
        many_rows, many_notes = _many_runs_report(results["many"], results["pages"], results["repeats"])
        rows += many_rows
        notes += many_notes
    if "rebuilds" in results:
        rows += _rebuild_rows(results["rebuilds"])
        notes.append(_rebuild_note(results["rebuilds"], results["repeats"]))
    if "writers" in results:
        rows += _writers_rows(results["writers"])
        notes.append(_writers_note(results["writers"], results["repeats"]))
    load = results["load_average"]
    text = [
        f"`{command}` on {today()} at {results['revision']}; {machine_description()}; one-minute load "
        f"average {load[0]:.1f} before and {load[1]:.1f} after.",
        "",
        markdown_table(["measure", "value", "floor", "ratio", "target", "met"], rows),
        "",
        *notes,
    ]
    return "\n".join(text) + "\n"


def _many_runs_report(many: dict, pages: list[dict], repeats: int) -> tuple[list, list]:
    runs = many["runs"]
    rows = [
        [f"`tracker ls` after one changed run, {runs:,} runs", f"{many['ls_s']:.2f} s",
         f"{many['ls_floor_s']:.2f} s", f"{many['ls_ratio']:.1f}x",
         f"<= {TARGET_CHANGED_S:g} s, <= {TARGET_CHANGED_RATIO:g}x",
         verdict(many["ls_s"] <= TARGET_CHANGED_S and many["ls_ratio"] <= TARGET_CHANGED_RATIO)],
        [f"`tracker build` after one changed run, {runs:,} runs", f"{many['build_s']:.2f} s",
         f"{many['build_floor_s']:.2f} s", f"{many['build_ratio']:.1f}x",
         f"<= {TARGET_CHANGED_S:g} s, <= {TARGET_CHANGED_RATIO:g}x",
         verdict(many["build_s"] <= TARGET_CHANGED_S and many["build_ratio"] <= TARGET_CHANGED_RATIO)],
    ]
    for page in pages:
        rows.append([f"index interactive, {page['rows']:,} rows", f"{page['ready_ms']:.0f} ms",
                     f"{page['blank_ms']:.0f} ms (blank page, same data)",
                     f"{page['ready_ms'] / page['blank_ms']:.1f}x", f"<= {TARGET_READY_MS:g} ms",
                     verdict(page["ready_ms"] <= TARGET_READY_MS)])
        rows.append([f"search keystroke answered, {page['rows']:,} rows", f"{page['search_ms']:.0f} ms", "-", "-",
                     f"<= {TARGET_SEARCH_MS:g} ms", verdict(page["search_ms"] <= TARGET_SEARCH_MS)])
    notes = [
        f"- {runs:,} finished runs of {many['steps']} steps x 5 metrics (bench/synthetic_runs.py) on the local file "
        f"system, written in {_seconds(many['written_s'])}; first `tracker ls` (no listing cache) "
        f"{_seconds(many['first_ls_s'])}; cold build {_seconds(many['cold_s'])}. Commands run outside any git "
        f"checkout (COMMANDS_CWD). Changed-run times are medians of {repeats} fresh processes, "
        "each after one record appended to a different run; the floor is a fresh process that lists every run "
        "folder and stats its files, measured right after each.",
        f"- The index rows beyond the {pages[0]['rows']:,} built are copies of the built rows (the documented row "
        "shape, docs/site-data.md), each with its own id, name and slug; \"blank\" loads only the same "
        "data/index.js. The search types `optimizer:adam` and times the table's next change (the 40 ms pause "
        "the page waits after a keystroke above 2,000 rows included).",
    ]
    return rows, notes


def _seconds(value: float | None) -> str:
    return "(kept from an earlier invocation)" if value is None else f"{value:.1f} s"


def _rebuild_rows(rebuilds: dict) -> list:
    runs = rebuilds["runs"]
    return [
        [f"`tracker build` after one changed run, {runs:,} runs, wall", f"{rebuilds['build_s']:.2f} s",
         f"{rebuilds['floor_s']:.2f} s", f"{rebuilds['ratio']:.1f}x",
         f"<= {TARGET_CHANGED_S:g} s, <= {TARGET_CHANGED_RATIO:g}x",
         verdict(rebuilds["build_s"] <= TARGET_CHANGED_S and rebuilds["ratio"] <= TARGET_CHANGED_RATIO)],
        ["the same, CPU of the process and its child", f"{rebuilds['build_cpu_s']:.2f} s",
         f"{rebuilds['floor_cpu_s']:.2f} s",
         f"{rebuilds['cpu_ratio']:.1f}x", f"<= {TARGET_CHANGED_S:g} s, <= {TARGET_CHANGED_RATIO:g}x",
         verdict(rebuilds["build_cpu_s"] <= TARGET_CHANGED_S and rebuilds["cpu_ratio"] <= TARGET_CHANGED_RATIO)],
    ]


def _rebuild_note(rebuilds: dict, repeats: int) -> str:
    return (f"- Rebuild: {rebuilds['runs']:,} finished runs of {rebuilds['steps']} steps x 5 metrics "
            f"(bench/synthetic_runs.py) on the local file system, written in {_seconds(rebuilds['written_s'])}, "
            f"cold build {_seconds(rebuilds['cold_s'])}; medians of {repeats} fresh processes, each after one "
            "record appended to a different run, the floor (a fresh process that lists every run folder and "
            "stats its files) right after each; CPU is the process's and its forked child's (user + system; "
            "the child checks the stamps on the second core while the build reads its manifest, and the build "
            "checks them from the other end until they meet; a fresh `python -c "
            f"pass` takes {rebuilds['python_cpu_s']:.2f} s of it).")


def _writers_rows(writers: dict) -> list:
    return [
        [f"cold build of one run, {writers['writers']} writers x {writers['steps']:,} steps, wall",
         f"{writers['many_s']:.2f} s", f"{writers['one_s']:.2f} s (one writer, same points)",
         f"{writers['ratio']:.2f}x", f"<= {TARGET_WRITERS_RATIO:g}x", verdict(writers["ratio"] <= TARGET_WRITERS_RATIO)],
        ["the same, CPU of the build process", f"{writers['many_cpu_s']:.2f} s", f"{writers['one_cpu_s']:.2f} s",
         f"{writers['cpu_ratio']:.2f}x", f"<= {TARGET_WRITERS_RATIO:g}x",
         verdict(writers["cpu_ratio"] <= TARGET_WRITERS_RATIO)],
    ]


def _writers_note(writers: dict, repeats: int) -> str:
    return (f"- The {writers['writers']}-writer run: one events file per writer, each writer its own series "
            f"`rank<i>/loss`; the one-writer run logs the same {writers['writers']} series in one record a step. "
            f"Cold `tracker build` of the run alone, fresh process, median of {repeats} interleaved "
            f"(a fresh `python -c pass` takes {writers['python_s']:.2f} s).")


PARTS = ("runs", "writers", "rebuild")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--index-rows", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--writer-steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="which parts to measure: runs (ls, rebuild and the index page), writers, "
                             "rebuild (the rebuild alone, wall and CPU)")
    parser.add_argument("--work", type=Path, help="folder for the runs and sites (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep --work's contents at the end")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}; available: {', '.join(PARTS)}")
    command = "python bench/bench_scale.py" + "".join(
        f" --{name} {getattr(args, name.replace('-', '_'))}"
        for name in ("runs", "steps", "index-rows", "writers", "writer-steps", "repeats", "parts")
        if getattr(args, name.replace("-", "_")) != parser.get_default(name.replace("-", "_")))
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {"repeats": args.repeats, "load_average": [os.getloadavg()[0]]}
    try:
        if "writers" in parts:
            print(f"{args.writers} writers ...", file=sys.stderr, flush=True)
            results["writers"] = measure_writers(work, args.writers, args.writer_steps, args.repeats)
            print(json.dumps(results["writers"]), file=sys.stderr, flush=True)
        if "rebuild" in parts:
            print(f"rebuild of {args.runs:,} runs ...", file=sys.stderr, flush=True)
            results["rebuilds"] = measure_rebuilds(work, args.runs, args.steps, args.repeats)
            print(json.dumps(results["rebuilds"]), file=sys.stderr, flush=True)
        if "runs" in parts:
            print(f"{args.runs:,} runs ...", file=sys.stderr, flush=True)
            results["many"] = measure_many_runs(work, args.runs, args.steps, args.repeats)
            print(json.dumps(results["many"]), file=sys.stderr, flush=True)
            results["pages"] = measure_index_pages(Path(results["many"]["site"]), args.runs, args.index_rows,
                                                   args.repeats)
            print(json.dumps(results["pages"]), file=sys.stderr, flush=True)
        results["revision"] = git_revision("tracker", "sitegen", "themes", "bench")
        results["load_average"].append(os.getloadavg()[0])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = render(results, command)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(f"{HEADING}\n\n{report}", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
