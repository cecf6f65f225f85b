"""A run's settable state (name, project, group, config, summary, notes, tags) from records of
all its files, where the later write wins by time.

Each process appends to its own file, so the files of a resumed run hold interleaved histories
of the run's state. Folding them in file order would let whichever file sorts last win; instead
each value remembers the order key of the record that set it, ``(time, file rank, line)``, and
a record replaces it only when its key is not lower: the result is the same as applying every
record sorted by time (stable), in memory of one value per key rather than of every record.
A record with no time (tags, notes) takes the time of the record before it in its file.
"""
from __future__ import annotations

from .values import decode_number


class RunState:
    def __init__(self) -> None:
        self.seen_run = False
        self.id: str | None = None
        self.created: float | None = None
        self.identity: dict = {}   # project, name, group -> (order, value)
        self.config: dict = {}     # key -> (order, value)
        self.summary: dict = {}
        self.notes: tuple | None = None  # (order, text)
        self.tags: dict = {}       # tag -> (order, present)

    def apply(self, kind: str, record: dict, order: tuple) -> None:
        if kind == "run":
            if not self.seen_run:
                # The run record that created the run comes first in the first file; its id and time
                # are the run's for good. A later one (hand-edited, concatenated) may rename it.
                self.seen_run = True
                self.id = record.get("id")
                self.created = record.get("time")
            for key in ("project", "name", "group"):
                if key in record:
                    self._set(self.identity, key, record[key], order)
        elif kind == "config":
            for key, value in record["values"].items():
                self._set(self.config, key, value, order)
        elif kind == "summary":
            for key, value in record["values"].items():
                self._set(self.summary, key, decode_number(value), order)
        elif kind == "notes":
            if self.notes is None or order >= self.notes[0]:
                self.notes = (order, record["text"])
        elif kind == "tags":
            for tag in record.get("add") or ():
                self._set(self.tags, tag, True, order)
            for tag in record.get("remove") or ():
                self._set(self.tags, tag, False, order)

    @staticmethod
    def _set(table: dict, key, value, order: tuple) -> None:
        held = table.get(key)
        if held is None or order >= held[0]:
            table[key] = (order, value)

    def values(self, table: dict) -> dict:
        return {key: value for key, (_, value) in table.items()}

    def tag_list(self) -> list[str]:
        """Present tags, in the order they were (last) added."""
        present = [(order, tag) for tag, (order, here) in self.tags.items() if here]
        return [tag for _, tag in sorted(present, key=lambda item: item[0])]
