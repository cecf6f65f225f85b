"""Replacing a file atomically: readers see the old content or the new, never a part of it.

One mechanism for every file the tracker rewrites in place: the heartbeat of a running run, the
listing and dataset caches, the pages of a site being served. The content goes to a temporary
file beside the target (same folder, so the same file system) and is renamed over it; a failed
write leaves the target as it was and no temporary file behind.
"""
from __future__ import annotations

import contextlib
import os
import threading


def replace_file(path: str, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8 with "\\n" line ends, or bytes) to ``path`` atomically.

    Raises OSError as the write or the rename raised it, after removing the temporary file.
    """
    # pid and thread: two processes or threads replacing one file never share a temporary file
    temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
