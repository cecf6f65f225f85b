"""``tracker ls`` reads a run again only when its files changed (tracker/listing.py)."""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import msgspec
import pytest

from tracker import run_keys
from tracker.listing import LISTING_FILE, list_runs
from tracker.listing_cache import LISTING_FORMAT
from test_site_support import append_record, log_run, run_cli

T0 = 1_790_000_000.0


def ls_json(runs) -> dict[str, dict]:
    code, stdout, stderr = run_cli("ls", "--runs", str(runs), "--json")
    assert code == 0, stderr
    return {row["name"]: row for row in map(json.loads, stdout.splitlines())}


def cache_lines(runs) -> tuple[dict, list[list]]:
    """The listing cache's header and its entries, [folder name, key, row, problems, stamp] each:
    those of its msgpack block, then those of its JSON lines."""
    header_line, _, rest = (runs / LISTING_FILE).read_bytes().partition(b"\n")
    header = json.loads(header_line)
    block, lines = rest[:header["bulk"]], rest[header["bulk"] + 1:].splitlines()
    entries = [list(entry) for entry in msgspec.msgpack.decode(block)] if block else []
    return header, entries + [json.loads(line) for line in lines]


def cache_as_json_lines(runs) -> list[bytes]:
    """The cache rewritten with no block, each entry a JSON line (as a light install writes it),
    for a test to edit; its lines."""
    header, entries = cache_lines(runs)
    lines = [json.dumps(entry, separators=(",", ":")).encode() for entry in entries]
    write_json_lines_cache(runs, lines)
    return lines


def write_json_lines_cache(runs, lines: list[bytes]) -> None:
    (runs / LISTING_FILE).write_bytes(b"\n".join([b'{"format":%d,"bulk":0}' % LISTING_FORMAT, b"", *lines, b""]))


def events_file(run_path: str) -> str:
    return os.path.join(run_path, "events.jsonl")


def test_a_second_listing_reads_only_the_runs_that_changed(tmp_path):
    runs = tmp_path / "runs"
    kept = log_run(runs, "kept", config={"lr": 0.1}, metrics=[{"loss": 1.0}])
    changed = log_run(runs, "changed", config={"lr": 0.2}, metrics=[{"loss": 2.0}])
    assert {name: row["summary"] for name, row in ls_json(runs).items()} == {"kept": {"loss": 1.0},
                                                                           "changed": {"loss": 2.0}}
    assert (runs / LISTING_FILE).is_file()

    # Garble "kept" without changing its size or time: a listing that read it would find no run there.
    info = os.stat(events_file(kept))
    with open(events_file(kept), "r+b") as handle:
        handle.write(b"x" * info.st_size)
    os.utime(events_file(kept), ns=(info.st_atime_ns, info.st_mtime_ns))
    append_record(changed, {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.5}})

    listed = ls_json(runs)
    assert listed["kept"]["summary"] == {"loss": 1.0}  # from the cache
    assert listed["changed"]["summary"] == {"loss": 0.5}  # read again
    assert listed["kept"]["path"] == kept


def test_a_running_run_is_read_again_and_turns_crashed_when_its_writer_went_quiet(tmp_path):
    run = tmp_path / "runs" / "quiet"
    run.mkdir(parents=True)
    (run / "events.jsonl").write_text(
        json.dumps({"type": "run", "schema": 1, "id": "quiet", "project": "p", "name": "quiet", "time": T0}) + "\n"
        + json.dumps({"type": "start", "writer": "w0", "time": T0, "pid": 1, "host": "h"}) + "\n")
    assert [row["status"] for row in list_runs(tmp_path / "runs", now=T0 + 1).rows] == ["running"]
    assert [row["status"] for row in list_runs(tmp_path / "runs", now=T0 + 86_400).rows] == ["crashed"]
    assert [row["status"] for row in list_runs(tmp_path / "runs", now=T0 + 86_400).rows] == ["crashed"]


def test_problems_found_reading_a_run_are_warned_about_on_every_listing(tmp_path):
    runs = tmp_path / "runs"
    path = log_run(runs, "torn", metrics=[{"loss": 1.0}])
    with open(events_file(path), "a", encoding="utf-8") as handle:
        handle.write('{"type": "metrics", "step": 9, "values"\n')
    for _ in range(2):
        with pytest.warns(UserWarning, match=r"events\.jsonl:\d+: corrupt line"):
            assert [row["name"] for row in list_runs(runs).rows] == ["torn"]


