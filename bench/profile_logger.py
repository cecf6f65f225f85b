"""Where the time of ``run.log()`` + ``finish()`` goes, on the training thread and the writer thread.

    python bench/profile_logger.py [--calls 100000] [--values 10] [--top 15]

cProfile only sees the thread that enables it, so every thread started during the run gets its
own profiler (through ``threading.setprofile``); each thread's top functions by own time are
printed. Profiling slows everything several times over: read the shares, not the totals.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time

import tracker


def profile_run(folder: str, values: dict, calls: int) -> dict[str, cProfile.Profile]:
    """Profiles of one run, by thread name (the training thread is "main")."""
    profiles: dict[str, cProfile.Profile] = {}

    def start_thread_profiler(*_):
        profile = cProfile.Profile()
        profiles[threading.current_thread().name] = profile
        profile.enable()  # replaces this hook for the thread from here on

    threading.setprofile(start_thread_profiler)  # before init(), which starts the writer thread
    run = tracker.init(project="bench", name="profile", dir=folder, capture=False)
    main = profiles["main"] = cProfile.Profile()
    main.enable()
    for step in range(calls):
        run.log(values, step=step)
    run.finish()
    main.disable()
    threading.setprofile(None)
    return profiles


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="log calls (default 100,000)")
    parser.add_argument("--values", type=int, default=10, help="scalars per call (default 10)")
    parser.add_argument("--top", type=int, default=15, help="functions shown per thread")
    args = parser.parse_args(argv)
    values = {f"metric_{index}": 0.1 * index + 0.01 for index in range(args.values)}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as folder:
        start = time.perf_counter()
        profiles = profile_run(folder, values, args.calls)
        elapsed = time.perf_counter() - start
    print(f"{args.calls:,} calls of {args.values} scalars, log + finish under the profiler: {elapsed:.2f} s")
    for name, profile in profiles.items():
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        print(f"\n== thread {name}\n{out.getvalue().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
