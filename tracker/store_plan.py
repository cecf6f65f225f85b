"""What a sync of a store's cache fetches: pure, from the store's listing, the cache's state and its files' sizes.

tracker/store_cache.py does the I/O around it (listing, downloading, writing the run folders);
here is only the deciding, so that "a closed segment is fetched once, ever" and "an unchanged
object is not fetched" are plain functions of their inputs. The state (``store-state.json`` in a
store's cache) holds the size and version of each plain file and open segment applied, and for
each events file how many bytes of closed segments its local copy holds.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from .segments import (OFFSET_DIGITS, SEGMENTS_SUFFIX, SegmentPlan, closed_segment_name, events_file_of, parse_segment,
                       plan_segments)

STATE_FORMAT = 1


@dataclass(frozen=True)
class StoreObject:
    """One object as the listing shows it: its key under the store's prefix, size and version."""

    key: str  # "<run id>/<path in the run folder>"
    size: int
    version: str  # the ETag, or the modification time where the backend keeps no ETag

    @property
    def stamp(self) -> list:
        return [self.size, self.version]


@dataclass
class EventsPlan:
    """One events file of the cache: the segments to fetch and append to it."""

    key: str                  # "<run id>/<events file>", the local file
    folder: str               # "<run id>/<events file>.segments", where its objects are
    segments: SegmentPlan     # closed segments past what the file holds, and the open one if changed
    rebuild: bool = False     # the local file lost bytes the state says it holds: start again

    def keys(self) -> list[str]:
        wanted = self.segments.closed + ([self.segments.open] if self.segments.open else [])
        return [f"{self.folder}/{segment.name}" for segment in wanted]


@dataclass
class SyncPlan:
    """What one sync downloads, rebuilds and removes."""

    files: list[str] = field(default_factory=list)             # keys of plain files to download
    events: list[EventsPlan] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)           # local files whose objects are gone
    removed_runs: list[str] = field(default_factory=list)      # run folders with no object left
    segmented: set[str] = field(default_factory=set)           # events keys with segments listed

    def keys(self) -> list[str]:
        return self.files + [key for events in self.events for key in events.keys()]

    def batches(self, keys_per_batch: int) -> Iterator[SyncPlan]:
        """The files and events files to download, cut into plans of about ``keys_per_batch``
        objects (an events file's segments stay together), in order; the removals stay here."""
        batch, size = SyncPlan(), 0
        for item in [*self.files, *self.events]:
            if isinstance(item, str):
                batch.files.append(item)
                size += 1
            else:
                batch.events.append(item)
                size += len(item.keys())
            if size >= keys_per_batch:
                yield batch
                batch, size = SyncPlan(), 0
        if batch.files or batch.events:
            yield batch


def empty_state() -> dict:
    return {"format": STATE_FORMAT, "objects": {}, "closed": {}, "synced_at": None}


def object_version(info: dict) -> str:
    """What changes when an object is rewritten: its ETag, else its modification or creation time."""
    for name in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(name)
        if value is not None:
            return str(value)
    return ""


def safe_key(key: str) -> bool:
    """Whether a key names a file inside a run folder: '<run id>/<path>' with no empty, '.' or '..'
    part, no hidden run, and no temporary file. Others (a stray at the top) are skipped."""
    parts = key.split("/")
    return (len(parts) >= 2 and not parts[0].startswith(".")
            and all(part not in ("", ".", "..") and "\\" not in part for part in parts)
            and ".tmp-" not in parts[-1])


def is_segment_key(key: str) -> bool:
    """Whether a key is an object of an events file's ``.segments`` folder (a segment or a stray
    there), at any depth: a store may hold runs in sub-folders (team-a/<run id>/...)."""
    folder = key.rsplit("/", 2)[-2] if key.count("/") else ""
    return folder.endswith(SEGMENTS_SUFFIX) and events_file_of(folder) is not None  # endswith first: cheap


