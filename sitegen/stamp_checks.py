"""The last build's folder stamps checked by a forked child, on the second core, while the build reads on.

A rebuild after one changed run among 100,000 spends its time in two kinds of work that do not wait
for each other: a stat of each run folder and of its events file, to see that the folder's stamp
still holds (folder_stamps.py: a second of CPU, most of it in the kernel), and decoding what the
last build left (its manifest, the listing of its site). A build that owns its process (``tracker
build``, never a library call from a training script) forks a child once the stamps are read: the
child has them without a copy or a decode and checks them (run_keys.stamp_holds, as the build
would) from the first, a stretch (CHUNK) at a time, into memory it shares with the build (an
anonymous mmap: a byte a stamp, 1 where it holds, and how far it got); the build meanwhile reads
its manifest and lists the runs folders, then checks stamps from the last, a stretch at a time,
until the two meet. So neither waits for the other however busy the second core is (a fixed share
left the build waiting for a child slowed by other work, or the child idle while the build
checked). A stamp both checked (the stretch each was in as they met) holds by both checks or is
read again. The fork, the child's manners (it holds none of the build's descriptors, its lock
among them, and never runs the build's cleanup) are tracker/forked_work.py's. A child that fails
or is killed only leaves more stamps to the build; with no child the build checks each folder's
stamp itself, as before.
"""
from __future__ import annotations

import contextlib
import mmap
import os
import struct
from functools import partial
from operator import itemgetter

from tracker.forked_work import ForkedWork, fork_work
from tracker.run_keys import stamp_holds

from .folder_stamps import FolderStamps

_STAMP_OF_LINE = itemgetter(slice(3, None))  # a Stamp line's FolderStamp: its folders and files
CHUNK = 256  # stamps each side checks between looking at how far the other got (about 2 ms of stats)
# The shared memory: the child's next stamp (at 0) and the first the build took (at 8), each written by
# its side alone, then a verdict byte a stamp. Whichever side reads the other's count while it
# changes only checks a stretch more or fewer: the build checks every byte still unchecked at the end.
_COUNT = struct.Struct("=q")
_CHILD_AT, _TAKEN, _VERDICTS = 0, 8, 16
_UNCHECKED = 2  # a verdict byte not written yet


class StampChecks:
    """A child checking the last build's ``stamps`` from the first (fork_checks), and the memory it
    writes its verdicts to, until the build takes them."""

    def __init__(self, work: ForkedWork, stamps: FolderStamps, roots: list[str], shared: mmap.mmap, table: list):
        self.work, self.stamps, self.roots, self.shared, self.table = work, stamps, roots, shared, table
        self.pid = work.pid
        self.total = len(shared) - _VERDICTS
        self.own = 0  # how many stamps the build checked itself

    def verdicts(self) -> list[bytes] | None:
        """For each runs folder, a byte a stamp of the last build's, in their order: 1 where it
        holds, else 0. Checks stamps from the last until it meets the child, then stops the child; once."""
        if self.work.ended:
            return None
        shared, table, stop = self.shared, self.table, self.total
        while True:
            child_at = _COUNT.unpack_from(shared, _CHILD_AT)[0]
            if stop <= child_at:
                break
            start = max(child_at, stop - CHUNK)
            _COUNT.pack_into(shared, _TAKEN, start)  # the child stops before it
            shared[_VERDICTS + start:_VERDICTS + stop] = _checked(table, start, stop)
            self.own += stop - start
            stop = start
        self.work.end()  # stopped or ended: what it wrote stays
        answer = shared[_VERDICTS:]
        place = answer.find(_UNCHECKED)
        if place >= 0:  # a stretch the child was killed in (or whose bytes came after its count)
            answer = bytearray(answer)
            while place >= 0:
                answer[place:place + 1] = _checked(table, place, place + 1)
                place = answer.find(_UNCHECKED, place + 1)
            answer = bytes(answer)
        shared.close()
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
    """A child checking ``stamps``' folders under ``roots`` (absolute runs folders, in --runs order)
    from the first; None when there is no stamp to check or no child can be forked (forked_work.py)."""
    table = _stamp_table(stamps, roots)
    total = sum(len(names) for _, _, names, _ in table)
    if not total:
        return None
    try:
        shared = mmap.mmap(-1, _VERDICTS + total)  # anonymous and shared: the child writes, the build reads
    except (OSError, ValueError):
        return None
    _COUNT.pack_into(shared, _TAKEN, total)
    shared[_VERDICTS:] = bytes([_UNCHECKED]) * total
    work = fork_work(partial(_check_from_the_first, table, shared))
    if work is None:
        shared.close()
        return None
    return StampChecks(work, stamps, roots, shared, table)


def _stamp_table(stamps: FolderStamps, roots: list[str]) -> list[tuple[int, str | None, list[str], list]]:
    """Each runs folder's stamps as (the place of its first stamp among all, the prefix of its
    folders' paths or None when this build has no such runs folder, their names, their lines)."""
    table, offset = [], 0
    for index, previous in enumerate(stamps.previous):
        # as discovery names a folder: its root, a separator, its name
        prefix = os.path.join(roots[index], "") if index < len(roots) else None
        table.append((offset, prefix, list(previous), list(previous.values())))
        offset += len(previous)
    return table


def _checked(table: list, start: int, stop: int) -> bytes:
    """A byte for each stamp from the ``start``-th to before the ``stop``-th, counted across the runs
    folders in the order of ``table`` (_stamp_table): 1 where it holds, else 0."""
    answer = bytearray()
    for offset, prefix, names, lines in table:
        first, end = max(start - offset, 0), min(stop - offset, len(names))
        if first >= end:
            continue
        if prefix is None:  # a runs folder the last build had and this one has not: none hold
            answer += bytes(end - first)
        else:
            answer += bytes(map(stamp_holds, map(prefix.__add__, names[first:end]),
                                map(_STAMP_OF_LINE, lines[first:end])))
    return bytes(answer)


def _check_from_the_first(table: list, shared: mmap.mmap) -> bytes:
    """The child's work: stamps checked from the first, a stretch at a time, until it reaches those
    the build took; its verdicts written to ``shared`` before it counts them."""
    at = 0
    while True:
        taken = _COUNT.unpack_from(shared, _TAKEN)[0]
        if at >= taken:
            return b""
        stop = min(at + CHUNK, taken)
        shared[_VERDICTS + at:_VERDICTS + stop] = _checked(table, at, stop)
        at = stop
        _COUNT.pack_into(shared, _CHILD_AT, at)
