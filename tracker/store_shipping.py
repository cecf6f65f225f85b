"""What goes to a store and when: an events file as segments, every other file of a run folder whole.

The shippers keep what the store holds of a spool run folder and upload what is missing; their
state moves only once an upload succeeded, so after a failure the next ``ship`` starts again from
exactly where the store's copy ends. tracker/store_upload.py runs them on the uploader's thread
every few seconds, and once more at ``finish()``; ``tracker sync`` runs them once, their state
read back from the store. ``Store`` is the only code that touches fsspec, which it imports.
"""
from __future__ import annotations

import os
import posixpath
import re
import time

from .layout import MAIN_EVENTS_FILE
from .run_keys import is_events_file
from .segments import (closed_segment_name, open_segment_name, parse_segment, plan_segments, segments_folder,
                       whole_lines)
from .store_backends import fetch_all, own_filesystem
from .store_changes import CLOCK_TOLERANCE_S, entry_body, entry_name, parse_entry, writer_token
from .store_urls import without_credentials

SEGMENT_BYTES = int(float(os.environ.get("TRACKER_SEGMENT_MB", "4")) * 2**20)
SEGMENT_AGE_S = float(os.environ.get("TRACKER_SEGMENT_AGE_S", "300"))
CONSOLE_UPLOAD_INTERVAL_S = 30.0  # a console log is uploaded whole: not every few seconds
PIPED_FILE_BYTES = 16 * 2**20  # files up to this are read, then uploaded: a log appended to goes as one snapshot
STORE_NOTE = ".tracker-store.json"  # in a spool run folder: where the run goes; never uploaded
_WRITER_FILE = re.compile(r"^(?:heartbeat|console)-(.+)\.(?:json|log)$")


