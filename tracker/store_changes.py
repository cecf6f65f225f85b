"""A store's change journal: one small object per writer naming the run it last changed, listed by readers from where they left off.

Listing every object of a store on every sync costs O(objects): at 100,000 runs on S3 that is 200
pages of 1,000 keys, many seconds and two hundred LIST requests each time ``tracker serve`` polls.
So each uploader, after a round that uploaded anything, puts one empty object

    <store>/.changes/<UTC day of the time>/<time ms:013d>-<writer token>/<run id>

and then deletes the entry it put before: the journal holds each writer's latest entry, and names
sort by time. The time is when the round's uploads were done, by the writer's clock corrected to
the store's (the store's modification time of its first entry tells the offset). A reader keeps
how far it has read (its cursor) and lists only the day folders since ``cursor - margin``, after
that name: the margin (TRACKER_STORE_CHANGES_MARGIN_S, default 600 s) covers entries that were put
late (an upload round takes a while) and clocks a little off. For each entry it has not seen it
lists that run's objects alone. The entries of finished runs stay (one per writer, ever): the day
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
and a reader's cursor over them (the ``changes`` part of a store cache's journal file), pure:
tracker/store_shipping.py puts entries, tracker/store_cache.py lists them.
"""
from __future__ import annotations

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
    entry = ChangeEntry(key, journal, int(time_text), journal + run_id)
    stored_s = store_time_s(info) if info else None
    return entry if stored_s is None else ChangeEntry(key, journal, entry.time_ms, entry.run, int(stored_s * 1000))


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


def next_journal(journal: dict, found: list[ChangeEntry]) -> tuple[dict, set[str]]:
    """(the journal's state after a sync that listed ``found`` past its cursors, the runs of the
    entries not seen before: those to list)."""
    seen = set(journal["seen"])
    runs = {entry.run for entry in found if entry.key not in seen}
    cursors = dict(journal["journals"])
    for entry in found:
        cursors[entry.journal] = max(cursors[entry.journal], cursor_time_ms(entry))
    return {"journals": cursors, "seen": _recent(found, cursors), "full_at": journal["full_at"]}, runs


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
