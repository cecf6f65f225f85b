"""A store's change journal (tracker/store_changes.py): writers put one entry per upload round and keep
only their latest; a reader that has listed the store once lists only the journal past its cursor
and the runs it names, against a real S3-compatible server (moto on 127.0.0.1) that counts requests.
"""
from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

from s3_server import s3_server  # noqa: F401 (a fixture)
from scripts import script_env
from test_site_support import append_record, log_run
from test_store_reading import bucket, put_run_folder  # noqa: F401 (a fixture)

from tracker.store_cache import JOURNAL_FILE, StoreCache
from tracker.store_changes import (MARGIN_S, MAX_ENTRY_CHANGES, MAX_JOURNAL_DAYS, ChangeEntry, EntryChanges,
                                   chained_changes, entry_body, entry_name, full_listing_due, is_journal_key,
                                   journal_after_listing, journal_days, next_chains, next_journal, parse_entry,
                                   parse_entry_body, start_after)
from tracker.segments import closed_segment_name, open_segment_name
from tracker.store_shipping import Store
from tracker.store_upload import sync_run


# -- names and cursors (pure) ------------------------------------------------------------------------

def test_an_entry_names_its_time_and_run_and_sorts_by_time():
    name = entry_name(1767225600.123, "a1b2c3", "run-7")
    assert name == ".changes/2026-01-01/1767225600123-a1b2c3/run-7"  # in the folder of its UTC day
    assert parse_entry(name) == ChangeEntry(name, "", 1767225600123, "run-7", token="a1b2c3")
    assert parse_entry(name).chain == "a1b2c3/run-7"  # one writer's entries of one run
    nested = parse_entry("team-a/" + name)
    assert (nested.journal, nested.run) == ("team-a/", "team-a/run-7")
    assert entry_name(999.0, "f", "r") < entry_name(1000.0, "0", "r")  # zero-padded: by time, then token
    assert entry_name(1767225599.999, "f", "r") < name  # the day before: its own folder, sorted first
    assert start_after(1767225600123, margin_s=600) == ".changes/2025-12-31/1767225000123"
    old = parse_entry(".changes/1767225600123-a1b2c3/run-7")  # the first version's name, without a day folder
    assert (old.time_ms, old.run) == (1767225600123, "run-7")
    for key in ("run-7/.changes/x", ".changes/123-a/r", ".changes/1767225600123-a1", ".changes/1767225600123-a/r/x",
                "team.changes/1767225600123-a/r", "run-7/console.log", ".changes/2026-01-01/x/r",
                ".changes/2026-01-01/1767225600123-a/r/x"):
        assert parse_entry(key) is None, key
    assert is_journal_key(name) and is_journal_key("team-a/" + name) and not is_journal_key("run-7/events.jsonl")


def test_a_reader_looks_in_the_folder_of_each_day_since_its_cursor_and_lists_whole_past_a_week():
    midnight_ms = 1767225600000  # 2026-01-01T00:00:00Z
    assert journal_days(midnight_ms + 3_600_000, midnight_ms / 1000 + 7200, margin_s=600) == ["2026-01-01"]
    # the cursor minus the margin falls in the day before; the store's clock may run past midnight
    assert journal_days(midnight_ms + 300_000, midnight_ms / 1000 + 600, margin_s=600) == ["2025-12-31", "2026-01-01"]
    assert journal_days(midnight_ms - 1_000_000, midnight_ms / 1000 - 700, margin_s=600) == ["2025-12-31"]
    assert journal_days(midnight_ms - 1_000_000, midnight_ms / 1000 - 500, margin_s=600) == ["2025-12-31", "2026-01-01"]
    assert len(journal_days(midnight_ms, midnight_ms / 1000 + 6 * 86_400, margin_s=0)) == MAX_JOURNAL_DAYS
    assert journal_days(midnight_ms, midnight_ms / 1000 + 7 * 86_400, margin_s=0) is None


def test_the_store_time_of_an_entry_keeps_a_clock_that_runs_ahead_from_moving_the_cursor():
    name = entry_name(2_000_000_000.0, "ahead", "r")  # a writer whose clock is far in the future
    stored = datetime.fromtimestamp(1_767_225_600, tz=timezone.utc)
    ahead = parse_entry(name, {"LastModified": stored})
    assert ahead.store_ms == 1_767_225_600_000
    journal = journal_after_listing([ahead], listed_at=1_767_225_600.0)
    assert journal["journals"][""] <= 1_767_225_600_000 + 30_000  # capped at the store's time of it
    assert parse_entry(name, {"updated": "2026-01-01T00:00:00Z"}).store_ms == 1_767_225_600_000


