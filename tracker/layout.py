"""Where runs live: the runs folder and the names of a run folder's files (docs/format.md).

A leaf that the client, the reader, the site and the CLI all import, so none of them imports
another to find a runs folder.
"""
from __future__ import annotations

import os

from .errors import ArgumentTypeError

DEFAULT_RUNS_DIR = "tracker-runs"
MAIN_EVENTS_FILE = "events.jsonl"  # the creating process's events; others write events-<writer>.jsonl


def runs_root(dir=None) -> str:
    """The runs folder: the argument, else $TRACKER_DIR, else ./tracker-runs."""
    try:
        chosen = os.fspath(dir) if dir is not None else os.environ.get("TRACKER_DIR") or DEFAULT_RUNS_DIR
    except TypeError:
        raise ArgumentTypeError("dir", dir, "a str or path") from None
    return os.path.abspath(chosen)
