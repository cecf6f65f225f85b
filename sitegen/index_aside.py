"""The rebuild's data/index.js updated by a forked child on the second core while the build updates the rest of the site.

Once the last build's stamps are checked (stamp_checks.py), a rebuild after one changed run among
100,000 works on one core: the index update (index_update.py: the last build's file decoded, its
columns spliced and encoded again, 0.2 s) waits on nothing the other pages need, and they do not
wait on it. A build that owns its process forks a child for it once the runs are chosen (given
the changed runs' rows: the child holds none of the build's descriptors, the manifest's among
them, see forked_work.py): the child writes the file into the staging folder and answers its
digest (index_data.index_digest, which the manifest keeps), and the build, having rendered and
replaced the other pages meanwhile, moves the file in before it writes the manifest. Anything
short of a digest (no fork, the child failed, or the file cannot be updated) and the build makes
the file itself (index_data_files), as before: the same bytes either way.
"""
from __future__ import annotations

from functools import partial
from itertools import compress
from operator import attrgetter, itemgetter, not_

from tracker.forked_work import ForkedWork, fork_work

from .index_data import INDEX_DATA_FILE, index_digest, index_files
from .index_update import updated_index_files
from .manifest import RunEntry
from .output import move_into, replace_text, write_text


def index_data_files(entries: list[RunEntry], errors: list[tuple[str, str]], previous_data: str | None,
                     kept: dict[str, RunEntry]) -> dict[str, str]:
    """data/index.js: ``previous_data`` with the rows of the entries not ``kept`` put in (at 100,000
    runs 0.2 s, where making it from every row takes 1.6 s), or from every row when there is none
    or it cannot be updated (index_update.updated_index_files); the same bytes either way."""
    if previous_data is not None and entries:
        files = updated_index_files(previous_data, *_changes(entries, kept), errors)
        if files is not None:
            return files
    return _from_every_row(entries, errors)


def _changes(entries: list[RunEntry], kept: dict[str, RunEntry]) -> tuple[list[str], dict[str, str]]:
    """Every run's id in site order, and the row of each run not ``kept`` and of the first (its keys name the columns)."""
    ids = list(map(itemgetter("id"), map(attrgetter("head"), entries)))
    changed = compress(zip(ids, entries), map(not_, map(kept.__contains__, ids)))
    given = {run_id: entry.row_json for run_id, entry in changed}
    given[ids[0]] = entries[0].row_json
    return ids, given


def _from_every_row(entries: list[RunEntry], errors: list[tuple[str, str]]) -> dict[str, str]:
    return index_files([entry.row_json for entry in entries], errors)


class IndexAside:
    """A child writing the updated data/index.js into the staging folder (index_updated_aside)."""

    def __init__(self, work: ForkedWork, entries: list[RunEntry], errors: list[tuple[str, str]],
                 previous_data: str, kept: dict[str, RunEntry], staging: str):
        self.work, self.entries, self.errors = work, entries, errors
        self.previous_data, self.kept, self.staging = previous_data, kept, staging

    def moved_in(self, out: str) -> str:
        """Put the updated data/index.js in ``out`` and return its digest: the child's file, waited
        for, or else one made here (index_data_files). Once."""
        answer = self.work.answer()
        if answer:
            move_into(self.staging, out, INDEX_DATA_FILE)
            return answer.decode("ascii")
        if answer == b"":  # it cannot be updated: not tried again here
            text = _from_every_row(self.entries, self.errors)[INDEX_DATA_FILE]
        else:
            text = index_data_files(self.entries, self.errors, self.previous_data, self.kept)[INDEX_DATA_FILE]
        replace_text(out, INDEX_DATA_FILE, text)
        return index_digest(text)

    def end(self) -> None:
        """Stop the child unless its answer was taken (a build failing meanwhile does not wait for it)."""
        self.work.end()


def fork_index_update(entries: list[RunEntry], errors: list[tuple[str, str]], previous_data: str | None,
                      kept: dict[str, RunEntry], staging: str) -> IndexAside | None:
    """A child updating data/index.js into ``staging`` (call only in a process the build owns); None
    when there is no last build's file to update or no child can be forked: the build makes the file
    with the other pages. End it (IndexAside.end) when the build ends."""
    if previous_data is None or not entries:
        return None
    work = fork_work(partial(_updated_file, previous_data, *_changes(entries, kept), errors, staging))
    return None if work is None else IndexAside(work, entries, errors, previous_data, kept, staging)


def _updated_file(previous_data: str, ids: list[str], given: dict[str, str], errors: list[tuple[str, str]],
                  staging: str) -> bytes:
    """The child's work: the updated file written into ``staging``, its digest; b"" when it cannot be updated."""
    files = updated_index_files(previous_data, ids, given, errors)
    if files is None:
        return b""
    write_text(staging, INDEX_DATA_FILE, files[INDEX_DATA_FILE])
    return index_digest(files[INDEX_DATA_FILE]).encode("ascii")
