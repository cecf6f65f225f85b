"""Runs in a store read through a local cache: list the store, download only new or changed objects, rebuild each run's folder.

``tracker ls/show/diff/build/serve --runs s3://bucket/prefix`` (any fsspec URL) read the runs
folder this module keeps beside the store, so the reader, the listing and the site read a store's
runs as they read a local folder. The store holds each run as docs/format.md's "Runs in object
storage" lays it out (tracker/segments.py): the run folder's files as objects, and each events
file as closed segments (immutable) and one open segment (replaced while the run runs).

One sync (``StoreCache.sync``):

1. lists the store: one recursive listing of the prefix (paged by the backend, 1,000 keys a
   request on S3; ``store_backends.list_files``), with each object's size and ETag (or
   modification time where there is none); or, once a whole listing found a change journal
   (tracker/store_changes.py), only the journal past the cursor and the runs its new entries name;
2. plans (``plan_sync``, pure) against the cache's state file, ``store-state.json``: a closed
   segment is fetched once, ever (the state keeps how many bytes of closed segments each local
   events file holds); the open segment, a heartbeat, a console log or any other file is fetched
   again only when its size or version changed;
3. downloads the planned objects, a batch at a time (each fetched concurrently by the backend),
   and after each batch
4. rebuilds: a file is replaced atomically; an events file only ever grows, by the segments'
   bytes past its end (the bytes it holds are the writer's file's first bytes), so a reader sees
   what it would see of a local run; a gap between segments is a problem naming the object, and
   what follows waits for the next sync;
5. removes the files and run folders whose objects are gone, logs which folders it touched
   (store_generations.py: the next ``tracker ls`` checks only those), and writes the state.

A run folder none of whose objects changed is not touched, so the listing's cache (keyed on sizes
and modification times) and an incremental build skip it. A killed run keeps its last heartbeat
object and no end record: the reader shows it crashed, as it would a local one. fsspec is imported
only when a store is opened; credentials are the backend's business (environment, profiles):
the state names the URL without a password, and the cache folder is a hash of it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field

from .atomic_file import replace_file, replacing
from .errors import TrackerError
from .fast_json import decode_fast, encode_json
from .forked_work import fork_work
from .segments import SegmentGapError, assemble
from .store_urls import is_store_url, without_credentials
from .store_backends import (BACKEND_MODULES, fetch_all, install_hint, list_after, list_files, missing_bucket,
                             own_filesystem)
from .store_changes import (CHANGES_FOLDER, MARGIN_S, ChangeEntry, EntryChanges, chained_changes, full_listing_due,
                            is_journal_key, journal_after_listing, journal_days, next_chains, next_journal,
                            parse_entry, parse_entry_body, start_after)
from .store_generations import record_sync
from .store_plan import (STATE_FORMAT, EventsPlan, StoreObject, SyncPlan, empty_state, is_segment_key, merged_state,
                         next_state, object_version, objects_after_changes, plan_sync, safe_key, scoped_state)

CACHE_DIR_ENV = "TRACKER_CACHE_DIR"
STATE_FILE = "store-state.json"
JOURNAL_FILE = "store-journal.json"  # the change journal's cursor: read on every sync, small
RUNS_FOLDER = "runs"  # <store's cache>/runs: the runs folder the reader reads
STORES_FOLDER = "store"  # <cache dir>/store/<hash of the URL>/: one store's cache
DOWNLOAD_BATCH = 256  # objects one cat() fetches together (s3fs fetches them concurrently)
LARGE_FILE_BYTES = 8 << 20  # a larger file (an artifact) streams to disk rather than through memory
# tracker serve and watch list a store again this often; the writers upload every 5 s by default.
STORE_POLL_INTERVAL_S = float(os.environ.get("TRACKER_STORE_POLL_S", "5"))


class StoreError(TrackerError):
    """A store could not be opened or listed, and no earlier sync left a cache to read instead."""

    def __init__(self, url: str, reason: str):
        self.url = without_credentials(url)
        self.reason = reason
        super().__init__(f"--runs {self.url}: {reason}")


@dataclass
class SyncReport:
    """What one sync did, for the line a command prints."""

    url: str
    listed: int = 0
    runs: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    removed: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    offline: str | None = None  # why the store could not be listed; the cache is read as last synced
    changed_runs: int | None = None  # runs the change journal named; None when the whole store was listed

    def line(self) -> str:
        """E.g. 'synced s3://b/runs: 12 runs, 3 of 80 objects downloaded (12.3 kB), 0 removed in 0.2s',
        or '... from its change journal: 1 changed run, 1 of 3 objects downloaded ...'."""
        url = without_credentials(self.url)
        if self.offline:
            return f"{url} could not be listed ({self.offline}); reading the runs as last synced"
        if self.changed_runs is None:
            runs = f"{self.runs} run{'s' * (self.runs != 1)}"
        else:
            runs = f"{self.changed_runs} changed run{'s' * (self.changed_runs != 1)}"
            url += " from its change journal"
        return (f"synced {url}: {runs}, {self.downloaded} of {self.listed} objects downloaded "
                f"({self.downloaded_bytes / 1e3:.1f} kB), {self.removed} removed in {self.seconds:.1f}s")


def default_cache_dir() -> str:
    """$TRACKER_CACHE_DIR, else $XDG_CACHE_HOME/tracker, else ~/.cache/tracker."""
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen:
        return os.path.abspath(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracker")


def cache_folder(url: str, cache_dir: str | None = None) -> str:
    """Where the cache of ``url`` lives: <cache dir>/store/<hash of the URL>/. The hash is of the URL
    without credentials or a trailing slash: s3://b/runs and s3://b/runs/ share one cache."""
    digest = hashlib.sha256(without_credentials(url).rstrip("/").encode("utf-8")).hexdigest()[:16]
    return os.path.join(os.path.abspath(cache_dir) if cache_dir else default_cache_dir(), STORES_FOLDER, digest)


