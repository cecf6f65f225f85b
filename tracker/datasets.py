"""Describing a dataset: content hash, size, and rows/columns when cheaply known.

Hashes are cached by (absolute path, size, mtime) in a small JSON file, so logging the same
unchanged multi-gigabyte file in every run costs a stat, not a read.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time

from .atomic_file import replace_file

HASH_CHUNK_BYTES = 4 << 20
ROW_COUNT_MAX_BYTES = 64 << 20  # count CSV rows only in files up to this size
HASH_CACHE_PATH = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                               "tracker", "dataset-hashes.json")
_cache_lock = threading.Lock()


def describe_dataset(path: str, name: str, *, rows: int | None = None, columns=None,
                     cache_path: str = HASH_CACHE_PATH) -> dict:
    """A ``dataset`` record for a file or a folder; its text is storable and redacted.

    ``path`` is the real path (a non-UTF-8 name stays readable through it); the record holds
    it, its name, error and columns as text with secrets and lone surrogates made safe.
    """
    absolute = os.path.abspath(path)
    record = {"type": "dataset", "time": time.time(), "name": _stored_text(name), "path": _stored_text(path)}
    if os.path.isdir(absolute):
        files = sorted(_walk_files(absolute))
        folder_digest = hashlib.sha256()
        total = 0
        for relative in files:
            file_path = os.path.join(absolute, relative)
            folder_digest.update(f"{relative}\0{_cached_file_hash(file_path, cache_path)}\n".encode())
            total += os.path.getsize(file_path)
        record.update(kind="folder", sha256=folder_digest.hexdigest(), size_bytes=total, files=len(files))
    elif os.path.isfile(absolute):
        record.update(kind="file", sha256=_cached_file_hash(absolute, cache_path),
                      size_bytes=os.path.getsize(absolute))
        known_rows, known_columns = _cheap_shape(absolute)
        rows = rows if rows is not None else known_rows
        columns = columns if columns is not None else known_columns
    else:
        record.update(kind="missing", error=f"{record['path']} does not exist")
    if rows is not None:
        record["rows"] = int(rows)
    if columns is not None:
        record["columns"] = ([_stored_text(str(column)) for column in columns] if isinstance(columns, (list, tuple))
                             else int(columns))
    return record


def _stored_text(text: str) -> str:
    from .redact import redact_text
    from .values import safe_text

    return redact_text(safe_text(text))


def _walk_files(root: str):
    for folder, _, files in os.walk(root):
        for file in files:
            yield os.path.relpath(os.path.join(folder, file), root).replace(os.sep, "/")


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_file_hash(path: str, cache_path: str) -> str:
    stat = os.stat(path)
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    with _cache_lock:
        cache = _read_cache(cache_path)
        if key in cache:
            return cache[key]
    digest = _file_hash(path)
    with _cache_lock:
        cache = _read_cache(cache_path)
        cache[key] = digest
        _write_cache(cache_path, cache)
    return digest


def _read_cache(cache_path: str) -> dict:
    try:
        with open(cache_path, encoding="utf-8") as handle:
            cache = json.load(handle)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(cache_path: str, cache: dict) -> None:
    try:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        replace_file(cache_path, json.dumps(cache))
    except OSError:
        pass  # the cache only saves time; a read-only home must not stop logging


def _cheap_shape(path: str) -> tuple[int | None, list[str] | None]:
    """Rows and header columns of a CSV/TSV small enough to count; else unknown."""
    lower = path.lower()
    if not lower.endswith((".csv", ".tsv")) or os.path.getsize(path) > ROW_COUNT_MAX_BYTES:
        return None, None
    import csv

    delimiter = "\t" if lower.endswith(".tsv") else ","
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        rows = sum(1 for _ in reader)
    return rows, header
