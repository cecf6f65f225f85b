"""Where runs live: the runs folder and the names of a run folder's files (docs/format.md).

A leaf that the client, the reader, the site and the CLI all import, so none of them imports
another to find a runs folder.
"""
from __future__ import annotations

import hashlib
import os
import re

from .errors import ArgumentTypeError

DEFAULT_RUNS_DIR = "tracker-runs"
MAIN_EVENTS_FILE = "events.jsonl"  # the creating process's events; others write events-<writer>.jsonl
SAFE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def runs_root(dir=None) -> str:
    """The runs folder: the argument, else $TRACKER_DIR, else ./tracker-runs."""
    try:
        chosen = os.fspath(dir) if dir is not None else os.environ.get("TRACKER_DIR") or DEFAULT_RUNS_DIR
    except TypeError:
        raise ArgumentTypeError("dir", dir, "a str or path") from None
    return os.path.abspath(chosen)


def run_slug(run_id: str) -> str:
    """The run's folder name on a site (runs/<slug>/index.html): its id when that is a safe file
    name, else a hash of it. Here, not in the site, so that `tracker watch` links a run's page
    without importing the site."""
    if SAFE_SLUG.match(run_id) and ".." not in run_id:
        return run_id
    return "run-" + hashlib.sha256(run_id.encode("utf-8", "replace")).hexdigest()[:16]
