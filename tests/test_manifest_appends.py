"""A rebuild appends the changed runs' records to the build manifest (sitegen/manifest.py) rather
than writing it whole; a build killed while appending leaves a manifest the next build reads as
the one before it, and that build renders the changed run again and ends with a whole file."""
from __future__ import annotations

import os
import shutil

from sitegen.build import BuildOptions, build
from sitegen.manifest import MANIFEST_FILE, read_manifest
from test_site_support import append_record, log_run


def build_site(runs, site):
    return build(BuildOptions(runs=[str(runs)], out=str(site)))


def manifest_bytes(site) -> bytes:
    return (site / MANIFEST_FILE).read_bytes()


def change(run_path: str, step: int) -> None:
    append_record(run_path, {"type": "metrics", "time": 2e9 + step, "step": 100 + step, "values": {"loss": 0.01}})


def test_a_rebuild_after_one_changed_run_appends_its_record_and_the_build_end(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(12)]
    build_site(runs, site)
    before = manifest_bytes(site)
    change(paths[3], 1)
    report = build_site(runs, site)
    after = manifest_bytes(site)
    assert (report.incremental, report.runs_rendered) == (True, 1)
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 4  # an entry and an end
    shutil.copytree(runs, tmp_path / "runs-again")
    build_site(tmp_path / "runs-again", tmp_path / "full")
    assert repr(read_manifest(str(site))) == repr(read_manifest(str(tmp_path / "full")))  # what a full build says


def test_the_file_is_written_whole_once_superseded_records_pass_an_eighth_or_a_run_is_removed(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(12)]
    build_site(runs, site)
    whole = manifest_bytes(site).count(b"\n")  # the format line, the columns, a row a run, 2 for the build's end
    assert whole == 1 + 1 + 12 + 2
    change(paths[0], 1)
    build_site(runs, site)
    assert manifest_bytes(site).count(b"\n") == whole + 4
    change(paths[1], 2)
    build_site(runs, site)  # two runs' old records and a build end are more than an eighth of 12 runs
    assert manifest_bytes(site).count(b"\n") == whole
    shutil.rmtree(paths[5])
    change(paths[2], 3)
    build_site(runs, site)  # the site is public: a removed run's lines go at once
    text = manifest_bytes(site)
    assert text.count(b"\n") == whole - 1 and os.path.basename(paths[5]).encode() not in text


def test_a_build_killed_while_appending_leaves_the_manifest_it_started_from(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    # text of more bytes than characters: the file is cut at a byte offset
    paths = [log_run(runs, f"run-{n} caf\u00e9 \u2028", notes="\u00fc" * n, metrics=[{"loss": 1.0}]) for n in range(12)]
    build_site(runs, site)
    before_text, before = manifest_bytes(site), repr(read_manifest(str(site)))
    change(paths[7], 1)
    build_site(runs, site)
    appended = manifest_bytes(site)
    # A killed write leaves a prefix of what it wrote: at every cut the manifest read is the one before.
    for cut in range(len(before_text), len(appended)):
        (site / MANIFEST_FILE).write_bytes(appended[:cut])
        assert repr(read_manifest(str(site))) == before, cut
    (site / MANIFEST_FILE).write_bytes(appended[:(len(before_text) + len(appended)) // 2])

    report = build_site(runs, site)  # the run whose page the killed build replaced is rendered again
    assert (report.incremental, report.runs_rendered) == (True, 1)
    text = manifest_bytes(site)
    assert text.startswith(before_text) and text.count(b"\n") == before_text.count(b"\n") + 4
    stored = read_manifest(str(site)).stored
    assert stored.end == len(text)  # the cut tail was removed before the append, not kept in the middle
    shutil.copytree(runs, tmp_path / "runs-again")
    build_site(tmp_path / "runs-again", tmp_path / "full")
    assert repr(read_manifest(str(site))) == repr(read_manifest(str(tmp_path / "full")))
    assert (site / "data" / "index.js").read_bytes() == (tmp_path / "full" / "data" / "index.js").read_bytes()

