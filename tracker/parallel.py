"""Running one function over many items on every core, in batches, when there are enough of them.

Used where the work per item is a run folder read and parsed (``tracker ls``, ``tracker build``):
heavy enough that worker processes pay off from a few dozen runs, light enough that items go in
batches to save round trips. The function and its arguments must pickle (module-level function).
"""
from __future__ import annotations

import os


def map_on_cores(function, items: list, args: tuple = (), *, min_items: int, per_task: int,
                 progress=None) -> tuple[list, int]:
    """[function(item, *args) for item in items] in order, and how many processes computed it.

    Fewer than ``min_items`` items (or one core) run in the calling process, where starting
    workers would cost more than they save; ``progress(done, total)`` is called as results come.
    """
    workers = min(os.cpu_count() or 1, -(-len(items) // per_task))
    results: list = []
    if len(items) < min_items or workers < 2:
        for item in items:
            results.append(function(item, *args))
            if progress:
                progress(len(results), len(items))
        return results, 1
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = [items[start:start + per_task] for start in range(0, len(items), per_task)]
    # forkserver: workers start from a clean process, never a fork of one with threads (tracker serve)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        for batch in pool.map(_run_batch, [function] * len(batches), batches, [args] * len(batches)):
            results.extend(batch)
            if progress:
                progress(len(results), len(items))
    return results, workers


def _run_batch(function, items: list, args: tuple) -> list:
    return [function(item, *args) for item in items]