def store_url(runs_folder: str) -> str | None:
    """The URL (without credentials) of the store whose cache's runs folder ``runs_folder`` is, as
    its last sync recorded it; None for any other folder. For messages that name what a person asked
    for (``tracker ls``: "no runs in s3://bucket/prefix"), not the cache's path."""
    if os.path.basename(runs_folder) != RUNS_FOLDER:
        return None
    try:
        with open(os.path.join(os.path.dirname(runs_folder), STATE_FILE), encoding="utf-8") as handle:
            url = json.load(handle).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return url if isinstance(url, str) else None


def open_store(url: str, storage_options: dict | None = None):
    """(fsspec filesystem, root path) of a store URL; a StoreError names the package to install."""
    protocol = url.split("://", 1)[0].lower()
    try:
        # optional (the [s3] extra, or fsspec and a backend): tried first to tell a missing fsspec
        # from a missing backend
        import fsspec.core  # noqa: F401
    except ImportError:
        raise StoreError(url, "reading a store needs fsspec, which is not installed: "
                              f"{install_hint(protocol)}") from None
    try:
        fs, root = own_filesystem(url.rstrip("/"), storage_options)
    except ImportError:  # fsspec knows the protocol; its backend's package is missing
        raise StoreError(url, f"reading {protocol}:// needs {BACKEND_MODULES.get(protocol, 'its fsspec backend')}, "
                              f"which is not installed: {install_hint(protocol)}") from None
    except ValueError as exc:
        raise StoreError(url, f"no fsspec backend knows {protocol}:// ({exc}); use s3://, gs://, az://, "
                              "another protocol fsspec lists, or a folder") from None
    if getattr(fs, "max_concurrency", 1) > 1:
        # s3fs asks an object's size (a HEAD) before each GET, to fetch a big one in ranges at
        # once; what a sync reads whole is segments of a few MiB and small files (a larger file
        # streams through get_file), so one GET each, not two requests.
        fs.max_concurrency = 1
    return fs, root.rstrip("/")


class _StateRead:
    state: dict | None = None

    def run(self, read) -> None:
        self.state = read()


