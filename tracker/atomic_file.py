"""Replacing a file atomically: readers see the old content or the new, never a part of it.

One mechanism for every file the tracker rewrites in place or must never show half written: the
heartbeat of a running run, the listing and dataset caches, an artifact's copy, the pages of a
site being served. The content goes to a temporary file beside the target (same folder, so the
same file system) and is renamed over it; a failed write leaves the target as it was and no
temporary file behind.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import threading

# pid numbers repeat across the machines that share a file system (NFS, Lustre): a token drawn
# once per process keeps two machines' temporary files apart
_PROCESS_TOKEN = secrets.token_hex(3)


def replace_file(path: str, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8 with "\\n" line ends, or bytes) to ``path`` atomically.

    Raises OSError as the write or the rename raised it, after removing the temporary file.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)


@contextlib.contextmanager
def replacing(path: str):
    """A temporary path beside ``path`` for the block to write; renamed over ``path`` when the
    block ends without an error, removed when it raises (for content written as it streams, like
    a copy)."""
    # pid, process token and thread: two processes (on one machine or several) or threads replacing
    # one file never share a temporary file (the native thread id: short, so a long file name stays
    # within the file system's limit)
    temporary = f"{path}.tmp-{os.getpid()}{_PROCESS_TOKEN}-{threading.get_native_id()}"
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
