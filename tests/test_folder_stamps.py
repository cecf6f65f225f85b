"""Discovery with the last build's folder stamps (sitegen/folder_stamps.py, made by
tracker/run_keys.py) gives the keys a full read gives, whatever changed in the runs folder since;
folders changed too recently to trust their times, or with names the published stamps file must
not hold, are read every time."""
from __future__ import annotations

import json
import os
import shutil

import pytest
from msgspec.json import encode

from sitegen.build import BuildOptions, build
from sitegen.discover import discover
from sitegen.folder_stamps import STAMPS_FILE, FolderStamps, read_stamps
from test_site_support import append_record, log_run
from tracker import run_keys

TOKEN = "ghp_" + "a1B2" * 9  # a GitHub token's shape


def make_run(root, name, files=("events.jsonl",)):
    folder = root / name
    for relative in files:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text('{"type": "run"}\n')
    return folder


@pytest.fixture
def trusted_times(monkeypatch):
    """The folders of a test are all changed just now: trust their times (no folder is racy)."""
    monkeypatch.setattr(run_keys, "RACY_S", -60.0)


def stamped(root) -> FolderStamps:
    stamps = FolderStamps()
    discover([str(root)], stamps)
    return stamps


CHANGES = {
    "a line appended": lambda root: (root / "a" / "events.jsonl").open("a").write('{"type": "tags"}\n'),
    "a file added at the top": lambda root: (root / "a" / "console.log").write_text("hello\n"),
    "a file added in a sub-folder": lambda root: (root / "b" / "files" / "extra.txt").write_text("x\n"),
    "a file removed": lambda root: (root / "b" / "files" / "notes.txt").unlink(),
    "a second writer's events file": lambda root: (root / "a" / "events-w1.jsonl").write_text("{}\n"),
    "a folder renamed": lambda root: (root / "a").rename(root / "a2"),
    "a folder added": lambda root: make_run(root, "c"),
    "a folder removed": lambda root: shutil.rmtree(root / "b"),
    "a sub-folder replaced by a file": lambda root: (shutil.rmtree(root / "b" / "files"),
                                                     (root / "b" / "files").write_text("now a file\n")),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_keys_from_stamps_are_the_keys_a_full_read_gives(tmp_path, trusted_times, change):
    root = tmp_path / "runs"
    make_run(root, "a")
    make_run(root, "b", ["events.jsonl", "files/notes.txt"])
    last = stamped(root)
    assert sorted(last.current[0]) == ["a", "b"]
    CHANGES[change](root)
    with_stamps = discover([str(root)], FolderStamps(last.current))
    read_whole = discover([str(root)])
    assert with_stamps.keys == read_whole.keys
    assert with_stamps.folders == read_whole.folders


def test_an_unchanged_folder_keeps_its_key_without_being_read(tmp_path, trusted_times):
    root = tmp_path / "runs"
    folder = make_run(root, "a")
    last = stamped(root)
    key = last.current[0]["a"][2]
    # a stamp that vouches for a key no read would give shows that the folder was not read
    previous = [{"a": (0, "a", "key-from-the-stamp", *last.current[0]["a"][3:])}]
    found = discover([str(root)], FolderStamps(previous))
    assert found.keys[str(folder)] == "key-from-the-stamp" != key


def test_a_folder_changed_just_before_the_build_is_not_stamped(tmp_path):
    root = tmp_path / "runs"
    make_run(root, "a")
    stamps = FolderStamps()  # "a" changed within RACY_S of the scan
    found = discover([str(root)], stamps)
    assert found.folders and not any(stamps.current)


@pytest.mark.parametrize("name", [f"run-{TOKEN}", "caf\udce9"])
def test_a_folder_with_a_name_the_stamps_must_not_hold_is_not_stamped(tmp_path, trusted_times, name):
    root = tmp_path / "runs"
    make_run(root, "plain")
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text("{}\n")
    stamps = stamped(root)
    assert list(stamps.current[0]) == ["plain"]


def test_a_token_shaped_file_name_keeps_its_folder_out_of_the_stamps(tmp_path, trusted_times):
    root = tmp_path / "runs"
    make_run(root, "a", ["events.jsonl", f"artifacts/{TOKEN}.txt"])
    assert not any(stamped(root).current)


def test_the_stamps_file_round_trips_and_a_damaged_one_is_not_used(tmp_path, trusted_times):
    root, site = tmp_path / "runs", tmp_path / "site"
    make_run(root, "a")
    make_run(root, "b")
    site.mkdir()
    (site / STAMPS_FILE).write_text(stamped(root).to_text())
    assert read_stamps(str(site)).previous == stamped(root).current
    lines = (site / STAMPS_FILE).read_text().splitlines()
    assert len(lines) == 2  # the format, the columns: both stamps are the usual run's
    # [runs folder][group of one number of files]: [names, keys, change times, [[names, sizes, times] a file]]
    def size_is_text(group): group[3][0][1][0] = "not a size"
    def no_key(group): group[1][0] = None
    def a_shorter_column(group): del group[2][0]
    def no_file(group): group[3] = []
    for damage in (size_is_text, no_key, a_shorter_column, no_file):
        columns = json.loads(lines[1])
        damage(columns[0][0])
        (site / STAMPS_FILE).write_text("\n".join([lines[0], json.dumps(columns)]) + "\n")
        assert read_stamps(str(site)).previous == [], damage.__name__
    (site / STAMPS_FILE).write_text('{"format": 4}\n')
    assert read_stamps(str(site)).previous == []
    # format 2, a line a stamp, as builds before format 3 wrote it: still read, and appended to
    format_2 = b"".join(encode(stamp) + b"\n" for stamp in stamped(root).current[0].values())
    (site / STAMPS_FILE).write_bytes(b'{"format":2}\n' + format_2)
    stamps = read_stamps(str(site))
    assert stamps.previous == stamped(root).current and stamps.stored.end == len(format_2) + 13
    # a stamp that is not the usual run's (a sub-folder, two files) is a line after the columns
    make_run(root, "c", ["events.jsonl", "files/notes.txt"])
    (site / STAMPS_FILE).write_text(stamped(root).to_text())
    lines = (site / STAMPS_FILE).read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])[1] == "c"
    assert read_stamps(str(site)).previous == stamped(root).current
    # format 1, one JSON object, as builds before format 2 wrote it: still read
    roots = [{name: [key, folders, files] for name, (_, _, key, folders, files) in stamped(root).current[0].items()}]
    (site / STAMPS_FILE).write_text(json.dumps({"format": 1, "roots": roots}, separators=(",", ":")))
    stamps = read_stamps(str(site))
    assert stamps.previous == stamped(root).current and stamps.stored is None  # written whole next time