class StoreCache:
    """One store's runs kept as a local runs folder, ``runs_folder``, brought up to date by ``sync()``."""

    def __init__(self, url: str, folder: str | None = None, storage_options: dict | None = None):
        self.url = url
        self.folder = folder or cache_folder(url)
        self.runs_folder = os.path.join(self.folder, RUNS_FOLDER)
        self.storage_options = storage_options
        self._store = None

    def sync(self, on_applied=None) -> SyncReport:
        """List the store (or only its change journal and the runs it names), download what is new
        or changed, rebuild the run folders (see the module doc). ``on_applied(report)`` is called
        once the run folders are as the store has them, before the state is written (a forked
        sync's parent reads the runs meanwhile)."""
        started = time.monotonic()
        report = SyncReport(self.url)
        os.makedirs(self.folder, exist_ok=True)
        with self._locked():
            # Run folders removed by hand: their files are no longer what the state says it applied.
            fresh = not os.path.isdir(self.runs_folder)
            os.makedirs(self.runs_folder, exist_ok=True)
            journal = None if fresh else self._read_journal_file()
            state = None  # the state file (megabytes at 100,000 runs): read only when a run changed
            try:
                changed = None if full_listing_due(journal, time.time()) else self._read_journal(journal, report)
                if changed is None:
                    state = empty_state() if fresh else self._read_state()
                    listed, new_journal = self._list()
                    new_journal["chains"] = journal.get("chains", {}) if journal else {}  # what they say still holds
                    scoped, runs = state, None
                else:
                    new_journal, entries = changed
                    runs = {entry.run for entry in entries}
                    if runs:
                        chains = new_journal["chains"]
                        with self._state_read_aside() as reading:  # decoded while the store answers
                            bodies = self._entry_bodies([entry for entry in entries if entry.chain in chains])
                            chained = chained_changes(entries, chains, bodies)
                            listed = self._list_runs(runs - chained.keys())  # the others' entries say what changed
                        state = reading.state
                        scoped = scoped_state(state, runs)
                        damaged = {run for run in chained if self._lacks_closed_bytes(scoped, run)}
                        if damaged:  # a file the cache holds less of than its state says: listed, rebuilt
                            listed |= self._list_runs(damaged)
                        listed |= objects_after_changes(scoped, {run: chained[run] for run in chained.keys() - damaged})
                    else:
                        listed = {}
            except StoreError as exc:
                if journal is None and (state or self._read_state())["synced_at"] is None:
                    raise  # never synced: there is nothing to read instead
                report.offline = exc.reason
                return report
            after = None
            if state is not None:
                plan = plan_sync(listed, scoped, self._local_size)
                if runs is not None:  # only these runs were listed: a run is gone when none of its objects is
                    plan.removed_runs = sorted(run for run in runs if not any(key.startswith(run + "/") for key in listed))
                applied, closed_ends, failed = set(), dict(scoped["closed"]), set()
                # A batch at a time: a first sync of 100,000 runs would otherwise hold every byte at once.
                for batch in plan.batches(DOWNLOAD_BATCH):
                    fetched = self._download([listed[key] for key in batch.keys()], report, failed)
                    applied |= self._write_files(batch.files, fetched)
                    applied |= self._extend_events(batch.events, fetched, closed_ends, report, failed)
                report.removed = self._remove(plan)
                touched = {key.split("/", 1)[0] for key in [*plan.keys(), *plan.removed, *plan.removed_runs]}
                if touched:
                    record_sync(self.folder, touched)
                after = next_state(scoped, listed, applied, closed_ends, without_credentials(self.url), plan.segmented)
                if runs is not None:  # a run with a download failed or a segment misplaced is listed on its next change
                    done = {run for run in runs if not any(key.startswith(run + "/") for key in failed)}
                    new_journal["chains"] = next_chains(new_journal["chains"], entries, done, time.time())
            report.listed = len(listed)
            report.runs = len({key.split("/", 1)[0] for key in listed})
            report.changed_runs = None if runs is None else len(runs)
            report.seconds = time.monotonic() - started
            if on_applied is not None:
                on_applied(report)
            if after is not None:
                if runs:
                    after = merged_state(state, after, runs)
                if state["synced_at"] is None or (after["objects"], after["closed"]) != (state["objects"], state["closed"]):
                    # Not on a sync that changed nothing: a poll of 100,000 runs would rewrite megabytes.
                    replace_file(os.path.join(self.folder, STATE_FILE), encode_json(after))
            if new_journal != journal:
                replace_file(os.path.join(self.folder, JOURNAL_FILE), encode_json(new_journal))
        return report

    # -- the store

    def _opened(self):
        if self._store is None:
            self._store = open_store(self.url, self.storage_options)
        return self._store

    def _list(self) -> tuple[dict[str, StoreObject], dict]:
        """Every object under the prefix by key (one listing, paged by the backend, nothing read),
        and the journal's state as that listing leaves it (``journal_after_listing``)."""
        fs, root = self._opened()
        # All of it (the instance is this cache's own): s3fs's invalidate_cache(root) would keep the
        # listings of the run folders under it.
        fs.invalidate_cache()  # a poll must see what the writers uploaded since the last one
        listed_at = time.time()
        try:
            found = list_files(fs, root)
            missing = not found and missing_bucket(self.url, fs, root)
        except FileNotFoundError:
            missing = True
        except Exception as exc:  # each backend raises its own types (botocore, aiohttp, azure...)
            raise StoreError(self.url, f"listing failed: {type(exc).__name__}: {exc}") from exc
        if missing:
            raise StoreError(self.url, "no such bucket or container")
        objects, entries = self._objects(found, root)
        return objects, journal_after_listing(entries, listed_at)

    def _list_runs(self, runs: set[str]) -> dict[str, StoreObject]:
        """The objects of these runs (keys under the prefix: '<run id>', 'team-a/<run id>'), one
        listing each."""
        fs, root = self._opened()
        fs.invalidate_cache()
        objects = {}
        for run in sorted(runs):
            try:
                found = list_files(fs, f"{root}/{run}")
            except FileNotFoundError:
                continue  # the run is gone
            except Exception as exc:
                raise StoreError(self.url, f"listing {run} failed: {type(exc).__name__}: {exc}") from exc
            objects |= self._objects(found, root)[0]
        return objects

    def _read_journal(self, journal: dict, report: SyncReport) -> tuple[dict, list[ChangeEntry]] | None:
        """(the journal's next state, the entries not seen before: their runs changed), listing
        only the entries past each journal's cursor, in the folders of the days since; None when
        the whole store must be listed instead: an entry whose time is too far from the store's
        clock (named in report.problems), a cursor more than MAX_JOURNAL_DAYS old."""
        fs, root = self._opened()
        fs.invalidate_cache()
        found = []
        for prefix, cursor in journal["journals"].items():
            days = journal_days(cursor, time.time())
            if days is None:
                return None  # the cursor is days old: as many listings as days, or one whole one
            listed, after = {}, f"{root}/{prefix}{start_after(cursor)}"
            for day in days:
                folder = f"{root}/{prefix}{CHANGES_FOLDER}/{day}"
                try:
                    listed |= list_after(fs, folder, after)
                except FileNotFoundError:
                    pass
                except Exception as exc:
                    raise StoreError(self.url, f"listing {prefix}{CHANGES_FOLDER}/{day} failed: "
                                               f"{type(exc).__name__}: {exc}") from exc
            for path, info in listed.items():
                entry = parse_entry(path[len(root) + 1:], info)
                if entry is None or entry.journal != prefix:
                    continue
                off_s = entry.clock_offset_s
                if off_s is not None and abs(off_s) > MARGIN_S / 2:
                    report.problems.append(
                        f"{without_credentials(self.url)}/{entry.key}: this change's time is {off_s:+.0f} s off the "
                        "store's clock (a writer's clock is wrong): the whole store was listed instead")
                    return None
                found.append(entry)
        return next_journal(journal, found)

    def _objects(self, found: dict[str, dict], root: str) -> tuple[dict[str, StoreObject], list[ChangeEntry]]:
        """A listing's files as objects by key under the prefix (those of run folders only), and
        its journal entries."""
        prefix = root + "/"
        objects, entries = {}, []
        for path, info in found.items():
            key = path[len(prefix):] if path.startswith(prefix) else ""
            if is_journal_key(key):
                entry = parse_entry(key, info)
                if entry is not None:
                    entries.append(entry)
            elif safe_key(key) and info.get("type", "file") == "file":
                objects[key] = StoreObject(key, int(info.get("size") or 0), object_version(info))
        return objects, entries

    def _entry_bodies(self, entries: list[ChangeEntry]) -> dict[str, EntryChanges]:
        """The changes each entry's body names, by entry key, fetched together; those gone since
        the listing (the writer put its next one), unreadable or naming none are left out."""
        fs, root = self._opened()
        paths = {f"{root}/{entry.key}": entry.key for entry in entries}
        try:
            answers = fetch_all(fs, list(paths))
        except Exception:  # the store failed here: the runs are listed instead, and fail there if it is down
            return {}
        bodies = {paths[path]: parse_entry_body(answer) for path, answer in answers.items()
                  if isinstance(answer, bytes)}
        return {key: body for key, body in bodies.items() if body is not None}

    def _download(self, objects: list[StoreObject], report: SyncReport, failed: set[str]) -> dict[str, bytes | str]:
        """{key: bytes, or the path of a temporary file for a large plain file}. An object that
        failed is left out (fetched again next sync), named in report.problems and added to
        ``failed``; one deleted since the listing (a closed open segment) is left out silently."""
        fs, root = self._opened()
        fetched: dict[str, bytes | str] = {}
        large = [obj for obj in objects if obj.size > LARGE_FILE_BYTES and not is_segment_key(obj.key)]
        small = [obj for obj in objects if obj.size <= LARGE_FILE_BYTES or is_segment_key(obj.key)]
        for start in range(0, len(small), DOWNLOAD_BATCH):
            paths = {f"{root}/{obj.key}": obj.key for obj in small[start:start + DOWNLOAD_BATCH]}
            try:
                answers = fetch_all(fs, list(paths))
            except Exception as exc:
                answers = dict.fromkeys(paths, exc)
            for path, answer in answers.items():
                key = paths[path]
                if isinstance(answer, bytes):
                    fetched[key] = answer
                elif not isinstance(answer, FileNotFoundError):
                    failed.add(key)
                    report.problems.append(f"{without_credentials(self.url)}/{key}: download failed: {answer}")
        for obj in large:
            incoming = os.path.join(self.folder, "incoming")
            os.makedirs(incoming, exist_ok=True)
            handle, local = tempfile.mkstemp(dir=incoming)
            os.close(handle)
            try:
                fs.get_file(f"{root}/{obj.key}", local)
                fetched[obj.key] = local
            except Exception as exc:
                os.remove(local)
                if not isinstance(exc, FileNotFoundError):
                    failed.add(obj.key)
                    report.problems.append(f"{without_credentials(self.url)}/{obj.key}: download failed: {exc}")
        report.downloaded += len(fetched)
        report.downloaded_bytes += sum(len(data) if isinstance(data, bytes) else os.path.getsize(data)
                                       for data in fetched.values())
        return fetched

    # -- the cache folder

    def _lacks_closed_bytes(self, state: dict, run: str) -> bool:
        """Whether an events file of ``run`` holds fewer bytes than the closed segments ``state``
        says it holds (changed by hand): a listing of the run, not its entries, rebuilds it."""
        prefix = run + "/"
        return any(self._local_size(key) < held for key, held in state["closed"].items() if key.startswith(prefix))

    def _local_path(self, key: str) -> str:
        return os.path.join(self.runs_folder, *key.split("/"))

    def _local_size(self, key: str) -> int:
        try:
            return os.path.getsize(self._local_path(key))
        except OSError:
            return 0

    def _write_files(self, keys: list[str], fetched: dict) -> set[str]:
        """Each fetched plain file replaced atomically in its run folder; the keys written."""
        written = set()
        for key in keys:
            data = fetched.get(key)
            if data is None:
                continue
            target = self._local_path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if isinstance(data, bytes):
                replace_file(target, data)
            else:
                with replacing(target) as temporary:
                    shutil.move(data, temporary)
            written.add(key)
        shutil.rmtree(os.path.join(self.folder, "incoming"), ignore_errors=True)
        return written

    def _extend_events(self, plans: list[EventsPlan], fetched: dict, closed_ends: dict[str, int],
                       report: SyncReport, failed: set[str]) -> set[str]:
        """Append each events file's fetched segments, moving its end in ``closed_ends`` (events key:
        bytes of closed segments held); the keys of the open segments applied. An events file with
        a segment misplaced or not the size listed is added to ``failed``."""
        applied_open = set()
        for plan in plans:
            report.problems += [f"{without_credentials(self.url)}/{problem}" for problem in plan.segments.problems]
            if plan.segments.problems:
                failed.add(plan.key)
            pieces = []
            for segment in plan.segments.closed + ([plan.segments.open] if plan.segments.open else []):
                data = fetched.get(f"{plan.folder}/{segment.name}")
                if data is None:
                    break  # failed or gone: what follows waits for the next sync
                pieces.append((segment, data))
            try:
                content = assemble(pieces, plan.segments.start)
            except SegmentGapError as exc:  # a closed segment's bytes are not the size it was listed at
                report.problems.append(f"{without_credentials(self.url)}/{plan.folder}/{exc}")
                failed.add(plan.key)
                continue
            target = self._local_path(plan.key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            extend_events_file(target, plan.segments.start, content, plan.rebuild)
            closed_ends[plan.key] = plan.segments.start + sum(len(data) for segment, data in pieces if not segment.open)
            applied_open |= {f"{plan.folder}/{segment.name}" for segment, data in pieces if segment.open}
        return applied_open

    def _remove(self, plan: SyncPlan) -> int:
        """Remove the files whose objects are gone, and the run folders left with no object."""
        removed = 0
        for key in plan.removed:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._local_path(key))
                removed += 1
        for run in plan.removed_runs:
            shutil.rmtree(os.path.join(self.runs_folder, run), ignore_errors=True)
        return removed

    def _read_journal_file(self) -> dict | None:
        """The change journal's state as the last sync left it (store_changes.py); None without one."""
        try:
            with open(os.path.join(self.folder, JOURNAL_FILE), "rb") as handle:
                journal = json.loads(handle.read())
        except (OSError, ValueError):
            return None
        valid = isinstance(journal, dict) and isinstance(journal.get("journals"), dict) and \
            isinstance(journal.get("seen"), list) and isinstance(journal.get("full_at"), (int, float)) and \
            isinstance(journal.setdefault("chains", {}), dict)  # a cache of the version before chains has none
        return journal if valid else None

    @contextlib.contextmanager
    def _state_read_aside(self):
        """The state decoded on a thread while the body waits on the store (msgspec and the socket
        wait overlap; 0.13 s at 100,000 runs); ``.state`` once the body is done."""
        reading = _StateRead()
        thread = threading.Thread(target=reading.run, args=(self._read_state,), name="tracker-store-state")
        thread.start()
        try:
            yield reading
        finally:
            thread.join()

    def _read_state(self) -> dict:
        try:
            with open(os.path.join(self.folder, STATE_FILE), "rb") as handle:
                data = handle.read()
            state = decode_fast(data) or json.loads(data)  # megabytes at 100,000 runs: msgspec, 4x faster
        except (OSError, ValueError):
            return empty_state()
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            return empty_state()  # another version's cache: start again rather than misread it
        return state

    @contextlib.contextmanager
    def _locked(self):
        """One sync of a cache at a time (tracker serve polling while a build syncs too)."""
        with open(os.path.join(self.folder, ".lock"), "a") as handle:
            try:
                import fcntl
            except ImportError:  # Windows: two syncs at once both rebuild from the same state
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def extend_events_file(path: str, start: int, content: bytes, rebuild: bool = False) -> None:
    """Make the local events file hold ``content`` from byte ``start`` on, by appending only.

    The file holds the writer's file's first bytes (closed segments up to ``start``, then maybe the
    bytes of an open segment applied earlier), so its bytes past ``start`` are ``content``'s
    first bytes: only the rest is appended, and a reader never sees it shrink. Bytes that differ
    (a writer that started its file again) are replaced from ``start``."""
    if rebuild:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    with open(path, "a+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        held = size - start
        if held >= len(content):
            return
        handle.seek(start)
        if handle.read(held) != content[:held]:
            handle.truncate(start)
            held = 0
        handle.seek(0, os.SEEK_END)
        handle.write(content[held:])


def synced_locations(locations: list, cache_dir: str | None = None, poll_interval_s: float | None = None,
                     say=None, forks: bool = False, meanwhile=None) -> list:
    """``locations`` (runs folders, store URLs, or None for the default) with each store URL
    replaced by its cache's runs folder, synced now. ``say(line)`` gets each sync's line and each
    problem. With ``poll_interval_s``, a daemon thread syncs the stores again that often while
    the process runs (tracker serve and watch, whose watch of the folder then sees the uploads).

    ``forks`` (a command-line process that owns itself, and no poll): each sync runs in a forked
    child (forked_work.py), so that this process never starts fsspec's event-loop thread, which
    would keep it from forking later (the build's workers, its stamp checks), and ``meanwhile()``
    runs here while the children sync (the command's own imports). A child that fails leaves its
    sync to this process."""
    syncs = StoreSyncs(locations, cache_dir, forks and not poll_interval_s)
    if meanwhile is not None:
        meanwhile()
    resolved = syncs.finish(say)
    if syncs.caches and poll_interval_s:
        threading.Thread(target=poll_stores, args=(list(syncs.caches.values()), poll_interval_s, say),
                         name="tracker-store-poll", daemon=True).start()
    return resolved


class StoreSyncs:
    """The syncs of the stores among ``locations``, started (in forked children with ``forks``)
    until ``finish`` waits for them; see synced_locations."""

    def __init__(self, locations: list, cache_dir: str | None = None, forks: bool = False):
        self.locations = locations
        self.caches: dict[str, StoreCache] = {}
        for location in locations:
            if is_store_url(location) and location not in self.caches:
                self.caches[location] = StoreCache(location, cache_folder(location, cache_dir))
        self.children = {location: _forked_sync(cache) for location, cache in self.caches.items()} if forks else {}

    def runs_folders(self) -> list[str]:
        """The runs folder of each store's cache (synced once ``finish`` returns)."""
        return [cache.runs_folder for cache in self.caches.values()]

    def finish(self, say=None) -> list:
        """The locations with each store's cache's runs folder in its place, once each is synced
        (``say`` gets each sync's line and problems); raises a StoreError of a store never synced."""
        for location, cache in self.caches.items():
            child = self.children.get(location)
            report_sync(_answered(child, cache) if child is not None else cache.sync(), say)
        return [self.caches[location].runs_folder if location in self.caches else location
                for location in self.locations]

    def end(self) -> None:
        """Wait for the children (each writes its cache's state after it replied), stopping those
        whose answers were not taken (a command that failed meanwhile)."""
        for child in self.children.values():
            if child is not None:
                child.end(kill=not child.answered)


def _forked_sync(cache: StoreCache):
    """A child syncing ``cache``; it replies once the run folders are synced and then writes the
    cache's state (a tenth of a megabyte a thousand runs) while its parent reads them."""
    def work(reply) -> bytes:
        # The collector off for the child's whole life (it ends with os._exit): the state's
        # hundreds of thousands of containers hold no cycles, and a collection walking them took
        # CPU from the command that waits for this answer.
        gc.disable()
        try:
            report = cache.sync(on_applied=lambda synced: reply(_report_bytes(dataclasses.asdict(synced))))
        except StoreError as exc:
            return _report_bytes({"error": exc.reason})
        return _report_bytes(dataclasses.asdict(report))  # sent when it never replied (a store offline)

    return fork_work(work, replies_early=True)


def _report_bytes(fields: dict) -> bytes:
    return json.dumps(fields).encode("utf-8")


def _answered(child, cache: StoreCache) -> SyncReport:
    """The report a sync's child sent back (its StoreError raised here), or the sync done here
    when the child gave no whole answer."""
    answer = child.early_answer()
    try:
        fields = json.loads(answer) if answer is not None else None
    except ValueError:
        fields = None
    if not isinstance(fields, dict):  # it failed before it replied: its sync (if any) ends, then this one
        child.end(kill=False)
        return cache.sync()
    if "error" in fields:
        child.end(kill=False)
        raise StoreError(cache.url, fields["error"])
    return SyncReport(**fields)


def poll_stores(caches: list[StoreCache], interval_s: float, say=None, stop: threading.Event | None = None) -> None:
    """Sync each cache every ``interval_s`` until ``stop`` is set. A sync that changed nothing says
    nothing; a store that cannot be listed says why once per cause and is polled on."""
    stop = stop or threading.Event()
    offline = dict.fromkeys(range(len(caches)))
    while not stop.wait(interval_s):
        for number, cache in enumerate(caches):
            try:
                report = cache.sync()
            except Exception as exc:  # a poll must never end the serve or the watch it feeds
                report = SyncReport(cache.url, offline=f"{type(exc).__name__}: {exc}")
            if report.offline != offline[number] or report.downloaded or report.removed or report.problems:
                report_sync(report, say)
            offline[number] = report.offline


def report_sync(report: SyncReport, say) -> None:
    """Pass a sync's line, then its problems as warnings, to ``say``."""
    if say is None:
        return
    say(("warning: " if report.offline else "") + report.line())
    for problem in report.problems:
        say(f"warning: {problem}")
