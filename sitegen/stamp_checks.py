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
from operator import itemgetter

from tracker.forked_work import ForkedWork, fork_work
from tracker.run_keys import stamp_holds

from .folder_stamps import FolderStamps

_STAMP_OF_LINE = itemgetter(slice(3, None))  # a Stamp line's FolderStamp: its folders and files


class StampChecks:
    """A child checking the last build's ``stamps`` (fork_checks), until its verdicts are taken."""

    def __init__(self, work: ForkedWork, stamps: FolderStamps):
        self.work, self.stamps = work, stamps
        self.pid = work.pid

    def verdicts(self) -> list[bytes] | None:
        """For each runs folder, a byte a stamp of the last build's, in their order: 1 where it
        holds, else 0; None when the child did not answer for every stamp (the caller checks them
        itself). Waits for the child; once."""
        answer = self.work.answer()
        if answer is None or len(answer) != sum(map(len, self.stamps.previous)):
            return None
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
    """A child checking ``stamps``' folders under ``roots`` (absolute runs folders, in --runs
    order); None when there is no stamp to check or no child can be forked (forked_work.py)."""
    if not any(stamps.previous):
        return None
    work = fork_work(partial(_verdict_bytes, stamps, roots))
    return None if work is None else StampChecks(work, stamps)


def _verdict_bytes(stamps: FolderStamps, roots: list[str]) -> bytes:
    """The child's work: a byte a stamp, in the order of ``stamps.previous``."""
    answer = bytearray()
    for index, previous in enumerate(stamps.previous):
        if index >= len(roots):  # a runs folder the last build had and this one has not: none hold
            answer += bytes(len(previous))
            continue
        prefix = os.path.join(roots[index], "")  # as discovery names a folder: its root, a separator, its name
        answer += bytes(map(stamp_holds, map(prefix.__add__, previous), map(_STAMP_OF_LINE, previous.values())))
    return bytes(answer)