class Store:
    """A run's place in a store: ``<url>/<run id>/``, through fsspec. It notes in the store's change
    journal (tracker/store_changes.py) that the run changed, and which objects, once a round of
    uploads is done."""

    def __init__(self, url: str, run_id: str, clock=time.time):
        self.url = without_credentials(url)
        self.clock = clock  # this machine's clock (a parameter so a test can set it wrong)
        self.fs, root = own_filesystem(url)  # fsspec imported here only: see the module docstring
        if hasattr(self.fs, "auto_mkdir"):  # a local or mounted file system: folders as needed
            self.fs.auto_mkdir = True
        self.base = root.rstrip("/")
        self.run_id = run_id
        self.root = posixpath.join(self.base, run_id)
        self.token = writer_token()
        self.put_since: dict[str, int] = {}  # since the last entry: path in the run folder -> size
        self.deleted_since: set[str] = set()
        self.last_entry: str | None = None
        self.clock_offset_s: float | None = None  # the store's clock minus this machine's, once known

    def put_bytes(self, relative: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{relative}", data)
        self._note_put(relative, len(data))

    def put_file(self, relative: str, local: str) -> None:
        size = os.path.getsize(local)
        self.fs.put_file(local, f"{self.root}/{relative}")
        self._note_put(relative, size)

    def delete(self, relative: str) -> None:
        try:
            self.fs.rm_file(f"{self.root}/{relative}")
        except FileNotFoundError:
            pass
        self.put_since.pop(relative, None)
        self.deleted_since.add(relative)

    def _note_put(self, relative: str, size: int) -> None:
        self.put_since[relative] = size
        self.deleted_since.discard(relative)

    def note_changes(self) -> None:
        """Put this writer's journal entry if anything changed since the last, then delete the last:
        after the uploads it announces, so a reader that lists the run on seeing it finds them."""
        if not self.put_since and not self.deleted_since:
            return
        name = self._put_entry()
        self.put_since, self.deleted_since = {}, set()
        previous, self.last_entry = self.last_entry, name
        if previous is not None and previous != name:
            self._delete_entry(previous)

    def _put_entry(self) -> str:
        """Put an entry named by this machine's clock corrected to the store's: readers list the
        journal by time, and a clock minutes off would hide a writer's entries from them."""
        name = entry_name(self.clock() + (self.clock_offset_s or 0.0), self.token, self.run_id)
        body = entry_body(self.last_entry, self.put_since, self.deleted_since)
        self.fs.pipe_file(f"{self.base}/{name}", body)
        if self.clock_offset_s is None:  # the first entry: the store's time of it tells the offset
            self.clock_offset_s = 0.0
            try:
                offset = parse_entry(name, self.fs.info(f"{self.base}/{name}")).clock_offset_s
            except Exception:  # a store that cannot say: names keep this machine's clock
                offset = None
            if offset is not None and abs(offset) > CLOCK_TOLERANCE_S:
                self.clock_offset_s = offset
                wrong, name = name, entry_name(self.clock() + offset, self.token, self.run_id)
                self.fs.pipe_file(f"{self.base}/{name}", body)
                self._delete_entry(wrong)
        return name

    def _delete_entry(self, name: str) -> None:
        try:
            self.fs.rm_file(f"{self.base}/{name}")
        except Exception:  # a stale entry costs a reader one listing of the run, nothing else
            pass

    def get_bytes(self, relatives: list[str]) -> dict[str, bytes]:
        """The objects named (relative to the run), fetched together, less those not found (an
        open segment closed since the listing); raises any other error the store answers."""
        paths = {f"{self.root}/{relative}": relative for relative in relatives}
        found = {}
        for path, answer in fetch_all(self.fs, list(paths)).items():
            relative = paths[path]
            if isinstance(answer, bytes):
                found[relative] = answer
            elif not isinstance(answer, FileNotFoundError):
                raise answer
        return found

    def sizes(self) -> dict[str, int]:
        """Every object of the run, by path relative to it, with its size: fresh from the store."""
        self.fs.invalidate_cache(self.root)
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        prefix = self.root.rstrip("/") + "/"
        return {name[len(prefix):]: int(info.get("size") or 0) for name, info in found.items()
                if name.startswith(prefix)}


class EventsShipper:
    """One events file of the spool, shipped as segments. Its state says how far the store's
    copy goes, and only moves once an upload succeeded: after a failure the next ``ship``
    starts again from there."""

    def __init__(self, path: str, segment_bytes: int = SEGMENT_BYTES, segment_age_s: float = SEGMENT_AGE_S):
        self.path = path
        self.name = os.path.basename(path)
        self.folder = segments_folder(self.name)
        self.segment_bytes = segment_bytes
        self.segment_age_s = segment_age_s
        self.closed_end = 0  # the store's closed segments hold the file up to here
        self.open_uploaded: tuple[int, int] | None = None  # (offset, size) of the open segment in the store
        self.stale_opens: set[int] = set()  # offsets of open segments to delete
        self.open_since = time.monotonic()

    def resume_from(self, sizes: dict[str, int]) -> None:
        """Take up from what the store holds (``Store.sizes()``): after its closed chain."""
        prefix = self.folder + "/"
        segments = [parse_segment(name[len(prefix):], size) for name, size in sizes.items()
                    if name.startswith(prefix) and "/" not in name[len(prefix):]]
        segments = [segment for segment in segments if segment is not None]
        self.closed_end = plan_segments(segments).closed_end
        self.stale_opens = {segment.offset for segment in segments if segment.open}

    def unshipped_bytes(self) -> int:
        try:
            return max(0, os.path.getsize(self.path) - self.closed_end)
        except OSError:
            return 0

    def ship(self, store: Store, final: bool) -> None:
        """Upload what the file gained: closed segments where due, then the open segment (none
        when ``final``: everything is closed), then delete open segments that are stale."""
        while True:
            data, more = self._read_from(self.closed_end)
            lines = whole_lines(data)
            due = final or more or time.monotonic() - self.open_since >= self.segment_age_s
            if not (due and lines):
                break
            store.put_bytes(f"{self.folder}/{closed_segment_name(self.closed_end)}", data[:lines])
            if self.open_uploaded is not None:
                self.stale_opens.add(self.open_uploaded[0])
                self.open_uploaded = None
            self.closed_end += lines
            self.open_since = time.monotonic()
            if not more:
                data, lines = b"", 0
                break
        if lines and self.open_uploaded != (self.closed_end, lines):
            store.put_bytes(f"{self.folder}/{open_segment_name(self.closed_end)}", data[:lines])
            if self.open_uploaded is not None and self.open_uploaded[0] != self.closed_end:
                self.stale_opens.add(self.open_uploaded[0])
            self.open_uploaded = (self.closed_end, lines)
        for offset in sorted(self.stale_opens):
            if self.open_uploaded is None or offset != self.open_uploaded[0]:
                store.delete(f"{self.folder}/{open_segment_name(offset)}")
            self.stale_opens.discard(offset)

    def _read_from(self, offset: int) -> tuple[bytes, bool]:
        """Up to segment_bytes of the file from ``offset`` (more when one line is longer), and
        whether the file holds more after them."""
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < offset:
                    raise EventsFileShrank(self.path, size, offset)
                handle.seek(offset)
                data = handle.read(self.segment_bytes)
                while len(data) >= self.segment_bytes and whole_lines(data) == 0:
                    chunk = handle.read(2**20)  # one line longer than a segment: it goes whole
                    if not chunk:
                        break
                    data += chunk
                return data, offset + len(data) < size
        except FileNotFoundError:
            return b"", False


class EventsFileShrank(OSError):
    """The spool's events file is shorter than what the store holds of it: it was replaced."""

    def __init__(self, path: str, size: int, shipped: int):
        self.path = path
        super().__init__(f"{path} holds {size:,} bytes but {shipped:,} were uploaded from it: the file was "
                         "replaced or truncated; uploads of it stop")


class FolderShipper:
    """Every file of a spool run folder but the events files: uploaded whole when its size or
    modification time changed. Files of other writers sharing the folder (ranks of one node)
    are theirs to upload."""

    def __init__(self, folder: str, writer_id: str | None, events_file: str | None):
        self.folder = folder
        self.writer_id = writer_id
        self.events_file = events_file
        self.shipped: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) uploaded
        self.console_uploaded_at: dict[str, float] = {}

    def heartbeat_name(self) -> str | None:
        return f"heartbeat-{self.writer_id}.json" if self.writer_id else None

    def assume_uploaded(self, sizes: dict[str, int]) -> None:
        """Count files the store already holds at the same size as uploaded (``tracker sync``;
        heartbeats excepted: the spool's is the latest)."""
        for relative, stat in self._files():
            if sizes.get(relative) == stat[0] and not relative.startswith("heartbeat-"):
                self.shipped[relative] = stat

    def changed(self, final: bool) -> list[tuple[str, tuple[int, int]]]:
        """The files to upload now (a console log at most every CONSOLE_UPLOAD_INTERVAL_S but the last time)."""
        now = time.monotonic()
        found = []
        for relative, stat in self._files():
            if self.shipped.get(relative) == stat:
                continue
            if not final and _is_console_log(relative) and \
                    now - self.console_uploaded_at.get(relative, -1e9) < CONSOLE_UPLOAD_INTERVAL_S:
                continue
            found.append((relative, stat))
        return found

    def ship(self, store: Store, final: bool) -> None:
        for relative, stat in self.changed(final):
            self._ship_one(store, relative, stat)
            if stat[0] > 2**20:  # a large file takes a while: the heartbeat must not look stale meanwhile
                self.ship_heartbeat(store)

    def ship_heartbeat(self, store: Store) -> None:
        """This writer's heartbeat, if it changed: first in every round, since it says the run lives."""
        name = self.heartbeat_name()
        if name is None:
            return
        try:
            stat = os.stat(os.path.join(self.folder, name))
        except FileNotFoundError:
            return
        if self.shipped.get(name) != (stat.st_size, stat.st_mtime_ns):
            self._ship_one(store, name, (stat.st_size, stat.st_mtime_ns))

    def _ship_one(self, store: Store, relative: str, stat: tuple[int, int]) -> None:
        local = os.path.join(self.folder, relative)
        if stat[0] <= PIPED_FILE_BYTES:  # read first: a log appended to meanwhile goes as one snapshot
            try:
                with open(local, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                return
            store.put_bytes(relative, data)
        else:
            store.put_file(relative, local)
        self.shipped[relative] = stat
        if _is_console_log(relative):
            self.console_uploaded_at[relative] = time.monotonic()

    def unshipped(self) -> tuple[int, int]:
        """How many files are not uploaded as they are now, and their bytes."""
        files = [stat for relative, stat in self._files() if self.shipped.get(relative) != stat]
        return len(files), sum(size for size, _ in files)

    def _files(self):
        for root, folders, files in os.walk(self.folder):
            folders.sort()
            for name in sorted(files):
                local = os.path.join(root, name)
                relative = os.path.relpath(local, self.folder).replace(os.sep, "/")
                if not self._uploads(relative):
                    continue
                try:
                    stat = os.stat(local)
                except FileNotFoundError:
                    continue
                yield relative, (stat.st_size, stat.st_mtime_ns)

    def _uploads(self, relative: str) -> bool:
        name = posixpath.basename(relative)
        if relative == STORE_NOTE or ".tmp-" in name:
            return False
        if "/" in relative:
            return True
        if is_events_file(name):
            return False  # segments: EventsShipper's
        if self.writer_id is None:
            return True  # tracker sync ships every writer's files
        match = _WRITER_FILE.match(name)
        if match:
            return match.group(1) == self.writer_id
        if name == "console.log":
            return self.events_file == MAIN_EVENTS_FILE
        return True


def _is_console_log(relative: str) -> bool:
    return "/" not in relative and relative.startswith("console") and relative.endswith(".log")


class CountingStore:
    """A Store that counts what it uploads, for tracker sync's report."""

    def __init__(self, store: Store, counts: list):
        self._store = store
        self._counts = counts

    def put_bytes(self, relative: str, data: bytes) -> None:
        self._store.put_bytes(relative, data)
        self._counts[0] += 1
        self._counts[1] += len(data)

    def put_file(self, relative: str, local: str) -> None:
        self._store.put_file(relative, local)
        self._counts[0] += 1
        self._counts[1] += os.path.getsize(local)

    def delete(self, relative: str) -> None:
        self._store.delete(relative)

    def note_changes(self) -> None:
        self._store.note_changes()
