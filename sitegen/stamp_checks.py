"""The last build's folder stamps checked by a forked child, on the second core, while the build reads on.

A rebuild after one changed run among 100,000 spends its time in two kinds of work that do not wait
for each other: a stat of each run folder and of its events file, to see that the folder's stamp
still holds (folder_stamps.py: a second of CPU, most of it in the kernel), and decoding what the
last build left (its manifest, the listing of its site). A build that owns its process (``tracker
build``, never a library call from a training script) forks a child once the stamps are read: the
child has them without a copy or a decode, checks every one (run_keys.stamp_holds, as the build
would), and hands back a byte a stamp, 1 where it holds, through a pipe; the build meanwhile reads
its manifest and lists the runs folders, then takes the bytes (verdicts). The fork, the pipe and
the child's manners (it holds none of the build's descriptors, its lock among them, and never runs
the build's cleanup) are tracker/forked_work.py's. Anything short of a whole answer (no fork, the
child killed or failed) and the build checks the stamps itself, as before.
"""
from __future__ import annotations

import contextlib
import os
from functools import partial
from itertools import islice
from operator import itemgetter

from tracker.forked_work import ForkedWork, fork_work
from tracker.run_keys import stamp_holds

from .folder_stamps import FolderStamps

_STAMP_OF_LINE = itemgetter(slice(3, None))  # a Stamp line's FolderStamp: its folders and files
# The child checks this share of the stamps, from the first; the build checks the rest once it has
# read what the last build left and listed the runs folders. Timed with perf_counter outside a
# profiler (which slows the build's reads more than the child's stats) at 100,000 runs: the build's
# reads and listing took 1.1-1.2 s of CPU and the child's checks of every stamp 1.1 s, so at a share
# of 0.8 the build then checked 20,000 stamps itself (0.17-0.25 s) after waiting 0.01-0.02 s, and
# waited as little at 0.9, 0.95 or 1. At 0.9 the child still has 0.15 s to spare for a second core
# that is busy elsewhere, and the build checks half as many stamps on its critical path.
CHILD_SHARE = 0.9


class StampChecks:
    """A child checking the first ``count`` of the last build's ``stamps`` (fork_checks), until its
    verdicts are taken."""

    def __init__(self, work: ForkedWork, stamps: FolderStamps, roots: list[str], count: int):
        self.work, self.stamps, self.roots, self.count = work, stamps, roots, count
        self.pid = work.pid

    def verdicts(self) -> list[bytes] | None:
        """For each runs folder, a byte a stamp of the last build's, in their order: 1 where it
        holds, else 0; None when the child did not answer for every stamp of its share (the caller
        checks them itself). Checks the stamps past the child's share, then waits for the child; once."""
        if self.work.ended:
            return None
        total = sum(map(len, self.stamps.previous))
        own = verdict_bytes(self.stamps, self.roots, self.count, total)
        answer = self.work.answer()
        if answer is None or len(answer) != self.count:
            return None
        answer += own
        verdicts, start = [], 0
        for stamps in self.stamps.previous:
            verdicts.append(answer[start:start + len(stamps)])
            start += len(stamps)
        return verdicts

    def end(self) -> None:
        """Stop the child unless its verdicts were taken (a build failing meanwhile does not wait
        for its stats)."""
        self.work.end()


@contextlib.contextmanager
def stamps_checked_aside(stamps: FolderStamps, roots: list[str], allowed: bool):
    """fork_checks for the ``with`` body where ``allowed`` (a process the build owns), else None:
    the build checks the stamps itself. The child is ended as the body ends, killed if still running."""
    checks = fork_checks(stamps, roots) if allowed else None
    try:
        yield checks
    finally:
        if checks is not None:
            checks.end()


def fork_checks(stamps: FolderStamps, roots: list[str]) -> StampChecks | None:
    """A child checking the first CHILD_SHARE of ``stamps``' folders under ``roots`` (absolute runs
    folders, in --runs order); None when there is no stamp to check or no child can be forked
    (forked_work.py)."""
    total = sum(map(len, stamps.previous))
    if not total:
        return None
    count = round(total * CHILD_SHARE)
    work = fork_work(partial(verdict_bytes, stamps, roots, 0, count))
    return None if work is None else StampChecks(work, stamps, roots, count)


def verdict_bytes(stamps: FolderStamps, roots: list[str], start: int, stop: int) -> bytes:
    """A byte for each stamp from the ``start``-th to before the ``stop``-th, counted across the
    runs folders in the order of ``stamps.previous``: 1 where it holds, else 0."""
    answer, offset = bytearray(), 0
    for index, previous in enumerate(stamps.previous):
        first, end = max(start - offset, 0), min(stop - offset, len(previous))
        offset += len(previous)
        if first >= end:
            continue
        if index >= len(roots):  # a runs folder the last build had and this one has not: none hold
            answer += bytes(end - first)
            continue
        prefix = os.path.join(roots[index], "")  # as discovery names a folder: its root, a separator, its name
        answer += bytes(map(stamp_holds, map(prefix.__add__, islice(previous, first, end)),
                            map(_STAMP_OF_LINE, islice(previous.values(), first, end))))
    return bytes(answer)
