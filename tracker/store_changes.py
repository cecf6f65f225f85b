"""A store's change journal: one small object per writer naming the run it last changed, listed by readers from where they left off.

Listing every object of a store on every sync costs O(objects): at 100,000 runs on S3 that is 200
pages of 1,000 keys, many seconds and two hundred LIST requests each time ``tracker serve`` polls.
So each uploader, after a round that uploaded anything, puts one small object

    <store>/.changes/<UTC day of the time>/<time ms:013d>-<writer token>/<run id>

and then deletes the entry it put before: the journal holds each writer's latest entry, and names
sort by time. The time is when the round's uploads were done, by the writer's clock corrected to
the store's (the store's modification time of its first entry tells the offset). A reader keeps
how far it has read (its cursor) and lists only the day folders since ``cursor - margin``, after
that name: the margin (TRACKER_STORE_CHANGES_MARGIN_S, default 600 s) covers entries that were put
late (an upload round takes a while) and clocks a little off. For each entry it has not seen it
lists that run's objects alone, unless the entry says what changed: its body names the objects
the writer put (with their sizes) and deleted since its entry before, and that entry's key. A
reader that applied that entry before (its ``chains``: the last entry applied of each writer of a
run) applies these changes instead of listing the run, which on a store of many objects costs
more than the rest of the sync (moto walks every key of the bucket for each listing). A writer's
first entry, a chain the reader did not follow (it missed a round: the entry it would need is
gone), an entry with no body (an older writer) or one naming more than MAX_ENTRY_CHANGES objects
all mean a listing of the run, as before. The entries of finished runs stay (one per writer, ever): the day
folders keep a reader's listing to the entries of the days since its cursor, where GCS, Azure and
file systems, which cannot start a listing after a name, listed every entry the store ever had
(and moto sorted all of them for each listing).

A reader lists the whole store instead (as it always did) when it has no cursor, when the store has
no journal (runs written by an older version, or by hand), when its last whole listing is older than
TRACKER_STORE_FULL_LISTING_S (default 3,600 s: runs removed by hand, or a writer that keeps no
journal, show within an hour; 0 lists the whole store every time), when an entry's time and the
store's modification time of it differ by more than half the margin (a writer's clock too far off
to trust), or when its cursor lies more than MAX_JOURNAL_DAYS days back. Entries named without a
day folder (the journal's first version) count in whole listings only. docs/format.md describes
the journal so that another language's writer keeps it too. This module is the journal's names
and bodies and a reader's cursor and chains over them (a store cache's journal file), pure:
tracker/store_shipping.py puts entries, tracker/store_cache.py lists them.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

CHANGES_FOLDER = ".changes"
TIME_DIGITS = 13  # milliseconds since the epoch, zero-padded so that names sort by time
MARGIN_S = float(os.environ.get("TRACKER_STORE_CHANGES_MARGIN_S", "600"))
FULL_LISTING_ENV = "TRACKER_STORE_FULL_LISTING_S"
FULL_LISTING_S = 3600.0  # the default: runs removed by hand, or written without a journal, show within an hour
CLOCK_TOLERANCE_S = 30.0  # a writer names its entries by the store's clock once its own is further off
MAX_JOURNAL_DAYS = 7  # a cursor further back than this: the whole store is listed instead of each day's folder
DAY_MS = 86_400_000
MAX_ENTRY_CHANGES = 1_000  # objects an entry names at most; past this it names none and readers list the run


def writer_token() -> str:
    """What keeps one uploader's entries apart from another's put in the same millisecond."""
    return secrets.token_hex(6)


def entry_name(time_s: float, token: str, run_id: str) -> str:
    """The entry's key under the store's prefix: ``.changes/<day>/<ms>-<token>/<run id>``."""
    time_ms = int(time_s * 1000)
    return f"{CHANGES_FOLDER}/{day_folder(time_ms)}/{time_ms:0{TIME_DIGITS}d}-{token}/{run_id}"


def day_folder(time_ms: int) -> str:
    """The journal's folder of the entries of a time: its UTC day, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(time_ms // DAY_MS * 86_400, timezone.utc).strftime("%Y-%m-%d")


def start_after(cursor_ms: int, margin_s: float = MARGIN_S) -> str:
    """The name a listing of the journal starts after: entries from ``cursor - margin`` on."""
    from_ms = max(0, cursor_ms - int(margin_s * 1000))
    return f"{CHANGES_FOLDER}/{day_folder(from_ms)}/{from_ms:0{TIME_DIGITS}d}"