def test_a_reader_lists_again_each_entry_within_the_margin_and_syncs_only_runs_it_has_not_seen():
    first = [parse_entry(entry_name(1000.0, "w1", "a")), parse_entry(entry_name(1001.0, "w2", "b"))]
    journal = journal_after_listing(first, listed_at=1002.0)
    assert journal["journals"] == {"": 1_001_000} and len(journal["seen"]) == 2
    newer = parse_entry(entry_name(1005.0, "w1", "a"))  # w1 wrote again (and deleted its first entry)
    after, fresh = next_journal(journal, [first[1], newer])
    assert fresh == [newer] and after["journals"] == {"": 1_005_000}
    assert next_journal(after, [first[1], newer])[1] == []  # nothing new: nothing to list
    late = 1005.0 + MARGIN_S + 10
    after_late, _ = next_journal(after, [parse_entry(entry_name(late, "w3", "c"))])
    assert after_late["seen"] == [entry_name(late, "w3", "c")]  # older entries drop out of the margin


def test_an_entry_body_names_the_entry_before_and_what_was_put_and_deleted_since():
    body = entry_body(".changes/2026-01-01/1-w/r", {"events.jsonl.segments/0000000000000010": 42}, {"x.open"})
    assert parse_entry_body(body) == EntryChanges(".changes/2026-01-01/1-w/r",
                                                  {"events.jsonl.segments/0000000000000010": 42}, ["x.open"])
    assert parse_entry_body(entry_body(None, {"a": 1}, set())).previous is None  # a writer's first
    too_many = {f"media/{n}.png": 1 for n in range(MAX_ENTRY_CHANGES + 1)}
    assert parse_entry_body(entry_body(None, too_many, set())) is None  # names none: readers list the run
    for bad in (b"", b"{}", b"[1]", b'{"previous": 1, "put": {}, "deleted": []}',
                b'{"previous": null, "put": {"../x": 1}, "deleted": []}',
                b'{"previous": null, "put": {"a": -1}, "deleted": []}',
                b'{"previous": null, "put": {}, "deleted": ["a//b"]}', b"\xff"):
        assert parse_entry_body(bad) is None, bad


def test_a_run_is_brought_up_to_date_from_its_entries_only_where_each_writer_s_chain_is_unbroken():
    def entry(time_s, token, run):
        return parse_entry(entry_name(time_s, token, run))

    a1, a2, a3 = entry(10.0, "wa", "a"), entry(20.0, "wa", "a"), entry(30.0, "wa", "a")
    b1, b2 = entry(11.0, "wb", "b"), entry(21.0, "wb", "b")
    c1 = entry(12.0, "wc", "c")
    chains = {a1.chain: a1.key, b1.chain: b1.key}
    put = {"events.jsonl.segments/0000000000000100": 7}
    bodies = {a2.key: EntryChanges(a1.key, put, []), a3.key: EntryChanges(a2.key, {}, ["console.log"]),
              b2.key: EntryChanges(a1.key, put, []),  # names another writer's entry: not b's chain
              c1.key: EntryChanges(None, put, [])}     # a writer's first: its run is listed
    chained = chained_changes([a2, a3, b2, c1], chains, bodies)
    assert list(chained) == ["a"] and [key for key, _ in chained["a"]] == [a2.key, a3.key]
    assert chained_changes([a3], chains, bodies) == {}  # a2 missed: the chain is broken
    assert chained_changes([a2], chains, {}) == {}      # its body unread (gone since): listed

    # A run written to <store>/team-a: its writer names the entry before under that prefix.
    nested1, nested2 = (parse_entry("team-a/" + entry_name(time_s, "wn", "n")) for time_s in (10.0, 20.0))
    body = EntryChanges(entry_name(10.0, "wn", "n"), put, [])
    assert list(chained_changes([nested2], {nested1.chain: nested1.key}, {nested2.key: body})) == ["team-a/n"]

    after = next_chains(chains, [a2, a3, b2, c1], {"a", "c"}, now_s=40.0)
    assert after == {a1.chain: a3.key, c1.chain: c1.key}  # b not brought up to date: its next entry lists it
    assert next_chains(after, [], set(), now_s=30.0 + (MAX_JOURNAL_DAYS + 1) * 86_400) == {}  # long quiet


