"""Python's cycle collector paused while a reader builds many small dicts and lists that hold no cycles.

Reading a run allocates thousands of containers a chunk (each record's dict and its values), and
most of them live on (the listing's rows, a run's columns). Each 700 allocations start a collection
of the youngest ones, and the survivors, promoted again and again, are rescanned by the older
generations' collections: 10% to 40% of the CPU of reading 10,000 runs from their ends, and about a
fifth of load_run's. JSON values hold no reference cycles, so nothing is left for the collector to
find: what the block frees, reference counting frees.
"""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def cyclic_gc_paused():
    """The cycle collector off for the block, and as it was after (a caller that paused it keeps
    it paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
