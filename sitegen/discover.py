"""Finding runs: every readable run under the given roots, and every folder that could not be read."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

from tracker.reader import RunRecord, scan
from tracker.session import runs_root


@dataclass
class Discovery:
    runs: list[RunRecord]
    errors: list[tuple[str, str]]  # (run folder, why it could not be read)
    roots: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)


def discover(roots: list[str] | None) -> Discovery:
    """Scan each runs folder (a run id found in several roots is kept once, from the first root).

    Per-line problems inside a readable run (a torn last line) are kept on ``run.warnings``
    and shown on its page, so the reader's own warnings are not repeated here.
    """
    resolved = [runs_root(root) for root in (roots or [None])]
    missing = [root for root in resolved if not os.path.isdir(root)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scan(*resolved)
    # RunFormatError messages start with the folder; the site lists the folder beside the reason
    errors = [(path, message.removeprefix(f"{path}: ")) for path, message in result.errors]
    return Discovery(result.runs, errors, resolved, missing)