def test_a_removed_run_leaves_the_listing_and_its_cache(tmp_path):
    runs = tmp_path / "runs"
    gone = log_run(runs, "gone", metrics=[{"loss": 1.0}])
    log_run(runs, "stays", metrics=[{"loss": 1.0}])
    assert sorted(ls_json(runs)) == ["gone", "stays"]
    shutil.rmtree(gone)
    assert sorted(ls_json(runs)) == ["stays"]
    _, cached = cache_lines(runs)  # a cache of few runs is rewritten whole: its dead line goes at once
    assert [entry[0] for entry in cached] == [os.path.basename(path) for path in os.listdir(runs)
                                              if not path.startswith(".")]


def test_a_cache_that_cannot_be_written_or_read_only_costs_time(tmp_path):
    runs = tmp_path / "runs"
    log_run(runs, "one", metrics=[{"loss": 1.0}])
    (runs / LISTING_FILE).mkdir()  # neither readable as a file nor replaceable by one
    for _ in range(2):
        assert sorted(ls_json(runs)) == ["one"]
    assert not [name for name in os.listdir(runs) if name.startswith(f"{LISTING_FILE}.tmp")]
    (runs / LISTING_FILE).rmdir()
    (runs / LISTING_FILE).write_text("{not json")
    assert sorted(ls_json(runs)) == ["one"]
    assert cache_lines(runs)[0]["format"] == LISTING_FORMAT  # replaced by a good one


def test_the_cache_is_not_taken_for_a_run_by_the_site(tmp_path):
    runs = tmp_path / "runs"
    log_run(runs, "one", metrics=[{"loss": 1.0}])
    ls_json(runs)
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "site"))
    assert code == 0 and stdout.startswith("built 1 run;") and "warning" not in stderr


def without_end_state(run_path: str) -> None:
    """The run as a writer before end records carried a state left it: read whole by every reader."""
    with open(events_file(run_path), "rb") as handle:
        lines = handle.read().rstrip(b"\n").split(b"\n")
    end = json.loads(lines[-1])
    del end["state"]
    lines[-1] = json.dumps(end).encode()
    with open(events_file(run_path), "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")


def test_many_runs_are_read_on_every_core_with_the_same_result(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n:02d}", config={"lr": n / 100}, metrics=[{"loss": 1.0 / (n + 1)}])
             for n in range(20)]
    for path in paths:  # runs read from their files' ends are read in this process: these are read whole
        without_end_state(path)
    with open(events_file(paths[7]), "a", encoding="utf-8") as handle:
        handle.write("{torn\n")
    with pytest.warns(UserWarning, match=r"events\.jsonl:\d+: corrupt line"):  # found in a worker, warned here
        parallel = list_runs(runs)
    (runs / LISTING_FILE).unlink()
    monkeypatch.setattr("tracker.listing.PARALLEL_MIN_RUNS", 10**6)
    with pytest.warns(UserWarning, match=r"events\.jsonl:\d+: corrupt line"):
        serial = list_runs(runs)
    assert parallel == serial
    assert [row["name"] for row in parallel.rows] == [f"run-{n:02d}" for n in range(20)]


@pytest.mark.parametrize("value", [math.nan, math.inf, 0.5])
def test_a_listing_from_the_cache_gives_the_values_the_first_listing_read(tmp_path, value):
    # msgspec, which writes the cache when it can, would write NaN and the infinities as null
    runs = tmp_path / "runs"
    log_run(runs, "one", config={"text": "caf\u00e9", "big": 2**70}, metrics=[{"loss": value}])
    first = list_runs(runs).rows
    assert (runs / LISTING_FILE).is_file()
    from_cache = list_runs(runs).rows
    assert json.dumps(from_cache) == json.dumps(first)  # NaN and inf as themselves, not None
    assert math.isnan(from_cache[0]["summary"]["loss"]) if value != value else \
           from_cache[0]["summary"]["loss"] == value
    assert from_cache[0]["config"] == {"text": "caf\u00e9", "big": 2**70}


def test_a_changed_run_appends_its_line_and_the_cache_is_rewritten_once_dead_lines_pile_up(tmp_path):
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n}", config={"lr": n / 10}, metrics=[{"loss": 1.0}]) for n in range(16)]
    list_runs(runs)
    written = (runs / LISTING_FILE).read_bytes()
    assert [entry[0] for entry in cache_lines(runs)[1]] == sorted(os.path.basename(path) for path in paths)

    append_record(paths[3], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.25}})
    assert [row["summary"]["loss"] for row in list_runs(runs).rows if row["name"] == "run-3"] == [0.25]
    grown = (runs / LISTING_FILE).read_bytes()
    assert grown.startswith(written)  # one line appended, nothing rewritten
    _, lines = cache_lines(runs)
    assert len(lines) == 17 and lines[-1][0] == os.path.basename(paths[3]) and lines[-1][2]["summary"] == {"loss": 0.25}
    assert not [entry for entry in lines if "path" in entry[2]]
    assert list_runs(runs).rows == list_runs(runs).rows  # read back from the cache: the later line wins

    for path in paths[5], paths[7]:
        append_record(path, {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.5}})
    rows = {row["name"]: row for row in list_runs(runs).rows}  # 3 dead lines: more than 16 / 8
    assert [rows[f"run-{n}"]["summary"] for n in (3, 5, 7)] == [{"loss": 0.25}, {"loss": 0.5}, {"loss": 0.5}]
    _, lines = cache_lines(runs)
    assert len(lines) == 16 and len({entry[0] for entry in lines}) == 16  # rewritten: one line a run
    assert not [entry for entry in lines if "path" in entry[2]]  # the listing's own field, left out