def test_a_whole_listing_is_due_without_a_journal_or_once_the_last_is_an_hour_old(monkeypatch):
    assert full_listing_due(None, 10.0)
    assert full_listing_due({"journals": {}, "seen": [], "full_at": 10.0}, 11.0)  # a store without one
    journal = {"journals": {"": 5}, "seen": [], "full_at": 10.0}
    assert not full_listing_due(journal, 11.0)
    assert full_listing_due(journal, 10.0 + 3600 + 1)
    monkeypatch.setenv("TRACKER_STORE_FULL_LISTING_S", "0")  # what a person who removed runs by hand sets
    assert full_listing_due(journal, 11.0)


# -- against the S3-compatible server ------------------------------------------------------------------

def journal_keys(fs, name: str, prefix: str = "runs") -> list[str]:
    fs.invalidate_cache()
    try:
        return sorted(path.split(f"{name}/{prefix}/", 1)[1] for path in fs.find(f"{name}/{prefix}/.changes"))
    except FileNotFoundError:
        return []


def same_folders(left: str, right: str) -> bool:
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    return not mismatch and not errors and all(
        same_folders(os.path.join(left, sub), os.path.join(right, sub)) for sub in compared.common_dirs)


UPLOADING = """
import time, tracker
run = tracker.init(project="journal", name="uploading", capture=False)
for step in range(30):
    run.log({"loss": 1.0 / (step + 1)}, step=step)
    time.sleep(0.1)
run.finish()
print(run.id)
"""


def test_an_uploader_keeps_one_journal_entry_naming_its_run(tmp_path, bucket, s3_server):
    name, fs = bucket
    env = script_env(TRACKER_DIR=f"s3://{name}/runs", TRACKER_SPOOL=str(tmp_path / "spool"),
                     TRACKER_UPLOAD_INTERVAL_S="0.2")
    done = subprocess.run([sys.executable, "-c", UPLOADING], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]

    [entry] = [parse_entry(key) for key in journal_keys(fs, name)]  # several rounds, one entry left
    assert entry.run == run_id
    assert abs(entry.time_ms / 1000 - time.time()) < 60
    puts = [path for method, path, query in s3_server.requests if method == "PUT" and "/.changes/" in path]
    assert len(puts) >= 2  # one a round that uploaded anything: each deleted the one before
    body = parse_entry_body(fs.cat(f"{name}/runs/{journal_keys(fs, name)[0]}"))
    assert body.previous is not None and body.previous.endswith(f"/{run_id}")  # the entry it replaced
    assert any(path.startswith("events.jsonl.segments/") for path in body.put)  # the last round's upload
    assert all(fs.size(f"{name}/runs/{run_id}/{path}") == size for path, size in body.put.items())


