"""Each run folder's stat record from the last build: a rebuild finds unchanged folders by a stat per file.

A folder's key (discover.py, tracker/run_keys.py) hashes the names, sizes and modification times
of all its files, which takes a directory read of every run folder: most of a rebuild's time at
100,000 runs. A scan also stamps the folder (run_keys.scan_folder(stamped=True): its and its
sub-folders' change times, its files' sizes and modification times; a folder changed too
recently for its times to be trusted is not stamped), and while a stamp holds
(run_keys.stamp_holds: a stat per entry, two for the usual run) the folder's key is the one made
with it. This module keeps the stamps from build to build.

The file (STAMPS_FILE in the site folder) holds each runs folder's stamps by position in --runs,
by folder name: no build-machine path, and a moved runs folder keeps its stamps (mv keeps the
times). A folder with a name that is not UTF-8 or holds a token shape (redaction.py: the file is
published with the site) is not stamped. With an unreadable file every folder is read.
"""
from __future__ import annotations

import os

from msgspec import DecodeError, Struct
from msgspec.json import Decoder, encode

from tracker.run_keys import FolderStamp, stamp_holds

from .redaction import redact_tokens

STAMPS_FILE = ".tracker-folders.json"
STAMPS_FORMAT = 1

# [key, [[sub-folder, ctime ns], ...], [[file, size, mtime ns], ...]]: the key and run_keys.FolderStamp
Stamp = tuple[str, list[tuple[str, int]], list[tuple[str, int, int]]]


class FolderStamps:
    """The stamps of the last build (``previous``) and those this build takes (``current``)."""

    def __init__(self, previous: list[dict[str, Stamp]] | None = None):
        self.previous = previous or []
        self.current: list[dict[str, Stamp]] = []

    def known_keys(self, root_index: int, folders: list[tuple[str, str]]) -> dict[str, str]:
        """{folder: key} of the ``folders`` ((path, name) in runs folder ``root_index``) whose
        stamp holds: every time and size in it is as it was. One loop for them all: at 100,000
        runs a call per folder was a tenth of the check."""
        previous = self.previous[root_index] if root_index < len(self.previous) else {}
        current = self._current(root_index)
        keys = {}
        for folder, name in folders:
            stamp = previous.get(name)
            if stamp is not None and stamp_holds(folder, stamp[1:]):
                current[name] = stamp
                keys[folder] = stamp[0]
        return keys

    def keep(self, root_index: int, name: str, key: str, stamp: FolderStamp) -> None:
        """Keep a folder's key with the stamp its scan took, unless a name in it must not be published."""
        folders, files = stamp
        if all(map(_publishable, [name, *(relative for relative, _ in folders), *(relative for relative, _, _ in files)])):
            # as tuples, as Stamp decodes them (run_keys makes lists, as its JSON lines decode them)
            self._current(root_index)[name] = (key, list(map(tuple, folders)), list(map(tuple, files)))

    def _current(self, root_index: int) -> dict[str, Stamp]:
        while len(self.current) <= root_index:
            self.current.append({})
        return self.current[root_index]

    def to_text(self) -> str:
        return encode({"format": STAMPS_FORMAT, "roots": self.current}).decode() + "\n"


def _publishable(name: str) -> bool:
    """Whether a name may be in the stamps file: UTF-8 (JSON holds it) and no token shape (it is published)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return redact_tokens(name) == name


class _StampsFile(Struct):
    format: int
    roots: list[dict[str, Stamp]]


_DECODER = Decoder(_StampsFile)  # checks every type as it decodes: a damaged file is not used


def read_stamps(out: str) -> FolderStamps:
    """The stamps the last build left in ``out`` (none when it left none or they are unreadable)."""
    try:
        with open(os.path.join(out, STAMPS_FILE), "rb") as handle:
            data = _DECODER.decode(handle.read())
    except (OSError, DecodeError):
        return FolderStamps()
    return FolderStamps(data.roots if data.format == STAMPS_FORMAT else None)
