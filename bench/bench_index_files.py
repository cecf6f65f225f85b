"""The build's index step (sitegen/index_data.py index_files) at 20,000 and 100,000 runs, against
the code at an earlier commit, interleaved in fresh processes (issue 17: every build pays it whole).

The rows: a site of two synthetic runs (bench/synthetic_runs.py) is built, and its first index row is
copied into ``--rows`` runs of their own (bench_index_page.synthetic_rows: ids, names, configs and
summaries vary as a sweep's do), as the build keeps them: script-safe JSON texts. Each measurement is
a fresh process that loads the texts, then takes the CPU seconds of index_files and of the floor:
msgspec decoding the same texts into dicts in one call (what any use of the rows pays). Both
versions' outputs are compared byte for byte. This checkout's process also times what a rebuild
after one changed run pays (sitegen/index_update.py updated_index_files: the file just made, one
row in the middle changed), and checks it against index_files of the changed rows.

    python bench/bench_index_files.py [--rows 20000 100000] [--repeats 3] [--base COMMIT]
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_index_page import synthetic_rows  # noqa: E402
from bench_site import BUILD_ENV, build_argv  # noqa: E402
from common import (REPO_ROOT, emit_result, markdown_table, median, print_report, run_child,  # noqa: E402
                    run_facts, verdict)
from synthetic_runs import write_runs  # noqa: E402

HEADING = "## The index's data file at 100,000 runs: index_files"
DEFAULT_OUTPUT = Path("/tmp/bench_sections/index_files.md")
DEFAULT_BASE = "ae6235f"  # the last commit whose index_files decoded every row into a dict
TARGET_S = 1.0  # of CPU at 100,000 runs: a rebuild after one changed run has 3 s in all


def row_texts(work: Path, count: int) -> Path:
    """A file of ``count`` index row texts (a JSON list of strings), made once per work folder."""
    path = work / f"rows-{count}.json"
    if path.exists():
        return path
    site = work / "site"
    if not (site / "data" / "index.js").exists():
        write_runs(str(work / "runs"), 2, steps=20)
        subprocess.run(build_argv(work / "runs", site), env=BUILD_ENV, cwd=tempfile.gettempdir(), check=True,
                       stdout=subprocess.DEVNULL)
    from sitegen.index_data import index_of_text
    from sitegen.render import script_json
    template = index_of_text((site / "data" / "index.js").read_text(encoding="utf-8"))["runs"][0]
    path.write_text(json.dumps([script_json(row) for row in synthetic_rows(template, count)]), encoding="utf-8")
    return path


def module_at(work: Path, base: str) -> Path:
    """sitegen/index_data.py as it was at ``base``."""
    path = work / f"index_data_{base}.py"
    if not path.exists():
        path.write_bytes(subprocess.run(["git", "show", f"{base}:sitegen/index_data.py"], cwd=REPO_ROOT,
                                        capture_output=True, check=True).stdout)
    return path


def child(module_file: str, texts_file: str) -> None:
    """One fresh process: the CPU seconds of index_files from ``module_file`` (this checkout's when
    empty) and of the floor, and a hash of the file it made."""
    import msgspec
    if module_file:  # loaded as a module of sitegen, so that its relative imports resolve
        spec = importlib.util.spec_from_file_location("sitegen.index_data_under_test", module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        index_files = module.index_files
    else:
        from sitegen.index_data import index_files
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    start = time.process_time()
    text = index_files(texts, [])["data/index.js"]
    index_files_s = time.process_time() - start
    del text
    gc.disable()  # as index_files pauses it
    start = time.process_time()
    rows = msgspec.json.decode("[" + ",".join(texts) + "]")
    del rows
    floor_s = time.process_time() - start
    gc.enable()
    previous = index_files(texts, [])["data/index.js"]
    digest = hashlib.sha256(previous.encode()).hexdigest()
    emit_result({"index_files_s": index_files_s, "floor_s": floor_s, "sha256": digest,
                 **({} if module_file else update_after_one_change(previous, texts))})


def update_after_one_change(previous: str, texts: list[str]) -> dict:
    """The CPU seconds of updating ``previous`` (index_files of ``texts``) after one row changed, and
    whether it is the file index_files makes of the changed rows."""
    import msgspec

    from sitegen.index_data import index_files
    from sitegen.index_update import updated_index_files
    from sitegen.render import script_json
    rows = [msgspec.json.decode(texts[0]), msgspec.json.decode(texts[len(texts) // 2])]
    changed = rows[1] | {"summary": {**(rows[1]["summary"] or {}), "loss": 0.125}, "status": "crashed"}
    texts = [*texts[:len(texts) // 2], script_json(changed), *texts[len(texts) // 2 + 1:]]
    given = {rows[0]["id"]: texts[0], changed["id"]: texts[len(texts) // 2]}
    ids = [row["id"] for row in map(msgspec.json.decode, texts)]
    start = time.process_time()
    updated = updated_index_files(previous, ids, given, [])
    update_s = time.process_time() - start
    return {"update_s": update_s, "update_same": updated == index_files(texts, [])}


def measure(work: Path, count: int, base: str, repeats: int) -> dict:
    """Medians over ``repeats`` rounds, each a fresh process for the code at ``base`` then one for this checkout."""
    texts = str(row_texts(work, count))
    variants = {"before": str(module_at(work, base)), "after": ""}
    samples = {name: [] for name in variants}
    for _ in range(repeats):
        for name, module_file in variants.items():
            samples[name].append(run_child([sys.executable, __file__, "--child", module_file, texts], cwd=REPO_ROOT))
    result = {"rows": count, "same_bytes": len({sample["sha256"] for found in samples.values() for sample in found}) == 1}
    for name, found in samples.items():
        result[name] = {"index_files_s": median(sample["index_files_s"] for sample in found),
                        "floor_s": median(sample["floor_s"] for sample in found),
                        "ratio": median(sample["index_files_s"] / sample["floor_s"] for sample in found)}
    result["update_s"] = median(sample["update_s"] for sample in samples["after"])
    result["update_ratio"] = median(sample["update_s"] / sample["floor_s"] for sample in samples["after"])
    result["update_same"] = all(sample["update_same"] for sample in samples["after"])
    return result


def report(results: list[dict], facts: dict, base: str, repeats: int) -> str:
    rows = []
    for result in results:
        for name in ("before", "after"):
            found = result[name]
            target = f"<= {TARGET_S:.0f} s" if result["rows"] >= 100_000 else ""
            met = verdict(found["index_files_s"] <= TARGET_S) if target else ""
            rows.append([f"{result['rows']:,}", f"{name} ({base})" if name == "before" else "after",
                         f"{found['index_files_s']:.2f} s", f"{found['floor_s']:.2f} s", f"{found['ratio']:.2f}x",
                         target, met])
        rows.append([f"{result['rows']:,}", "after: a rebuild's update, one row changed",
                     f"{result['update_s']:.2f} s", f"{result['after']['floor_s']:.2f} s",
                     f"{result['update_ratio']:.2f}x", "", ""])
    same = all(result["same_bytes"] for result in results)
    update_same = all(result["update_same"] for result in results)
    return "\n".join([
        HEADING, "",
        f"`{facts['command']}` on {facts['date']} at {facts['revision']}; {facts['machine']}; one-minute load "
        f"average {facts['load_before']} before and {facts['load_after']} after.", "",
        markdown_table(["runs", "code", "index_files, CPU", "floor", "ratio", "target", "met"], rows), "",
        f"- Medians of {repeats} fresh processes a version, before and after interleaved. The floor: msgspec "
        "decoding the same row texts, joined, into dicts in one call, with the cycle collector paused.",
        f"- The two versions' data/index.js are {'byte-identical' if same else '**not** byte-identical'}; the "
        "update (sitegen/index_update.py: the file just made, the middle row's summary and status changed, the "
        "rebuild's given rows that one and the first) is "
        f"{'byte-identical' if update_same else '**not** byte-identical'} to index_files of the changed rows.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, metavar=("MODULE", "TEXTS"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--base", default=DEFAULT_BASE, help="the commit to compare with (default %(default)s)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-index-files")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    results = [measure(args.work, count, args.base, args.repeats) for count in args.rows]
    command = "python bench/bench_index_files.py " + " ".join(sys.argv[1:])
    print_report(report(results, run_facts(command.strip(), load_before), args.base, args.repeats), args.output)


if __name__ == "__main__":
    main()
