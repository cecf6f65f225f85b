"""A rebuild's data/index.js updated by a forked child (sitegen/index_aside.py): the file a full build
makes and a digest the next rebuild trusts, whether the child updates it, finds it cannot be
updated, or gives no answer (the build then makes it itself)."""
from __future__ import annotations

import shutil

import pytest

from sitegen.build import BuildOptions, build, previous_index
from sitegen.index_aside import fork_index_update
from sitegen.index_data import INDEX_DATA_FILE, index_digest
from sitegen.manifest import read_manifest
from test_incremental_build import site_bytes
from test_site_support import append_record, log_run

# a thread an earlier module left does not refuse the fork
pytestmark = pytest.mark.usefixtures("threads_of_this_test")


def forked_build(runs, site):
    return build(BuildOptions(runs=[str(runs)], out=str(site)), forks=True)


def same_as_a_full_build(tmp_path, runs, site, name: str) -> None:
    shutil.copytree(runs, tmp_path / f"runs-{name}")
    build(BuildOptions(runs=[str(tmp_path / f"runs-{name}")], out=str(tmp_path / f"full-{name}")))
    assert site_bytes(site) == site_bytes(tmp_path / f"full-{name}"), name
    # the digest the manifest keeps is the file's: the next rebuild updates it rather than make it whole
    assert previous_index(str(site), read_manifest(str(site))) == (site / INDEX_DATA_FILE).read_text("utf-8")


def test_the_childs_file_and_the_one_it_cannot_update_are_a_full_builds(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", config={"lr": 0.1 * n}, metrics=[{"loss": 1.0 / (n + 1)}]) for n in range(5)]
    forked_build(runs, site)
    append_record(paths[2], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01, "acc": 0.5}})
    report = forked_build(runs, site)
    assert (report.incremental, report.runs_rendered) == (True, 1) and INDEX_DATA_FILE in report.written
    same_as_a_full_build(tmp_path, runs, site, "changed")
    # a new config key: other columns, so the child answers that the file cannot be updated
    log_run(runs, "run-wide", config={"lr": 0.1, "width": [64, 64]}, metrics=[{"loss": 0.4}])
    assert forked_build(runs, site).runs_rendered == 1
    same_as_a_full_build(tmp_path, runs, site, "wider")


def test_a_child_that_gives_no_answer_leaves_the_file_to_the_build(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    for n in range(3):
        log_run(runs, f"run-{n}", metrics=[{"loss": 1.0 / (n + 1)}])
    forked_build(runs, site)
    previous = read_manifest(str(site))
    previous_data = previous_index(str(site), previous)
    staging = tmp_path / "staging"
    staging.write_text("a file where the staging folder should be: the child fails to write into it")
    # every run given: rows it must put in
    aside = fork_index_update(previous.in_site_order(), [], previous_data, {}, str(staging))
    assert aside is not None
    (site / INDEX_DATA_FILE).write_text("stale", encoding="utf-8")
    assert aside.moved_in(str(site)) == index_digest(previous_data)  # made here: the same rows, the same file
    assert (site / INDEX_DATA_FILE).read_text("utf-8") == previous_data
    assert aside.work.ended