def test_a_cache_line_that_cannot_be_read_costs_only_its_run_a_read(tmp_path):
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": float(n)}]) for n in range(10)]
    first = list_runs(runs).rows
    lines = cache_as_json_lines(runs)
    assert list_runs(runs).rows == first  # a cache of JSON lines only is read as well
    lines[4] = lines[4][:40]  # torn, as by a listing killed while appending
    lines[6] = lines[6].replace(b'"status":"finished"', b'"status":7')  # shaped wrong
    write_json_lines_cache(runs, lines)
    # Garble every run without changing its size or time: only runs read again can see it.
    for path in paths:
        info = os.stat(events_file(path))
        with open(events_file(path), "r+b") as handle:
            handle.write(b"x" * info.st_size)
        os.utime(events_file(path), ns=(info.st_atime_ns, info.st_mtime_ns))
    listing = list_runs(runs)
    unread = {json.loads(lines[6])[0], lines[4][2:].split(b'"')[0].decode()}
    assert sorted(os.path.basename(path) for path, _ in listing.errors) == sorted(unread)
    assert listing.rows == [row for row in first if os.path.basename(row["path"]) not in unread]


def test_a_cache_cut_mid_line_or_of_the_older_format_is_replaced(tmp_path):
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": float(n)}]) for n in range(10)]
    (runs / ".tracker-listing.json").write_text('{"format": 2, "runs": {}}')  # older versions' caches
    (runs / ".tracker-listing.jsonl").write_text('{"format":3}\n')
    first = list_runs(runs).rows
    assert not (runs / ".tracker-listing.json").exists() and not (runs / ".tracker-listing.jsonl").exists()
    text = (runs / LISTING_FILE).read_bytes()
    (runs / LISTING_FILE).write_bytes(text[:-30])  # the block cut short, as by a disk that filled up
    assert list_runs(runs).rows == first
    assert (runs / LISTING_FILE).read_bytes() == text  # rewritten whole

    append_record(paths[3], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.5}})
    changed = list_runs(runs).rows
    grown = (runs / LISTING_FILE).read_bytes()
    assert grown.startswith(text) and grown.endswith(b"\n")  # run-3's line appended
    (runs / LISTING_FILE).write_bytes(grown[:-30])  # that line cut short, as by a listing killed while appending
    assert list_runs(runs).rows == changed
    entries = {entry[0]: entry for entry in cache_lines(runs)[1]}  # rewritten whole: nothing appended to the cut line
    assert len(entries) == len(cache_lines(runs)[1]) == 10
    assert entries[os.path.basename(paths[3])][2]["summary"] == {"loss": 0.5}


def test_a_block_with_an_entry_shaped_wrong_costs_only_that_run_a_read(tmp_path):
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": float(n)}]) for n in range(4)]
    first = list_runs(runs).rows
    header, entries = cache_lines(runs)
    wrong = next(entry for entry in entries if entry[0] == os.path.basename(paths[1]))
    wrong[2]["status"] = 7  # msgspec's typed decoding refuses the block: each entry checked alone
    block = msgspec.msgpack.encode(entries)
    (runs / LISTING_FILE).write_bytes(b'{"format":%d,"bulk":%d}\n%s\n' % (LISTING_FORMAT, len(block), block))
    with open(events_file(paths[1]), "r+b") as handle:  # garbled: "run-1", read again, cannot be read
        info = os.stat(events_file(paths[1]))
        handle.write(b"x" * info.st_size)
    os.utime(events_file(paths[1]), ns=(info.st_atime_ns, info.st_mtime_ns))
    listing = list_runs(runs)
    assert [path for path, _ in listing.errors] == [paths[1]]
    assert listing.rows == [row for row in first if row["name"] != "run-1"]


