"""Writing into a site folder: every path is checked to stay inside it, and replacements are atomic.

The only module of sitegen that writes files; build.py and run_pages.py call it.
"""
from __future__ import annotations

import contextlib
import gzip
import os
import shutil

from tracker.atomic_file import replace_file

from .errors import UnsafePathError
from .output_lock import retired_path


def site_path(root: str, relative: str) -> str:
    """The absolute path of ``relative`` under ``root``; raises if it would land anywhere else."""
    path = os.path.normpath(os.path.join(root, relative))
    if path.startswith(root) and path[len(root):len(root) + 1] == os.sep and not os.path.isabs(relative) \
            and root != os.sep:
        return path  # the usual case, told without commonpath (three-quarters of this function's time)
    if os.path.isabs(relative) or os.path.commonpath([root, path]) != root or path == root:
        raise UnsafePathError(relative, root)
    return path


def write_text(root: str, relative: str, text: str) -> None:
    """Create or overwrite one file of a folder nobody reads yet (a staging folder)."""
    write_bytes(root, relative, text.encode("utf-8"))


def write_bytes(root: str, relative: str, data: bytes) -> None:
    """write_text() for bytes."""
    path = site_path(root, relative)
    # os.open, not open(): a build writes a few files a run, and open() adds a stat, an ioctl and
    # two seeks to each; its folder is made only when it is missing (a makedirs of a folder that
    # is there stats it and catches an error)
    try:
        handle = os.open(path, _NEW_FILE_FLAGS, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle = os.open(path, _NEW_FILE_FLAGS, 0o666)
    try:
        written = 0
        with memoryview(data) as view:
            while written < len(view):  # a write to a regular file may stop short (a signal, a full disk)
                written += os.write(handle, view[written:])
    finally:
        os.close(handle)


_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def open_gzip(root: str, relative: str, level: int = 6) -> gzip.GzipFile:
    """A new file of a staging folder, gzipped as it is written (close it when done). No time stamp
    and no file name in the gzip header (the staging name differs from build to build), so the same
    text gives the same file: a bucket publish compares files by content."""
    path = site_path(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = open(path, "wb")
    compressed = gzip.GzipFile(filename="", mode="wb", compresslevel=level, fileobj=raw, mtime=0)
    compressed.myfileobj = raw  # closed with it, as when GzipFile opens the file itself
    return compressed


def rename_file(root: str, relative: str, new_relative: str) -> None:
    """Move one file of a staging folder to another place in it."""
    target = site_path(root, new_relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(site_path(root, relative), target)


def remove_folder_if_empty(root: str, relative: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(site_path(root, relative))


def remove_file(root: str, relative: str) -> None:
    """Remove one file of a staging folder, if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(site_path(root, relative))


def append_at(root: str, relative: str, end: int, data: bytes) -> None:
    """Cut ``relative`` to its first ``end`` bytes (what a build stopped while appending left after
    them) and append ``data`` in one write: a build stopped during it leaves a prefix of ``data``,
    which the file's reader skips (manifest.py, folder_stamps.py). FileNotFoundError when it is gone."""
    with open(site_path(root, relative), "r+b") as handle:
        handle.truncate(end)
        handle.seek(end)
        handle.write(data)


def copy_file(root: str, relative: str, source: str) -> None:
    path = site_path(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copyfile(source, path)


def replace_text(root: str, relative: str, text: str) -> None:
    """Replace one file of a folder people may be reading (a served site): they see old or new."""
    path = site_path(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    replace_file(path, text)


def move_into(staging: str, root: str, relative: str) -> None:
    """Move a staged file over its place in ``root`` (a rename: atomic on one file system)."""
    path = site_path(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.replace(site_path(staging, relative), path)


def remove_files(root: str, relatives) -> None:
    """Remove files of ``root`` (missing ones are fine), then any folders left empty by that."""
    folders = set()
    for relative in relatives:
        path = site_path(root, relative)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        folders.add(os.path.dirname(path))
    for folder in sorted(folders, key=len, reverse=True):
        while folder != root and os.path.commonpath([root, folder]) == root:
            try:
                os.rmdir(folder)
            except OSError:
                break  # not empty (or gone): its parents are not empty either
            folder = os.path.dirname(folder)


def swap_in(staging: str, out: str) -> None:
    """Replace the folder ``out`` by ``staging`` with two renames; the old site is removed after."""
    retired = retired_path(out)
    if os.path.exists(out):
        os.rename(out, retired)
    os.rename(staging, out)
    shutil.rmtree(retired, ignore_errors=True)
