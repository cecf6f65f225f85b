"""The build manifest's header is read by msgspec where msgspec reads what json does
(sitegen/manifest.py read_manifest, through tracker/fast_json.py), and by json elsewhere: a
manifest of odd text and numbers reads back the same either way, and as it was written."""
from __future__ import annotations

import math

import pytest

from sitegen.manifest import MANIFEST_FILE, Manifest, RunEntry, read_manifest
from tracker import fast_json


def entry(run_id: str, name: str, created) -> RunEntry:
    head = {"id": run_id, "slug": run_id, "url": f"runs/{run_id}/", "name": name, "project": "p",
            "status": "finished", "created": created}
    return RunEntry(f"key-{run_id}", head, '{"id":"%s"}' % run_id, [f"redacted in {name}"],
                    {"files": ["media/ab/" + "ab" * 32 + ".png"], "budget": 5 << 20, "wanted": 10}, ["env-1"])


MANIFESTS = {
    "plain": Manifest("site", {"a": entry("a", "run a", 1790000000.25), "b": entry("b", "b", None)}, {"k": "a"}),
    "non-ASCII and escapes": Manifest("site", {"c": entry("c", "caf\u00e9 \u2028 </script> \x7f \"q\"", 1e22)}),
    "lone surrogate": Manifest("site", {"d": entry("d", "caf\udce9.csv", 5e-324)}),  # json writes \udce9
    "int beyond 64 bits": Manifest("site", {"e": entry("e", "e", 2**70)}),
    "NaN created": Manifest("site", {"f": entry("f", "f", math.nan)}),  # json writes NaN: msgspec refuses it
}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_a_manifest_reads_the_same_with_msgspec_and_with_json(tmp_path, monkeypatch, name):
    written = MANIFESTS[name]
    (tmp_path / MANIFEST_FILE).write_text(written.to_text(), encoding="utf-8")
    fast = read_manifest(str(tmp_path))
    monkeypatch.setattr(fast_json, "_decode", False)  # a light install: json reads it
    slow = read_manifest(str(tmp_path))
    assert fast is not None and repr(fast) == repr(slow) == repr(written)


def test_an_ordinary_manifest_header_is_read_by_msgspec():
    header = MANIFESTS["plain"].to_text().splitlines()[0]
    assert fast_json.decode_fast(header) is not None
    assert fast_json.decode_fast(MANIFESTS["lone surrogate"].to_text().splitlines()[0]) is None
