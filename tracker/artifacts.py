"""Copying artifacts into a run folder: a safe name with no secret in it, sparse files kept sparse.

``ArtifactCopy.plan()`` runs in ``log_artifact()`` itself: it checks the name (nothing may escape
the run folder), redacts token shapes from it (an artifact named after an AWS key is not stored
under that name) and checks the source exists, so misuse raises at the call. ``run()`` copies and
returns the ``artifact`` record; the run calls it at once for a file of up to
COPY_AT_CALL_MAX_BYTES and in the background otherwise.

Snapshot semantics: a small file is copied before ``log_artifact()`` returns, so the stored copy
is the file as it was at the call. A larger file or a folder is copied right away but in the
background: writing to it before the copy is done may show in the stored copy, while the
``sha256`` always describes the stored bytes. Save each checkpoint to a new path (or only change
it after ``finish()``) when that matters. The file system's holes are kept as holes (found with
SEEK_DATA/SEEK_HOLE), and runs of 1 MiB of zeros become holes too, so a 2 GB sparse file costs
what its data costs, on disk and in time.
"""
from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import shutil
import time

from .atomic_file import replacing
from .errors import ArtifactNameError
from .redact import redact_text

ARTIFACTS_DIR = "artifacts"
COPY_CHUNK_BYTES = 1 << 20
COPY_AT_CALL_MAX_BYTES = 4 << 20  # copied before log_artifact() returns: a true snapshot, a few ms


def check_artifact_name(name: str) -> str:
    """The name as a clean relative POSIX path, or ArtifactNameError if it could escape the run."""
    if not isinstance(name, str) or not name.strip():
        raise ArtifactNameError(str(name), "empty name")
    if "\0" in name:
        raise ArtifactNameError(name, "contains a NUL character")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArtifactNameError(name, "absolute paths are not allowed; give a name relative to the run")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise ArtifactNameError(name, "'..' is not allowed; the artifact must stay inside the run folder")
    clean = posixpath.normpath("/".join(part for part in parts if part not in ("", ".")))
    if clean in ("", "."):
        raise ArtifactNameError(name, "empty name")
    return clean


def stored_name(name: str) -> str:
    """The checked name with token shapes redacted from each part (file names get published)."""
    return check_artifact_name("/".join(redact_text(part) for part in check_artifact_name(name).split("/")))


class ArtifactCopy:
    """One ``log_artifact()`` call: where the copy goes, and the copying."""

    def __init__(self, source: str, run_path: str, name: str, logged_at: float):
        self.source = source
        self.name = name
        self.target = os.path.join(run_path, ARTIFACTS_DIR, *name.split("/"))
        self.logged_at = logged_at

    @classmethod
    def plan(cls, source: str, run_path: str, name: str | None = None) -> "ArtifactCopy":
        """Check the name and the source; raises ArtifactNameError or FileNotFoundError at the call."""
        clean = stored_name(name if name is not None else os.path.basename(os.path.normpath(source)))
        if not os.path.exists(source):
            raise FileNotFoundError(f"artifact source {source} does not exist")
        return cls(source, run_path, clean, time.time())

    def copies_at_call(self) -> bool:
        return os.path.isfile(self.source) and os.path.getsize(self.source) <= COPY_AT_CALL_MAX_BYTES

    def run(self) -> dict:
        """Copy the source into the run folder and return its ``artifact`` record."""
        os.makedirs(os.path.dirname(self.target), exist_ok=True)
        record = {"type": "artifact", "time": self.logged_at, "name": self.name,
                  "path": f"{ARTIFACTS_DIR}/{self.name}"}
        if os.path.isdir(self.source):
            size, files = _copy_folder(self.source, self.target)
            record.update(kind="folder", size_bytes=size, files=files)
        else:
            digest = hashlib.sha256()
            size = copy_sparse(self.source, self.target, digest)
            record.update(kind="file", size_bytes=size, sha256=digest.hexdigest())
        return record


def copy_sparse(source: str, target: str, digest=None) -> int:
    """Copy a file, keeping holes as holes; returns the bytes copied.

    ``digest`` (a hashlib object) sees every byte, holes as zeros. The copy is written under a
    temporary name and renamed, so a half-done copy never has the artifact's name.
    """
    with replacing(target) as temporary:
        with open(source, "rb") as reader, open(temporary, "wb") as writer:
            size = _copy_extents(reader, writer.fileno(), digest)
            writer.truncate(size)  # a hole at the end has no data to write
        shutil.copystat(source, temporary)
    return size


def _copy_extents(reader, target_fd: int, digest) -> int:
    zeros = bytes(COPY_CHUNK_BYTES)
    size = os.fstat(reader.fileno()).st_size
    for start, end, has_data in _extents(reader.fileno(), size):
        if not has_data:
            if digest is not None:
                _feed_zeros(digest, zeros, end - start)
            continue
        reader.seek(start)
        position = start
        while position < end:
            chunk = reader.read(min(COPY_CHUNK_BYTES, end - position))
            if not chunk:  # the file shrank while being copied: the copy is what was there
                return position
            if digest is not None:
                digest.update(chunk)
            if chunk != (zeros if len(chunk) == len(zeros) else zeros[:len(chunk)]):  # zeros stay a hole
                os.pwrite(target_fd, chunk, position)
            position += len(chunk)
    return size


def _extents(fd: int, size: int):
    """(start, end, has_data) spans covering the file; all data where holes cannot be found."""
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    position = 0
    while position < size:
        if seek_data is None:
            yield position, size, True
            return
        try:
            data = min(os.lseek(fd, position, seek_data), size)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # the file system cannot say where holes are
                yield position, size, True
                return
            data = size  # no data past position: the rest is a hole
        if data > position:
            yield position, data, False
        if data >= size:
            return
        hole = min(os.lseek(fd, data, seek_hole), size)
        yield data, hole, True
        position = hole


def _feed_zeros(digest, zeros: bytes, count: int) -> None:
    view = memoryview(zeros)
    while count > 0:
        step = min(count, len(zeros))
        digest.update(view[:step])  # hashlib releases the GIL for large updates
        count -= step


def _copy_folder(source: str, target: str) -> tuple[int, int]:
    """Copy a folder's regular files (sparse, names redacted); returns (bytes, files)."""
    total = files = 0
    for folder, subfolders, names in os.walk(source):
        subfolders.sort()
        relative = os.path.relpath(folder, source)
        parts = [] if relative == "." else [redact_text(part) for part in relative.split(os.sep)]
        destination = os.path.join(target, *parts)
        os.makedirs(destination, exist_ok=True)
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.isfile(path):  # sockets, FIFOs and broken links are not artifacts
                total += copy_sparse(path, os.path.join(destination, redact_text(name)))
                files += 1
    return total, files