def plan_sync(listed: dict[str, StoreObject], state: dict, local_size) -> SyncPlan:
    """What to download (pure: from the listing, the state and ``local_size(key)`` of the cache's files).

    Plain files: those whose size or version differs from the state's. Events files:
    ``plan_segments`` from the bytes of closed segments the local file holds, so a closed segment
    is never fetched twice; the open segment when its name, size or version changed. A local
    events file shorter than that (damaged by hand) is rebuilt from its first segment. A plain
    object named like an events file beside that file's segments is left out: the segments win.
    """
    applied, closed = state["objects"], state["closed"]
    plan = SyncPlan()
    segments_of: dict[str, list[StoreObject]] = {}
    plain = []
    holds_segments: dict[str, bool] = {}  # by a folder's last part: a few names for all the runs
    for key, obj in listed.items():
        folder = key.rpartition("/")[0]
        last = folder.rpartition("/")[2]
        holds = holds_segments.get(last)
        if holds is None:
            holds = holds_segments[last] = last.endswith(SEGMENTS_SUFFIX) and events_file_of(last) is not None
        if holds:
            segments_of.setdefault(folder, []).append(obj)
        else:
            plain.append(key)
    for folder, objects in sorted(segments_of.items()):
        events_key = folder[: -len(SEGMENTS_SUFFIX)]
        held = closed.get(events_key, 0)
        if held and closed_within(objects, held) and local_size(events_key) >= held:
            plan.segmented.add(events_key)  # a finished run synced before: nothing new (most of a big store)
            continue
        found = [segment for obj in objects if (segment := parse_segment(obj.key.rpartition("/")[2], obj.size))]
        if not found:
            continue  # only objects a person left there
        plan.segmented.add(events_key)
        rebuild = local_size(events_key) < held
        start = 0 if rebuild else held
        segments = plan_segments(found, start, where=folder)
        if segments.open is not None and not rebuild and not segments.closed \
                and applied.get(f"{folder}/{segments.open.name}") == listed[f"{folder}/{segments.open.name}"].stamp:
            segments.open = None  # its bytes are in the local file already
        if segments.closed or segments.open or segments.problems or rebuild:
            plan.events.append(EventsPlan(events_key, folder, segments, rebuild))
    segmented = plan.segmented
    plan.files = sorted(key for key in plain if key not in segmented and applied.get(key) != listed[key].stamp)
    gone = [key for key in applied if key not in listed]
    gone_events = [key for key in closed if key not in segmented and key not in listed]
    plan.removed = sorted(key for key in gone if not is_segment_key(key)) + sorted(gone_events)
    # Only a run with an object gone can have gone whole.
    runs_left = {key.split("/", 1)[0] for key in gone + gone_events}
    if runs_left:
        runs_left -= {key.split("/", 1)[0] for key in listed}
    plan.removed_runs = sorted(runs_left)
    return plan


def objects_after_changes(state: dict, changes: dict[str, list]) -> dict[str, StoreObject]:
    """The objects of the runs in ``changes`` as a listing of each would show them, without one:
    from ``state`` (scoped to those runs), the plain files and open segments it applied and, for
    each events file, one closed segment from byte 0 that ends where the closed bytes it holds end
    (plan_sync then keeps those bytes and fetches only what follows); then each of the run's
    journal entries' changes in order (``(entry key, EntryChanges)``, store_changes.chained_changes):
    its deletions, and its puts, versioned by the entry's key."""
    objects: dict[str, StoreObject] = {}
    for run, entries in changes.items():
        prefix = run + "/"
        objects |= {key: StoreObject(key, size, version) for key, (size, version) in state["objects"].items()
                    if key.startswith(prefix)}
        for events_key, held in state["closed"].items():
            if held and events_key.startswith(prefix):
                key = f"{events_key}{SEGMENTS_SUFFIX}/{closed_segment_name(0)}"
                objects[key] = StoreObject(key, held, "")
        for entry_key, body in entries:
            for path in body.deleted:
                objects.pop(prefix + path, None)
            for path, size in body.put.items():
                objects[prefix + path] = StoreObject(prefix + path, size, entry_key)
    return objects


def closed_within(objects: list[StoreObject], end: int) -> bool:
    """Whether every object is a closed segment that ends by byte ``end``: ``plan_segments`` from
    ``end`` then has nothing to add, and is not asked (it parses each name)."""
    for obj in objects:
        name = obj.key[-OFFSET_DIGITS - 1:]
        if name[0] != "/" or not name[1:].isdecimal() or int(name[1:]) + obj.size > end:
            return False
    return True


def next_state(state: dict, listed: dict[str, StoreObject], applied: set[str], closed_ends: dict[str, int],
               url: str, segmented: set[str]) -> dict:
    """The state after a sync: the stamps of the plain files and open segments applied, now or
    before, that are still listed; the closed bytes each events file holds, for those whose
    segments are still listed (``segmented``, the plan's)."""
    objects = {key: stamp for key, stamp in state["objects"].items() if key in listed}
    objects |= {key: listed[key].stamp for key in applied}
    return {"format": STATE_FORMAT, "url": url, "objects": objects,
            "closed": {key: end for key, end in closed_ends.items() if key in segmented},
            "synced_at": time.time()}


def scoped_state(state: dict, runs: set[str]) -> dict:
    """The part of a state that is about these runs (keys under the prefix: '<run id>',
    'team-a/<run id>'): what a sync of only them plans against."""
    prefixes = tuple(run + "/" for run in runs)
    return {**state, "objects": {key: stamp for key, stamp in state["objects"].items() if key.startswith(prefixes)},
            "closed": {key: end for key, end in state["closed"].items() if key.startswith(prefixes)}}


def merged_state(state: dict, scoped_after: dict, runs: set[str]) -> dict:
    """The whole state after a sync of only these runs: theirs from ``scoped_after``, the rest as it was."""
    prefixes = tuple(run + "/" for run in runs)
    objects = {key: stamp for key, stamp in state["objects"].items() if not key.startswith(prefixes)}
    closed = {key: end for key, end in state["closed"].items() if not key.startswith(prefixes)}
    return {**scoped_after, "objects": objects | scoped_after["objects"], "closed": closed | scoped_after["closed"]}