def test_a_light_install_reads_and_writes_the_cache_as_json_lines(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    for n in range(3):
        log_run(runs, f"run-{n}", config={"lr": math.nan if n == 1 else n / 10}, metrics=[{"loss": float(n)}])
    first = list_runs(runs).rows
    for name in ("msgspec", "_decode_line", "_decode_block", "_encode", "_encode_block"):
        monkeypatch.setattr(f"tracker.listing_cache.{name}", None)
    assert json.dumps(list_runs(runs).rows) == json.dumps(first)  # the block unread: every run read again
    header, entries = cache_lines(runs)
    assert header["bulk"] == 0 and len(entries) == 3
    assert json.dumps(list_runs(runs).rows) == json.dumps(first)
    monkeypatch.undo()
    assert json.dumps(list_runs(runs).rows) == json.dumps(first)  # and msgspec reads its lines


def test_a_flat_stamp_holds_while_the_folder_stamp_it_flattens_does(tmp_path, monkeypatch):
    monkeypatch.setattr("tracker.run_keys.RACY_S", 0.0)  # stamp folders changed a moment ago
    run = Path(log_run(tmp_path / "runs", "one", metrics=[{"loss": 1.0}]))
    (run / "files" / "deep").mkdir(parents=True, exist_ok=True)
    (run / "files" / "deep" / "a.txt").write_text("a")
    time.sleep(0.05)
    scan = run_keys.scan_folder(str(run), stamped=True)
    flat = run_keys.flat_stamp(scan.stamp)
    assert flat[0] == len(scan.stamp[0]) >= 3 and run_keys.flat_stamp_holds(str(run), flat)
    assert not run_keys.flat_stamp_holds(str(run), flat[:-1]) and not run_keys.flat_stamp_holds(str(run), ["x"])
    (run / "files" / "deep" / "b.txt").write_text("b")
    assert not run_keys.flat_stamp_holds(str(run), flat) and not run_keys.stamp_holds(str(run), scan.stamp)


def scanned_folders(monkeypatch, runs) -> list[str]:
    """The run folders that os.scandir lists from now on (the runs folder itself left out)."""
    listed = []
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) != str(runs):
            listed.append(os.path.basename(os.fspath(path)))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return listed


def test_a_run_folder_whose_stamp_holds_is_not_listed_again(tmp_path, monkeypatch):
    monkeypatch.setattr("tracker.run_keys.RACY_S", 0.0)  # stamp folders changed a moment ago
    runs = tmp_path / "runs"
    paths = {name: log_run(runs, name, metrics=[{"loss": 1.0}]) for name in ("a", "b", "c")}
    time.sleep(0.05)
    first = list_runs(runs).rows
    assert all(entry[4] is not None for entry in cache_lines(runs)[1])
    listed = scanned_folders(monkeypatch, runs)
    assert list_runs(runs).rows == first and listed == []  # two stats a run, no directory read

    (Path(paths["b"]) / "notes.txt").write_text("a file added: its folder's change time moves on")
    append_record(paths["c"], {"type": "metrics", "time": T0, "step": 1, "values": {"loss": 0.5}})
    rows = {row["name"]: row for row in list_runs(runs).rows}
    assert set(listed) == {os.path.basename(paths[name]) for name in ("b", "c")}  # "a" only stat'ed again
    assert rows["c"]["summary"] == {"loss": 0.5} and rows["a"] == first[0]
    keys = {entry[0]: entry[1] for entry in cache_lines(runs)[1]}
    assert keys[os.path.basename(paths["b"])] == run_keys.scan_folder(paths["b"]).key  # the file is in its key


def test_a_folder_changed_within_racy_s_is_not_stamped(tmp_path):
    runs = tmp_path / "runs"
    path = log_run(runs, "fresh", metrics=[{"loss": 1.0}])
    list_runs(runs)
    assert [entry[4] for entry in cache_lines(runs)[1]] == [None]  # its times are as new as the listing
    scan = run_keys.scan_folder(path, stamped=True)
    assert scan.stamp is None and scan.key == run_keys.scan_folder(path).key
    old = time.time() - 60
    os.utime(path, (old, old))  # the modification time only: a change time cannot be set back
    assert run_keys.scan_folder(path, stamped=True).stamp is None


def test_a_warm_listing_tells_folders_from_files_and_links_as_a_cold_one_does(tmp_path):
    runs = tmp_path / "runs"
    kept = log_run(runs, "kept", metrics=[{"loss": 1.0}])
    (runs / "notes.txt").write_text("not a run")
    (runs / "dangling").symlink_to(tmp_path / "nowhere")
    (runs / "loop").symlink_to(runs / "loop")
    (runs / "link").symlink_to(kept)  # a second folder of the same run: a copy
    (runs / ".hidden").mkdir()
    cold = list_runs(runs)
    warm = list_runs(runs)  # its cache names "kept" and "link": their stamps tell they are folders
    assert [(row["name"], row["path"]) for row in warm.rows] == [(row["name"], row["path"]) for row in cold.rows]
    assert warm.errors == cold.errors == [(str(runs / "loop"), "cannot open (Too many levels of symbolic links)")]
    assert warm.copies == cold.copies == [(os.path.basename(kept), kept, str(runs / "link"))]
