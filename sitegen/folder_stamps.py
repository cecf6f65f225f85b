"""Each run folder's stat record from the last build: a rebuild finds unchanged folders by a stat per file.

A folder's key (discover.py, tracker/run_keys.py) hashes the names, sizes and modification times
of all its files, which takes a directory read of every run folder: most of a rebuild's time at
100,000 runs. Creating, removing or renaming an entry updates its folder's ctime, so a folder
(and each sub-folder) whose ctime is what the last build saw holds the same names, and a stat of
each of those files shows whether the key changed: two stats for the usual run of one events
file, where listing it takes four system calls and a stat. A folder that matches keeps its last
key; any other is read as before and stamped again.

Times have a resolution (ext4 a few milliseconds, FAT two seconds), so a change in the same tick
as the stamp can leave every time as it was (git's "racy" index entries): a folder with a time
within RACY_S of the build's start is not stamped and is read again next time, and a stamp is
taken before the folder's key, so a change between the two shows as a changed stamp.

The file (STAMPS_FILE in the site folder) holds each runs folder's stamps by position in --runs,
by folder name: no build-machine path, and a moved runs folder keeps its stamps (mv keeps the
times). A folder with a name that is not UTF-8 or holds a token shape (redaction.py: the file is
published with the site) is not stamped. With an unreadable file every folder is read.
"""
from __future__ import annotations

import os

from msgspec import DecodeError, Struct
from msgspec.json import Decoder, encode

from .redaction import redact_tokens

STAMPS_FILE = ".tracker-folders.json"
STAMPS_FORMAT = 1
RACY_S = 2.0

# [key, [[sub-folder, ctime ns], ...], [[file, size, mtime ns], ...]]; "" is the run folder itself
Stamp = tuple[str, list[tuple[str, int]], list[tuple[str, int, int]]]


class FolderStamps:
    """The stamps of the last build (``previous``) and those this build takes (``current``)."""

    def __init__(self, previous: list[dict[str, Stamp]] | None = None, started_s: float = 0.0):
        self.previous = previous or []
        self.current: list[dict[str, Stamp]] = []
        self._racy_ns = int((started_s - RACY_S) * 1e9)

    def known_keys(self, root_index: int, folders: list[tuple[str, str]]) -> dict[str, str]:
        """{folder: key} of the ``folders`` ((path, name) in runs folder ``root_index``) whose
        stamp holds: every time and size in it is as it was. One loop for them all: at 100,000
        runs a call per folder was a tenth of the check."""
        previous = self.previous[root_index] if root_index < len(self.previous) else {}
        current = self._current(root_index)
        keys = {}
        for folder, name in folders:
            stamp = previous.get(name)
            if stamp is not None and _holds(folder, stamp[1], stamp[2]):
                current[name] = stamp
                keys[folder] = stamp[0]
        return keys

    def take(self, folder: str, name: str) -> tuple | None:
        """The folder's times and sizes now, before its key is made; None when it cannot be
        stamped (racy, unreadable, a name that is not UTF-8 or is token-shaped)."""
        folders, files = [], []
        try:
            _check_name(name)
            self._walk(folder, "", folders, files)
        except (OSError, _Unstampable):
            return None
        return folders, files

    def keep(self, root_index: int, name: str, stamp: Stamp) -> None:
        self._current(root_index)[name] = stamp

    def _current(self, root_index: int) -> dict[str, Stamp]:
        while len(self.current) <= root_index:
            self.current.append({})
        return self.current[root_index]

    def to_text(self) -> str:
        return encode({"format": STAMPS_FORMAT, "roots": self.current}).decode() + "\n"

    def _walk(self, path: str, prefix: str, folders: list, files: list) -> None:
        """Mirrors tracker/run_keys._scan_files: sub-folders that are not links are walked, every
        other entry is a file, stat'ed through links."""
        info = os.stat(path) if not prefix else os.lstat(path)
        self._check_time(info.st_ctime_ns)
        folders.append((prefix.rstrip("/"), info.st_ctime_ns))
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    _check_name(entry.name)
                    self._walk(entry.path, f"{prefix}{entry.name}/", folders, files)
                    continue
                _check_name(entry.name)
                info = entry.stat()
                self._check_time(info.st_ctime_ns)
                files.append((prefix + entry.name, info.st_size, info.st_mtime_ns))

    def _check_time(self, ctime_ns: int) -> None:
        if ctime_ns >= self._racy_ns:
            raise _Unstampable("changed within RACY_S of the build's start")


def _holds(folder: str, folders: list[tuple[str, int]], files: list[tuple[str, int, int]]) -> bool:
    """Whether the folder's sub-folders' ctimes and files' sizes and mtimes are the stamp's."""
    try:
        for relative, ctime_ns in folders:  # the run folder itself ("") may be a link, as discovery allows
            if (os.lstat(f"{folder}/{relative}") if relative else os.stat(folder)).st_ctime_ns != ctime_ns:
                return False
        for relative, size, mtime_ns in files:
            info = os.stat(f"{folder}/{relative}")
            if info.st_size != size or info.st_mtime_ns != mtime_ns:
                return False
    except OSError:
        return False
    return True


class _Unstampable(Exception):
    pass


def _check_name(name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unstampable("a name that is not UTF-8 (JSON cannot hold it)") from None
    if redact_tokens(name) != name:
        raise _Unstampable("a token-shaped name (the site is published: it must hold no secret)")


class _StampsFile(Struct):
    format: int
    roots: list[dict[str, Stamp]]


_DECODER = Decoder(_StampsFile)  # checks every type as it decodes: a damaged file is not used


def read_stamps(out: str, started_s: float) -> FolderStamps:
    """The stamps the last build left in ``out`` (none when it left none or they are unreadable)."""
    try:
        with open(os.path.join(out, STAMPS_FILE), "rb") as handle:
            data = _DECODER.decode(handle.read())
    except (OSError, DecodeError):
        return FolderStamps(None, started_s)
    return FolderStamps(data.roots if data.format == STAMPS_FORMAT else None, started_s)
