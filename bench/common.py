"""Helpers shared by the benchmarks: timing, subprocess runs, machine facts, Markdown output.

The machines these run on are shared and noisy, so every benchmark repeats a measurement, keeps
the median, and reports it as a ratio to a baseline measured in the same process and session.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_DOC = REPO_ROOT / "docs" / "benchmarks.md"
RESULT_PREFIX = "BENCH_RESULT "  # children print one line starting with this, then JSON
CHILD_TIMEOUT_S = 300.0
# Children run as an installed tracker does, with Python's bytecode cache: a shell that sets
# PYTHONDONTWRITEBYTECODE (this machine's does) would time the compiling of every module imported
# (~70 ms of a build, 27 ms of tracker.init()'s 45).
BYTECODE_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_sampling_tree(argv: list[str], sample_tree, interval_s: float, **popen) -> float:
    """Wall seconds of running ``argv`` to its end, calling ``sample_tree(processes)`` with the
    process and its descendants (psutil.Process) every ``interval_s`` meanwhile: rusage misses
    workers nobody waits for (a forkserver's). Raises RuntimeError naming the command when it fails."""
    import psutil

    started = time.perf_counter()
    process = psutil.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                tree = [process] + process.children(recursive=True)
            except psutil.Error:
                tree = []
            sample_tree(tree)
            done.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {process.returncode}: {stderr.decode()[-500:]}")
    return wall


class ChildFailed(Exception):
    """A benchmark subprocess exited badly, timed out or printed no result; ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def wall_and_cpu(argv: list[str], *, env: dict | None = None, cwd=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``argv`` in a fresh process, stdout dropped: the CPU is its
    rusage, which holds every child it waited for (a build's forked workers and stamp checks, git).
    Raises naming the command and the end of its stderr when it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    stderr = process.stderr.read()  # to its end: the command and its children have closed it
    process.stderr.close()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {code}: {stderr.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def median(samples) -> float:
    return statistics.median(list(samples))


def repeat(measure, times: int) -> list:
    """Call ``measure()`` ``times`` times and return the results in order."""
    return [measure() for _ in range(times)]


def emit_result(result: dict) -> None:
    """Print a child's result where ``run_child`` finds it, whatever else the child printed."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_child(argv: list[str], *, env: dict | None = None, cwd=None, timeout_s: float = CHILD_TIMEOUT_S) -> dict:
    """Run ``argv`` in a fresh process (its own session) and return the JSON it emitted.

    On timeout the whole process group is killed, since some peers start helper processes.
    """
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ChildFailed(f"timed out after {timeout_s:.0f} s") from None
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    last = (stderr.strip().splitlines() or stdout.strip().splitlines() or ["no output"])[-1]
    raise ChildFailed(f"exit {process.returncode}: {last[:200]}")


def python_startup_s(repeats: int) -> float:
    """Median wall time of ``python -c pass``: the floor under every fresh-process number."""
    def once():
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return time.perf_counter() - start
    return median(repeat(once, repeats))


_IMPORT_PROBE = (
    "import time; start = time.perf_counter(); import {module}; elapsed = time.perf_counter() - start; "
    "import json; print({prefix!r} + json.dumps({{'import_s': elapsed}}))"
)


def import_time_s(module: str, repeats: int, env: dict | None = None) -> float:
    """Median time of ``import module`` in a fresh interpreter, timed inside the child."""
    code = _IMPORT_PROBE.format(module=module, prefix=RESULT_PREFIX)
    return median(run_child([sys.executable, "-c", code], env=env, cwd=REPO_ROOT)["import_s"]
                  for _ in range(repeats))


def machine_description() -> str:
    """CPU model, core count, Python version and OS, for the header of a report."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision(*paths: str) -> str:
    """Short commit of the checkout, noting uncommitted changes under ``paths`` (the code measured)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", *paths)
    return f"{commit} with uncommitted changes" if changed else commit


def today() -> str:
    return datetime.date.today().isoformat()


def run_facts(command: str, load_before: float) -> dict:
    """What every site bench's report states beside its numbers: the command, when, on which code and
    machine, and the load around it (the machine is shared)."""
    return {"command": command, "date": today(), "revision": git_revision("tracker", "sitegen", "themes"),
            "machine": machine_description(),
            "load_before": f"{load_before:.1f}", "load_after": f"{os.getloadavg()[0]:.1f}"}


def print_report(report: str, output: Path | None) -> None:
    """Print a bench's report, and write it to ``output`` too when one was given."""
    print(report)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table; cells are turned into strings as they are."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_section(document: str, heading: str, body: str) -> str:
    """Put ``heading`` + ``body`` in place of that section of ``document`` (appended if absent).

    A section runs from its ``## `` heading to the next heading of the same or a higher level,
    so the other sections of the file are left as they are.
    """
    section = f"{heading}\n\n{body.strip()}\n"
    level = len(heading) - len(heading.lstrip("#"))
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^#{{1,{level}}} |\Z)", re.M | re.S)
    if pattern.search(document):
        return pattern.sub(lambda _: section + "\n", document, count=1).rstrip("\n") + "\n"
    return document.rstrip("\n") + "\n\n" + section if document.strip() else section


def write_section(heading: str, body: str, path: Path = BENCHMARKS_DOC) -> None:
    """Replace one section of the benchmarks document, creating the file when needed."""
    document = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(document, heading, body), encoding="utf-8")


def report_section(heading: str, report: str, path: Path = BENCHMARKS_DOC) -> None:
    """Print a bench's report and put it in ``path`` as the section under ``heading``, saying so on stderr."""
    print(report)
    write_section(heading, report, path)
    print(f"wrote the '{heading}' section of {path}", file=sys.stderr)


def us(seconds: float) -> str:
    """Seconds as microseconds for a table cell: two decimals while they still mean something."""
    micro = seconds * 1e6
    return f"{micro:.2f}" if micro < 100 else f"{micro:,.0f}"


def ms(seconds: float) -> str:
    """Seconds as milliseconds for a table cell."""
    return f"{seconds * 1e3:.1f}"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"
