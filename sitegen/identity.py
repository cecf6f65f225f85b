"""One run id, one run: which of the folders holding a run id the site shows.

A run folder copied under another name holds the same run id, and pages are keyed by id (their
slug), so two folders of one id would write one page. The site shows one folder per id, the one
tracker.run_keys.copy_rank puts first (the folder named like the id, then the one in the runs
folder given first, then the first folder name, as ``tracker ls`` chooses), and the build warns
about the others. A folder's id is known only once it is read; the manifest remembers the id of
every folder it has seen, under the folder's key, so a rebuild reads only new or changed folders.
"""
from __future__ import annotations

from dataclasses import dataclass

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
        self.ids: dict[str, str | None] = {folder: known_ids.get(found.keys[folder]) for folder in found.folders}
        self.unreadable: dict[str, str] = {}  # folder -> why it could not be read
        self._holders: dict[str, list[str]] | None = None  # made once, then kept up to date by learn()
        self._shown: dict[str, str] = {}

    def unknown(self) -> list[str]:
        """Folders to read before their id is known."""
        return [folder for folder, run_id in self.ids.items() if run_id is None and folder not in self.unreadable]

    def learn(self, folder: str, run_id: str | None, error: str | None = None) -> None:
        """Record what reading ``folder`` found: its id, or (run_id None) why it could not be read."""
        if run_id is None:
            self.unreadable[folder] = error or "unreadable"
        else:
            self.unreadable.pop(folder, None)
        before, self.ids[folder] = self.ids.get(folder), run_id
        if self._holders is not None and before != run_id:  # a rebuild learns of a few folders of many
            if before is not None:
                self._holders[before].remove(folder)
                self._rank(before)
            if run_id is not None:
                self._holders.setdefault(run_id, []).append(folder)
                self._rank(run_id)

    def holders(self) -> dict[str, list[str]]:
        """Readable folders of each known id, the one to show first."""
        if self._holders is None:
            self._holders = {}
            for folder, run_id in self.ids.items():
                if run_id is not None and folder not in self.unreadable:
                    self._holders.setdefault(run_id, []).append(folder)
            self._shown = {run_id: folders[0] for run_id, folders in self._holders.items()}
            for run_id, folders in self._holders.items():
                if len(folders) > 1:
                    self._rank(run_id)
        return self._holders

    def _rank(self, run_id: str) -> None:
        """Put the folder to show first among ``run_id``'s (or forget the id when it has none)."""
        folders = self._holders[run_id]
        if not folders:
            del self._holders[run_id], self._shown[run_id]
            return
        if len(folders) > 1:
            folders.sort(key=lambda folder: copy_rank(run_id, folder, self.found.root_of[folder]))
        self._shown[run_id] = folders[0]

    def shown(self) -> dict[str, str]:
        """{run id: the folder the site shows it from}."""
        self.holders()
        return dict(self._shown)

    def copies(self) -> list[Copy]:
        holders = self.holders()
        return [Copy(run_id, folder, holders[run_id][0])
                for run_id in sorted(run_id for run_id, folders in holders.items() if len(folders) > 1)
                for folder in holders[run_id][1:]]
