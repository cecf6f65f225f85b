"""One run id, one run: which of the folders holding a run id the site shows.

A run folder copied under another name holds the same run id, and pages are keyed by id (their
slug), so two folders of one id would write one page. The site shows one folder per id, the one
tracker.run_keys.copy_rank puts first (the folder named like the id, then the one in the runs
folder given first, then the first folder name, as ``tracker ls`` chooses), and the build warns
about the others. A folder's id is known only once it is read; the manifest remembers the id of
every folder it has seen, under the folder's key, so a rebuild reads only new or changed folders.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, is_not

from tracker.run_keys import copy_rank

from .discover import Discovery


@dataclass
class Copy:
    """A folder holding a run id that another folder shows."""

    run_id: str
    folder: str   # the copy, skipped
    shown: str    # the folder the site shows

    def message(self, found: Discovery) -> str:
        return (f"run {self.run_id}: folder {found.relative(self.folder)} is a copy of folder "
                f"{found.relative(self.shown)}; the site shows {found.relative(self.shown)} "
                "(the folder named like the run id wins, then the first --runs folder, then the first name)")


class RunChoice:
    """The run id of each folder as far as it is known, and the folder each id is shown from."""

    def __init__(self, found: Discovery, known_ids: dict[str, str]):
        self.found = found
        # found.keys lists found.folders in their order: the ids mapped over its keys in C (a rebuild of
        # 100,000 runs spent 0.1 s here a step an id)
        self.ids: dict[str, str | None] = dict(zip(found.keys, map(known_ids.get, found.keys.values())))
        self.unreadable: dict[str, str] = {}  # folder -> why it could not be read
        # made once, then kept up to date by learn(): a rebuild learns of a few folders of 100,000
        self._shown: dict[str, str] | None = None   # run id -> the folder shown
        self._copied: dict[str, list[str]] = {}     # run id held by several folders -> them, the shown one first

    def unknown(self) -> list[str]:
        """Folders to read before their id is known."""
        return [folder for folder in compress(self.ids, map(is_, self.ids.values(), repeat(None)))
                if folder not in self.unreadable]

    def learn(self, folder: str, run_id: str | None, error: str | None = None) -> None:
        """Record what reading ``folder`` found: its id, or (run_id None) why it could not be read."""
        if run_id is None:
            self.unreadable[folder] = error or "unreadable"
        else:
            self.unreadable.pop(folder, None)
        before, self.ids[folder] = self.ids.get(folder), run_id
        if self._shown is not None and before != run_id:
            if before is not None:
                self._leave(before, folder)
            if run_id is not None:
                self._join(run_id, folder)

    def shown(self) -> dict[str, str]:
        """{run id: the folder the site shows it from}."""
        return dict(self._shown_now())

    def _shown_now(self) -> dict[str, str]:
        """shown() as kept up to date, not a copy (100,000 runs: 5-8 ms a copy)."""
        if self._shown is None:  # in C: a Python step a folder was a tenth of a second at 100,000 runs
            readable = dict(compress(self.ids.items(), map(is_not, self.ids.values(), repeat(None))))
            for folder in self.unreadable.keys() & readable.keys():
                del readable[folder]
            self._shown = dict(zip(readable.values(), readable))
            if len(self._shown) < len(readable):  # copies: group the folders of the ids held twice
                twice = {run_id for run_id, count in Counter(readable.values()).items() if count > 1}
                for folder, run_id in readable.items():
                    if run_id in twice:
                        self._copied.setdefault(run_id, []).append(folder)
                for run_id in twice:
                    self._rank(run_id)
        return self._shown

    def copies(self) -> list[Copy]:
        self._shown_now()
        return [Copy(run_id, folder, self._copied[run_id][0])
                for run_id in sorted(self._copied) for folder in self._copied[run_id][1:]]

    def _join(self, run_id: str, folder: str) -> None:
        if run_id in self._copied:
            self._copied[run_id].append(folder)
        elif run_id in self._shown:
            self._copied[run_id] = [self._shown[run_id], folder]
        else:
            self._shown[run_id] = folder
            return
        self._rank(run_id)

    def _leave(self, run_id: str, folder: str) -> None:
        folders = self._copied.get(run_id)
        if folders is None:
            del self._shown[run_id]
            return
        folders.remove(folder)
        self._rank(run_id)
        if len(folders) == 1:
            del self._copied[run_id]

    def _rank(self, run_id: str) -> None:
        """Put the folder to show first among ``run_id``'s several."""
        folders = self._copied[run_id]
        folders.sort(key=lambda folder: copy_rank(run_id, folder, self.found.root_of[folder]))
        self._shown[run_id] = folders[0]
