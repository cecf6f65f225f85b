"""The listing cache's stamps checked by a forked child while the parent decodes the cache's rows (tracker ls only).

A listing after a few changed runs spends most of its time on two things that need each other
only at the end: decoding the listing cache's rows (0.5 s for 100,000 runs) and the stats that
tell whether each run's cached stamp holds (two a run, 0.7 s; run_keys.flat_stamp_holds).
Threads do not overlap them (both hold the GIL), so with a core to spare ``tracker ls`` forks a
child (forked_work.py) that decodes only the cache's keys and stamps (listing_cache.cached_stamps:
rows skipped, a fifth of the time), checks the stamps of the first two thirds of the folders and
sends back, for each, the key of its entry when the stamp holds, else "". The parent takes a
cached row when its entry's key is the one sent: the stamp that held was made with that key, so
the folder's files have it now, and a row of that key is the row (listing.py); any other folder
it scans; the last third it checks itself once the rows are decoded. Only the command line
forks: never ``tracker.runs()`` or anything else a training script calls, whose process may
hold threads, locks or a GPU.
"""
from __future__ import annotations

import os

from .forked_work import ForkedWork, fork_work
from .listing_cache import cached_stamps, reads_stamps_alone
from .run_keys import flat_stamp_holds

FORKED_MIN_FOLDERS = 4_000  # fewer folders are checked in less time than a fork and its pipe take
# The child checks this share of the folders, from the first, and the parent the others once it has
# decoded the rows: the child decodes the stamps (0.3 s of CPU for 100,000 runs) and checks two
# thirds (0.5 s), while the parent decodes (0.55 s) and checks a third (0.25 s).
CHILD_SHARE = 2 / 3
# The child's work is the parent's (the stats) plus decoding the stamps again: it pays only with a
# core to spare. Measured on 2 cores (bench/bench_ls_scale.py, 100,000 runs, the child forced
# against none): 1.44x the floor against 1.33x at a one-minute load of 4.5, 1.48x against 1.35x at 3.
MIN_IDLE_CORES = 0.5


class ForkedStampChecks:
    """The child checking the stamps of the first ``count`` folders (forked_stamp_checks);
    ``result()`` waits for it."""

    def __init__(self, work: ForkedWork, count: int):
        self._work, self._count = work, count

    def result(self) -> list[str] | None:
        """The held key ("" where none held) of each of the first CHILD_SHARE of the folders, in
        their order; None when the child failed."""
        answer = self._work.answer()
        if answer is None:
            return None
        keys = answer.decode("utf-8", "surrogatepass").split("\n")
        return keys if len(keys) == self._count else None


def forked_stamp_checks(cache: bytes | None, folders: list[tuple[str, str, str | None]]) -> ForkedStampChecks | None:
    """A child checking the stamps of ``cache`` for the first CHILD_SHARE of ``folders`` ((name,
    path, problem) of the runs folder's candidate folders, run_keys.candidate_names) when that
    pays (a cache, FORKED_MIN_FOLDERS folders, MIN_IDLE_CORES idle by the load average, msgspec
    to read the stamps alone, a process that may fork: forked_work.py); else None."""
    count = round(len(folders) * CHILD_SHARE)
    if not cache or len(folders) < FORKED_MIN_FOLDERS or not count or not reads_stamps_alone() or not _core_to_spare():
        return None
    checked = folders[:count]
    work = fork_work(lambda: "\n".join(held_keys(cache, checked)).encode("utf-8", "surrogatepass"))
    return None if work is None else ForkedStampChecks(work, count)


def _core_to_spare() -> bool:
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return False
    return load <= (os.cpu_count() or 1) - MIN_IDLE_CORES


def held_keys(cache: bytes, folders: list[tuple[str, str, str | None]]) -> list[str]:
    """For each (name, path, problem) of ``folders``, the key of the cache's entry of that name when its
    stamp holds, else "" (none, unstamped, or not holding). A key holds no line end (a
    blake2b hex digest); one read from a damaged file that does is dropped."""
    stamps, held = cached_stamps(cache), []
    get, add = stamps.get, held.append
    for name, path, _ in folders:
        found = get(name)
        if found is not None and found[1] is not None and "\n" not in found[0] and flat_stamp_holds(path, found[1]):
            add(found[0])
        else:
            add("")
    return held