def test_a_sync_after_one_changed_run_lists_the_journal_and_that_run_only(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folders = [log_run(tmp_path / "local", f"run-{n}", metrics=[{"loss": 1.0 / (s + 1)} for s in range(5)])
               for n in range(4)]
    for folder in folders:
        sync_run(folder, store, os.path.basename(folder))  # as `tracker sync` ships a spool's run
    cache = StoreCache(store, str(tmp_path / "cache"))
    first = cache.sync()
    assert (first.runs, first.changed_runs) == (4, None)  # the first sync lists the whole store
    assert len(json.load(open(tmp_path / "cache" / JOURNAL_FILE))["seen"]) == 4

    untouched = cache.sync()  # nothing changed: the journal alone is listed
    assert (untouched.changed_runs, untouched.downloaded, untouched.listed) == (0, 0, 0)

    append_record(folders[2], {"type": "note", "time": time.time(), "text": "one more line"})
    sync_run(folders[2], store, os.path.basename(folders[2]))
    s3_server.requests.clear()

    second = cache.sync()

    assert second.changed_runs == 1 and not second.problems
    assert "from its change journal: 1 changed run" in second.line()
    assert s3_server.listings(name) == 2  # the journal past the cursor, then the changed run's objects
    gets = s3_server.object_gets(name)
    assert gets and all(key.startswith(f"runs/{os.path.basename(folders[2])}/") for key in gets)
    fresh = StoreCache(store, str(tmp_path / "fresh"))
    assert fresh.sync().changed_runs is None
    assert same_folders(cache.runs_folder, fresh.runs_folder)  # the same runs as a whole listing gives


def test_a_sync_after_each_round_applies_what_the_entry_names_and_lists_the_run_only_past_a_missed_round(
        tmp_path, bucket, s3_server):
    name, fs = bucket
    store_url = f"s3://{name}/runs"
    steady = log_run(tmp_path / "local", "steady", metrics=[{"loss": 0.5}])
    sync_run(steady, store_url, "steady")  # another run: the store holds more than the one that changes
    folder = log_run(tmp_path / "local", "live", metrics=[{"loss": 1.0 / (s + 1)} for s in range(80)])
    with open(os.path.join(folder, "events.jsonl"), "rb") as handle:
        events = handle.read()
    cuts = [index + 1 for index, byte in enumerate(events) if byte == ord("\n")]
    pieces = [events[start:end] for start, end in zip([0, *cuts[9:80:10]], cuts[9:80:10] + [len(events)])]
    writer = Store(store_url, "live")  # as the uploader ships it: closed segments, an open one, whole files
    shipped = [0]

    def round_of(number: int) -> None:
        offset = shipped[0]
        writer.put_bytes(f"events.jsonl.segments/{closed_segment_name(offset)}", pieces[number])
        shipped[0] += len(pieces[number])
        if number:
            writer.delete(f"events.jsonl.segments/{open_segment_name(offset)}")
        writer.put_bytes(f"events.jsonl.segments/{open_segment_name(shipped[0])}", pieces[number + 1][:20])
        writer.put_bytes("console.log", f"round {number}\n".encode())
        if number == 1:
            writer.put_bytes("notes.txt", b"gone in the next round")
        elif number == 2:
            writer.delete("notes.txt")
        writer.note_changes()

    cache = StoreCache(store_url, str(tmp_path / "cache"))

    def synced_as_a_whole_listing_gives() -> bool:
        fresh = StoreCache(store_url, str(tmp_path / f"fresh-{len(os.listdir(tmp_path))}"))
        return fresh.sync().changed_runs is None and same_folders(cache.runs_folder, fresh.runs_folder)

    round_of(0)
    cache.sync()  # the first sync lists the whole store
    round_of(1)
    s3_server.requests.clear()
    cache.sync()
    assert s3_server.listings(name) == 2  # the journal, then the run: where its writer's chain begins
    round_of(2)
    s3_server.requests.clear()
    report = cache.sync()
    assert report.changed_runs == 1 and not report.problems
    assert s3_server.listings(name) == 1  # the journal alone: the entry said what changed
    gets = s3_server.object_gets(name)
    assert sorted(key.rsplit("/", 1)[-1] for key in gets if "/.changes/" not in f"/{key}") == sorted(
        [closed_segment_name(len(pieces[0]) + len(pieces[1])), open_segment_name(sum(map(len, pieces[:3]))),
         "console.log"])
    assert len([key for key in gets if key.startswith("runs/.changes/")]) == 1  # its body
    assert not os.path.exists(os.path.join(cache.runs_folder, "live", "notes.txt"))  # deleted in that round
    assert synced_as_a_whole_listing_gives()

    round_of(3)
    round_of(4)  # the reader misses a round: the entry it would follow on from is gone
    s3_server.requests.clear()
    assert cache.sync().changed_runs == 1
    assert s3_server.listings(name) == 2  # the journal, then the run
    assert synced_as_a_whole_listing_gives()

    round_of(5)  # the chain taken up again from the listing's entry
    s3_server.requests.clear()
    cache.sync()
    assert s3_server.listings(name) == 1
    assert synced_as_a_whole_listing_gives()
    local_events = os.path.join(cache.runs_folder, "live", "events.jsonl")
    with open(local_events, "rb") as handle:
        assert handle.read() == events[:shipped[0]] + pieces[6][:20]  # every closed byte, then the open ones

    os.truncate(local_events, 10)  # the cache damaged by hand: its entries cannot say how to mend it
    round_of(6)
    s3_server.requests.clear()
    assert not cache.sync().problems
    assert s3_server.listings(name) == 2  # the run listed, and its events file made again
    assert synced_as_a_whole_listing_gives()


def test_a_store_without_a_journal_is_listed_whole_every_time(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/runs"
    put_run_folder(fs, store, log_run(tmp_path / "local", "by-hand"))  # another tool: no journal entry
    cache = StoreCache(store, str(tmp_path / "cache"))
    assert cache.sync().changed_runs is None
    put_run_folder(fs, store, log_run(tmp_path / "local", "by-hand-2"))
    again = cache.sync()
    assert (again.changed_runs, again.runs) == (None, 2)


def test_a_run_removed_by_hand_goes_at_the_next_whole_listing(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folders = [log_run(tmp_path / "local", f"kept-{n}") for n in range(2)]
    for folder in folders:
        sync_run(folder, store, os.path.basename(folder))
    cache = StoreCache(store, str(tmp_path / "cache"))
    cache.sync()
    gone = os.path.basename(folders[0])
    fs.rm(f"{name}/runs/{gone}", recursive=True)  # by hand: no entry says so
    assert cache.sync().changed_runs == 0 and os.path.isdir(os.path.join(cache.runs_folder, gone))
    journal_path = tmp_path / "cache" / JOURNAL_FILE
    journal = json.load(open(journal_path))
    journal["full_at"] -= 3600 + 60  # the last whole listing is over an hour old
    journal_path.write_text(json.dumps(journal))

    report = cache.sync()

    assert report.changed_runs is None and report.removed >= 1
    assert sorted(os.listdir(cache.runs_folder)) == [os.path.basename(folders[1])]


def test_an_entry_from_a_clock_far_off_the_stores_makes_the_reader_list_everything(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = f"s3://{name}/runs"
    folder = log_run(tmp_path / "local", "skewed")
    sync_run(folder, store, os.path.basename(folder))
    cache = StoreCache(store, str(tmp_path / "cache"))
    cache.sync()
    wrong = entry_name(time.time() + 3 * MARGIN_S / 4, "skew0", os.path.basename(folder))  # a clock 7.5 min ahead
    fs.pipe_file(f"{name}/runs/{wrong}", b"")

    report = cache.sync()

    assert report.changed_runs is None  # listed whole
    assert any(wrong in problem and "off the store's clock" in problem for problem in report.problems)


def test_runs_written_to_a_sub_prefix_are_followed_through_that_prefixs_journal(tmp_path, bucket, s3_server):
    name, fs = bucket
    folder = log_run(tmp_path / "local", "team-run")
    run_id = os.path.basename(folder)
    sync_run(folder, f"s3://{name}/all/team-a", run_id)
    cache = StoreCache(f"s3://{name}/all", str(tmp_path / "cache"))
    cache.sync()
    assert os.path.isfile(os.path.join(cache.runs_folder, "team-a", run_id, "events.jsonl"))
    append_record(folder, {"type": "note", "time": time.time(), "text": "later"})
    sync_run(folder, f"s3://{name}/all/team-a", run_id)

    report = cache.sync()

    assert report.changed_runs == 1 and report.downloaded >= 1
    with open(os.path.join(cache.runs_folder, "team-a", run_id, "events.jsonl"), "rb") as handle:
        assert handle.read().endswith(b'"text": "later"}\n')
    assert not os.path.exists(os.path.join(cache.runs_folder, "team-a", ".changes"))

    writer = Store(f"s3://{name}/all/team-a", run_id)  # a live writer there: the reader follows its entries
    for number in range(2):
        writer.put_bytes(f"notes-{number}.txt", b"more")
        writer.note_changes()
        s3_server.requests.clear()
        cache.sync()
        assert s3_server.listings(name) == 2 - number  # its first entry means a listing, the next none
    assert os.path.isfile(os.path.join(cache.runs_folder, "team-a", run_id, "notes-1.txt"))


def test_a_writer_whose_clock_is_an_hour_behind_names_its_entries_by_the_stores_clock(tmp_path, bucket, s3_server):
    name, fs = bucket
    store = Store(f"s3://{name}/runs", "late-clock", clock=lambda: time.time() - 3600)
    for round_number in range(2):
        store.put_bytes("console.log", b"round %d\n" % round_number)
        store.note_changes()

    [entry] = [parse_entry(key) for key in journal_keys(fs, name)]  # the wrongly named first one deleted too
    assert abs(entry.time_ms / 1000 - time.time()) < 30 and entry.run == "late-clock"
    assert abs(store.clock_offset_s - 3600) < 30