def build_site(runs, site):
    return build(BuildOptions(runs=[str(runs)], out=str(site)))


def test_a_rebuild_appends_the_changed_folders_stamps_and_a_killed_append_leaves_stamps_that_hold(
        tmp_path, trusted_times):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(40)]
    build_site(runs, site)
    before_text, before = (site / STAMPS_FILE).read_bytes(), read_stamps(str(site)).previous
    append_record(paths[4], {"type": "metrics", "time": 2e9, "step": 100, "values": {"loss": 0.5}})
    shutil.rmtree(paths[7])
    report = build_site(runs, site)
    assert (report.incremental, report.runs_rendered) == (True, 1)
    appended = (site / STAMPS_FILE).read_bytes()
    assert appended.startswith(before_text) and appended.count(b"\n") == before_text.count(b"\n") + 2
    after = read_stamps(str(site)).previous
    assert sorted(after[0]) == sorted(set(before[0]) - {os.path.basename(paths[7])})
    # A killed write leaves a prefix of what it wrote: every stamp read is the one before or the one after.
    for cut in range(len(before_text), len(appended)):
        (site / STAMPS_FILE).write_bytes(appended[:cut])
        read = read_stamps(str(site)).previous[0]
        assert all(stamp in (before[0].get(name), after[0].get(name)) for name, stamp in read.items()), cut
    (site / STAMPS_FILE).write_bytes(appended[:len(before_text) + 10])
    append_record(paths[2], {"type": "metrics", "time": 2e9, "step": 100, "values": {"loss": 0.5}})
    assert build_site(runs, site).runs_rendered == 1
    text = (site / STAMPS_FILE).read_bytes()
    assert text.startswith(before_text) and b"\n\n" not in text and text.endswith(b"\n")
    assert read_stamps(str(site)).stored.end == len(text)  # the cut line was removed before the append
    fresh = FolderStamps()
    discover([str(runs)], fresh)
    assert read_stamps(str(site)).previous == fresh.current  # what a full read stamps


def test_the_stamps_file_is_written_whole_once_superseded_lines_pass_an_eighth(tmp_path, trusted_times):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(16)]
    build_site(runs, site)
    whole = (site / STAMPS_FILE).read_bytes().count(b"\n")
    assert whole == 1 + 1  # the format, the columns of 16 usual runs
    for step, path in enumerate(paths[:3]):
        append_record(path, {"type": "metrics", "time": 2e9, "step": 100 + step, "values": {"loss": 0.5}})
        build_site(runs, site)
    assert (site / STAMPS_FILE).read_bytes().count(b"\n") == whole  # 3 superseded lines > 16 / 8: rewritten
