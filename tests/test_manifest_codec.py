"""The build manifest's lines are written and read by msgspec, and by json where msgspec would
change them (sitegen/manifest.py): a manifest of odd text and numbers reads back as it was written,
and one whose lines do not have the written shape is not used (the build is a full one)."""
from __future__ import annotations

import json
import math

import pytest

from sitegen.commit_diffs import KnownCommits
from sitegen.manifest import (MANIFEST_FILE, MANIFEST_FORMAT, Manifest, RunEntry, _end_record, _entry_record,
                              read_manifest, write_manifest)
from sitegen.model import ROW_HEAD_FIELDS
from tracker import fast_json
from tracker.atomic_file import replace_file


def entry(run_id: str, name: str, created) -> RunEntry:
    head = {"id": run_id, "slug": run_id, "url": f"runs/{run_id}/", "name": name, "project": "p",
            "status": "finished", "created": created}
    return RunEntry(f"key-{run_id}", head, [f"redacted in {name}"],
                    {"files": ["media/ab/" + "ab" * 32 + ".png"], "budget": 5 << 20, "wanted": 10}, ["env-1"],
                    "abc1234", '{"id":"%s"}' % run_id)


MANIFESTS = {
    "plain": Manifest("site", {"a": entry("a", "run a", 1790000000.25), "b": entry("b", "b", None)}, {"k": "a"},
                      KnownCommits("refs", {"abc1234": "ab" * 20})),
    "non-ASCII and escapes": Manifest("site", {"c": entry("c", "caf\u00e9 \u2028 </script> \x7f \"q\"", 1e22)}),
    "lone surrogate": Manifest("site", {"d": entry("d", "caf\udce9.csv", 5e-324)}),  # json writes \udce9
    "int beyond 64 bits": Manifest("site", {"e": entry("e", "e", 2**70)}),
    "NaN created": Manifest("site", {"f": entry("f", "f", math.nan)}),  # json writes NaN: msgspec refuses it
}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_a_manifest_reads_back_as_it_was_written(tmp_path, name):
    written = MANIFESTS[name]
    (tmp_path / MANIFEST_FILE).write_text(written.to_text(), encoding="utf-8")
    assert repr(read_manifest(str(tmp_path))) == repr(written)


def test_msgspec_writes_the_ordinary_lines_and_json_what_msgspec_would_change():
    plain = MANIFESTS["plain"].to_text().splitlines()
    assert json.loads(plain[0]) == {"format": MANIFEST_FORMAT}
    assert all(fast_json.decode_fast(line) is not None for line in plain[1:] if line)
    assert "\\udce9" in MANIFESTS["lone surrogate"].to_text().splitlines()[1]  # json's escape, which msgspec refuses
    assert "[NaN]" in MANIFESTS["NaN created"].to_text().splitlines()[1]  # msgspec would write null


def with_an_appended_record() -> str:
    """MANIFESTS["plain"] written whole, then run b changed as a rebuild appends it."""
    whole = MANIFESTS["plain"]
    changed = Manifest("site", {**whole.runs, "b": entry("b", "b again", 1790000001.0)}, whole.copies, whole.commits)
    return whole.to_text() + _entry_record(changed.runs["b"]) + _end_record(changed)


def damage(lines: list, change: str) -> None:
    """Change the decoded lines of with_an_appended_record(): [format, columns, row a, row b, end, "",
    entry b, row b, end, "", ""]."""
    columns, entry, end = lines[1], lines[6], lines[8]  # entry: [key, head, findings, media, shared, commit]
    created, slug, ids = (ROW_HEAD_FIELDS.index(name) for name in ("created", "slug", "id"))
    if change == "created is text":
        columns["heads"][created][0] = "yesterday"
    elif change == "an appended created is text":
        entry[1]["created"] = "yesterday"
    elif change == "no slug":
        del columns["heads"][slug][0]
    elif change == "no slug in an appended entry":
        del entry[1]["slug"]
    elif change == "id of another run":
        columns["heads"][ids][0] = "b"
    elif change == "entry cut short":
        del entry[5]
    elif change == "no commit column":
        del columns["commits"]
    elif change == "a finding that is not text":
        columns["findings"][0] = [1]
    elif change == "a media file that is not text":
        columns["media"][0]["files"] = [None]
    elif change == "commit is a number":
        columns["commits"][1] = 7
    elif change == "shared files of no list":
        columns["shared"][0] = 5
    elif change == "a row longer than it is":
        columns["rows"][0] += 1
    elif change == "no commits":
        del end["commits"]
    elif change == "a run fewer than the end counts":
        end["runs"] = 3
    elif change == "an older format":
        lines[0]["format"] = 8


@pytest.mark.parametrize("change", ["created is text", "an appended created is text", "no slug",
                                    "no slug in an appended entry", "id of another run", "entry cut short",
                                    "no commit column", "a finding that is not text", "a media file that is not text",
                                    "commit is a number", "shared files of no list", "a row longer than it is",
                                    "no commits", "a run fewer than the end counts", "an older format"])
def test_a_damaged_manifest_means_a_full_build(tmp_path, change):
    text = with_an_appended_record()
    (tmp_path / MANIFEST_FILE).write_text(text, encoding="utf-8")
    assert read_manifest(str(tmp_path)).runs["b"].head["name"] == "b again"  # undamaged, it reads
    lines = [json.loads(line) if line else line for line in text.split("\n")]
    damage(lines, change)
    (tmp_path / MANIFEST_FILE).write_text("\n".join(json.dumps(line) if line != "" else "" for line in lines),
                                          encoding="utf-8")
    assert read_manifest(str(tmp_path)) is None


def test_a_format_9_manifest_is_read_and_then_written_whole(tmp_path):
    """Format 9 (records only) was the one before: its site is rebuilt as usual, and its manifest
    written whole in this format."""
    written = MANIFESTS["plain"]
    records = [_entry_record(entry) for _, entry in sorted(written.runs.items())]
    (tmp_path / MANIFEST_FILE).write_text('{"format":9}\n' + "".join(records) + _end_record(written), encoding="utf-8")
    read = read_manifest(str(tmp_path))
    assert repr(read) == repr(written) and read.stored is None  # None: nothing to append to
    write_manifest(str(tmp_path), read, read)
    assert (tmp_path / MANIFEST_FILE).read_text(encoding="utf-8") == written.to_text()


def test_a_manifest_of_another_format_means_a_full_build(tmp_path):
    """Format 8 (one JSON line of every entry, then the rows) was written only within the session
    that replaced it by format 9: a site holding one is built again whole."""
    (tmp_path / MANIFEST_FILE).write_text('{"format":8,"site_key":"k","runs":{},"copies":{},"commits":{}}\n',
                                          encoding="utf-8")
    assert read_manifest(str(tmp_path)) is None


def test_a_row_is_read_as_the_manifest_was_when_read(tmp_path):
    """Rows stay in the file until a build asks for one: a file replaced meanwhile (a build writing
    it whole) does not change them."""
    (tmp_path / MANIFEST_FILE).write_text(MANIFESTS["plain"].to_text(), encoding="utf-8")
    read = read_manifest(str(tmp_path))
    replace_file(str(tmp_path / MANIFEST_FILE), MANIFESTS["non-ASCII and escapes"].to_text())
    assert [entry.row_json for entry in read.runs.values()] == ['{"id":"a"}', '{"id":"b"}']