def journal_days(cursor_ms: int, now_s: float, margin_s: float = MARGIN_S) -> list[str] | None:
    """The day folders a listing from ``cursor - margin`` to now (plus the margin: the store's
    clock may be ahead of the reader's) looks in, oldest first; None when there are more than
    MAX_JOURNAL_DAYS of them (the whole store is listed instead)."""
    first = max(0, cursor_ms - int(margin_s * 1000)) // DAY_MS
    last = max(first, int((now_s + margin_s) * 1000) // DAY_MS)
    if last - first + 1 > MAX_JOURNAL_DAYS:
        return None
    return [day_folder(day * DAY_MS) for day in range(first, last + 1)]


@dataclass(frozen=True)
class ChangeEntry:
    """One entry as a reader lists it; ``journal`` is the store's sub-prefix it lies under ('' at the
    top, 'team-a/' for runs written to <store>/team-a), ``run`` the run's key prefix under the store."""

    key: str
    journal: str
    time_ms: int
    run: str
    store_ms: int | None = None  # the store's modification time of it, where the listing gives one
    token: str = ""

    @property
    def chain(self) -> str:
        """The entries of one writer of one run, each naming the one it replaced: ``<token>/<run>``."""
        return f"{self.token}/{self.run}"

    @property
    def clock_offset_s(self) -> float | None:
        """How far the store's time of the entry is from the time in its name (seconds, positive
        when the writer's clock is behind); None when the listing gave no time."""
        return None if self.store_ms is None else (self.store_ms - self.time_ms) / 1000


def parse_entry(key: str, info: dict | None = None) -> ChangeEntry | None:
    """The entry a key under the store's prefix names (with the store's time of it from the
    listing's ``info``), or None for any other key."""
    journal, marker, rest = key.rpartition(f"{CHANGES_FOLDER}/")
    if not marker or (journal and not journal.endswith("/")):
        return None
    day, _, dated = rest.partition("/")
    if len(day) == 10 and day[4] == "-" and day[7] == "-" and day.replace("-", "").isdecimal():
        rest = dated  # past its day folder (the first version of the journal had none)
    stamp, slash, run_id = rest.partition("/")
    time_text = stamp[:TIME_DIGITS]
    if not slash or not run_id or "/" in run_id or run_id.startswith(".") or not time_text.isdecimal() \
            or len(time_text) != TIME_DIGITS or stamp[TIME_DIGITS:TIME_DIGITS + 1] != "-":
        return None
    stored_s = store_time_s(info) if info else None
    return ChangeEntry(key, journal, int(time_text), journal + run_id,
                       None if stored_s is None else int(stored_s * 1000), stamp[TIME_DIGITS + 1:])


def is_journal_key(key: str) -> bool:
    """Whether a key lies in a change journal (never a run's object)."""
    return key.startswith(f"{CHANGES_FOLDER}/") or f"/{CHANGES_FOLDER}/" in key


def full_listing_due(journal: dict | None, now: float) -> bool:
    """Whether a sync must list the whole store: no journal known (a first sync, a store without one,
    a cache of an older version), or the last whole listing is older than $TRACKER_STORE_FULL_LISTING_S
    (read at each sync, so that a person who removed runs by hand can ask for one now)."""
    return not journal or not journal.get("journals") or now - journal.get("full_at", 0) >= full_listing_interval_s()


def full_listing_interval_s() -> float:
    try:
        return float(os.environ.get(FULL_LISTING_ENV, FULL_LISTING_S))
    except ValueError:
        return FULL_LISTING_S


def journal_after_listing(entries: list[ChangeEntry], listed_at: float) -> dict:
    """The journal's state after a whole listing (begun at ``listed_at``, the reader's clock) that
    found ``entries``: each journal's cursor at its latest entry. No entry: no journal, so the next
    sync lists the whole store again."""
    cursors: dict[str, int] = {}
    for entry in entries:
        cursors[entry.journal] = max(cursors.get(entry.journal, 0), cursor_time_ms(entry))
    return {"journals": cursors, "seen": _recent(entries, cursors), "full_at": listed_at}


def next_journal(journal: dict, found: list[ChangeEntry]) -> tuple[dict, list[ChangeEntry]]:
    """(the journal's state after a sync that listed ``found`` past its cursors, the entries not
    seen before: their runs are those that changed). Its ``chains`` are the last one's, until the
    sync moves them (next_chains)."""
    seen = set(journal["seen"])
    fresh = [entry for entry in found if entry.key not in seen]
    cursors = dict(journal["journals"])
    for entry in found:
        cursors[entry.journal] = max(cursors[entry.journal], cursor_time_ms(entry))
    return {"journals": cursors, "seen": _recent(found, cursors), "full_at": journal["full_at"],
            "chains": journal.get("chains", {})}, fresh


@dataclass(frozen=True)
class EntryChanges:
    """What an entry's body says: the entry this writer put before it (its key under the prefix the
    run is written to; None: its first), and the objects it put (path in the run folder: size) and
    deleted since that one; ``put`` None when it names none (past MAX_ENTRY_CHANGES)."""

    previous: str | None
    put: dict[str, int] | None
    deleted: list[str]


def entry_body(previous: str | None, put: dict[str, int], deleted: set[str] | list[str]) -> bytes:
    """An entry's body (docs/format.md, "The change journal"): JSON, the paths sorted."""
    if len(put) + len(deleted) > MAX_ENTRY_CHANGES:
        body = {"previous": previous, "put": None, "deleted": []}
    else:
        body = {"previous": previous, "put": dict(sorted(put.items())), "deleted": sorted(deleted)}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def parse_entry_body(data: bytes) -> EntryChanges | None:
    """The changes an entry's body names, or None for any body that names none a reader can use
    (empty, as older writers put them; not this shape; a path that leaves the run folder)."""
    try:
        body = json.loads(data)
        previous, put, deleted = body["previous"], body["put"], body["deleted"]
    except (ValueError, TypeError, KeyError):
        return None
    if put is None or not (previous is None or isinstance(previous, str)) or not isinstance(put, dict) \
            or not isinstance(deleted, list):
        return None
    paths = [*put, *deleted]
    if not all(isinstance(path, str) and _inside_run(path) for path in paths) \
            or not all(type(size) is int and size >= 0 for size in put.values()):
        return None
    return EntryChanges(previous, put, deleted)


def _inside_run(path: str) -> bool:
    return all(part not in ("", ".", "..") and "\\" not in part for part in path.split("/"))


def chained_changes(fresh: list[ChangeEntry], chains: dict[str, str],
                    bodies: dict[str, EntryChanges | None]) -> dict[str, list[tuple[str, EntryChanges]]]:
    """The runs whose changes since the last sync the entries name in full, each with its entries'
    (key, changes) in time order: those where each writer's new entries (``fresh``) follow on from
    the entry applied last of that writer (``chains``), each naming the one before it. A run with
    any other new entry (a writer's first, a chain broken by a round the reader missed, a body
    missing from ``bodies``) is left out: it is listed."""
    by_run: dict[str, list[ChangeEntry]] = {}
    for entry in fresh:
        by_run.setdefault(entry.run, []).append(entry)
    chained = {}
    for run, entries in by_run.items():
        changes, last = [], {}
        for entry in sorted(entries, key=lambda entry: (entry.time_ms, entry.key)):
            body = bodies.get(entry.key)
            previous = last.get(entry.chain, chains.get(entry.chain))
            # The body names it as its writer does, under the prefix the run is written to (team-a/...)
            if body is None or previous is None or previous == entry.key \
                    or body.previous is None or entry.journal + body.previous != previous:
                break
            last[entry.chain] = entry.key
            changes.append((entry.key, body))
        else:
            chained[run] = changes
    return chained


def next_chains(chains: dict[str, str], fresh: list[ChangeEntry], runs_done: set[str], now_s: float) -> dict[str, str]:
    """The last entry applied of each writer after a sync that brought ``runs_done`` (listed, or
    from their entries) up to date with the ``fresh`` entries; writers last heard of more than
    MAX_JOURNAL_DAYS ago are forgotten (a later entry of theirs means a listing of the run)."""
    after = dict(chains)
    for entry in sorted(fresh, key=lambda entry: (entry.time_ms, entry.key)):
        if entry.run in runs_done:
            after[entry.chain] = entry.key
        else:
            after.pop(entry.chain, None)  # its changes were not all applied: the next one lists the run
    oldest_ms = int(now_s * 1000) - MAX_JOURNAL_DAYS * DAY_MS
    return {chain: key for chain, key in after.items()
            if (entry := parse_entry(key)) is not None and entry.time_ms >= oldest_ms}


def _recent(entries: list[ChangeEntry], cursors: dict[str, int]) -> list[str]:
    """The keys of the entries the next listing lists again (within the margin before the cursor)."""
    margin_ms = int(MARGIN_S * 1000)
    return sorted(entry.key for entry in entries if entry.time_ms >= cursors[entry.journal] - margin_ms)


def cursor_time_ms(entry: ChangeEntry) -> int:
    """How far an entry moves a cursor: its time, but never past the store's time of it (plus the
    tolerance), so that one writer whose clock runs ahead cannot make a reader skip the others."""
    if entry.store_ms is None:
        return entry.time_ms
    return min(entry.time_ms, entry.store_ms + int(CLOCK_TOLERANCE_S * 1000))


def store_time_s(info: dict) -> float | None:
    """An object's modification time, by the store's clock, from a listing's info (S3's LastModified,
    Azure's last_modified, GCS's updated, a file system's mtime), or None."""
    for name in ("LastModified", "last_modified", "mtime", "updated", "created"):
        value = info.get(name)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(value, datetime):
            value = value.timestamp()
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None
