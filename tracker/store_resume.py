"""What a run resumed into a store inherits: its events files read back from the store, then folded as a local resume folds them.

``tracker.init(dir="s3://...", resume=True)`` writes into this machine's spool, which may hold none
of the run: its writer finished and left the spool, or ran on another machine. The run's earlier
records are in the store, so a resume there lists the run's objects, assembles each writer's
events file from its segments (tracker/segments.py) into a temporary folder, takes this spool's
copy of a file instead where it holds more (a writer of this machine whose last bytes never reached
the store), and reads identity, config, tags and last step from that folder (tracker/resume.py).
Nothing else of the run is downloaded.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import warnings

from .resume import PreviousRun, previous_run
from .run_keys import is_events_file
from .segments import assemble, events_file_of, parse_segment, plan_segments, segments_folder
from .store_urls import without_credentials
from .store_shipping import Store


def previous_run_in_store(url: str, run_id: str, spool_folder: str) -> PreviousRun | None:
    """The state a writer resuming run ``run_id`` of the store ``url`` starts from, or None for a
    run the store does not hold. A store that cannot be read is one warning, and None: training goes
    on, without the earlier config, tags and step."""
    try:
        events = _events_from_store(Store(url, run_id))
    except Exception as exc:  # each backend raises its own types: all mean "not now"
        # Also a fresh job's rank zero asks (its id may be a requeued job's): say what is at stake, not more.
        warnings.warn(f"tracker: cannot read run {run_id} back from {without_credentials(url)} "
                      f"({type(exc).__name__}: {exc}); what it logged before, if anything, is not carried over "
                      "(config, tags, last step). Training continues", RuntimeWarning, stacklevel=4)
        events = {}
    with tempfile.TemporaryDirectory(prefix="tracker-resume-") as folder:
        for name, data in events.items():
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
        for name in _local_events_files(spool_folder):
            local = os.path.join(spool_folder, name)
            if os.path.getsize(local) > len(events.get(name, b"")):
                shutil.copyfile(local, os.path.join(folder, name))
        return previous_run(folder)


def _events_from_store(store: Store) -> dict[str, bytes]:
    """Each events file of the run, by name, as its segments in the store rebuild it (up to a
    missing segment, if any: what follows it cannot be placed)."""
    segments: dict[str, list] = {}
    for relative, size in store.sizes().items():
        parent, name = posixpath.split(relative)
        events_file = events_file_of(parent)
        segment = parse_segment(name, size) if events_file else None
        if segment is not None:
            segments.setdefault(events_file, []).append(segment)
    rebuilt = {}
    for events_file, found in segments.items():
        plan = plan_segments(found)
        order = plan.closed + ([plan.open] if plan.open else [])
        names = {segment.name: f"{segments_folder(events_file)}/{segment.name}" for segment in order}
        fetched = store.get_bytes(list(names.values()))
        pieces = []
        for segment in order:
            if names[segment.name] not in fetched:
                break  # gone since the listing: what follows cannot be placed
            pieces.append((segment, fetched[names[segment.name]]))
        rebuilt[events_file] = assemble(pieces)
    return rebuilt


def _local_events_files(folder: str) -> list[str]:
    try:
        return [name for name in os.listdir(folder) if is_events_file(name)]
    except OSError:
        return []
