"""The build manifest's lines are written and read by msgspec, and by json where msgspec would
change them (sitegen/manifest.py): a manifest of odd text and numbers reads back as it was written,
and one whose lines do not have the written shape is not used (the build is a full one)."""
from __future__ import annotations

import json
import math

import pytest

from sitegen.commit_diffs import KnownCommits
from sitegen.manifest import MANIFEST_FILE, MANIFEST_FORMAT, Manifest, RunEntry, read_manifest
from tracker import fast_json


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
    assert '"created":NaN' in MANIFESTS["NaN created"].to_text().splitlines()[1]  # msgspec would write null


def damage(lines: list, change: str) -> None:
    """Change the decoded lines of MANIFESTS["plain"]: [format, entry a, row a, entry b, row b, end, ""]."""
    entry, end = lines[1], lines[5]  # entry: [key, head, findings, media, shared, commit]
    if change == "created is text":
        entry[1]["created"] = "yesterday"
    elif change == "no slug":
        del entry[1]["slug"]
    elif change == "id of another run":
        entry[1]["id"] = "b"
    elif change == "entry cut short":
        del entry[5]
    elif change == "a finding that is not text":
        entry[2] = [1]
    elif change == "a media file that is not text":
        entry[3]["files"] = [None]
    elif change == "commit is a number":
        entry[5] = 7
    elif change == "no commits":
        del end["commits"]
    elif change == "a run fewer than the end counts":
        end["runs"] = 3
    elif change == "an older format":
        lines[0]["format"] = MANIFEST_FORMAT - 1


@pytest.mark.parametrize("change", ["created is text", "no slug", "id of another run", "entry cut short",
                                    "a finding that is not text", "a media file that is not text",
                                    "commit is a number", "no commits", "a run fewer than the end counts",
                                    "an older format"])
def test_a_damaged_manifest_means_a_full_build(tmp_path, change):
    lines = [json.loads(line) if line else line for line in MANIFESTS["plain"].to_text().split("\n")]
    damage(lines, change)
    (tmp_path / MANIFEST_FILE).write_text("\n".join(json.dumps(line) if line != "" else "" for line in lines),
                                          encoding="utf-8")
    assert read_manifest(str(tmp_path)) is None


def test_a_manifest_of_another_format_means_a_full_build(tmp_path):
    """Format 8 (one JSON line of every entry, then the rows) was written only within the session
    that replaced it by format 9: a site holding one is built again whole."""
    (tmp_path / MANIFEST_FILE).write_text('{"format":8,"site_key":"k","runs":{},"copies":{},"commits":{}}\n',
                                          encoding="utf-8")
    assert read_manifest(str(tmp_path)) is None
