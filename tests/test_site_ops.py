"""Site identity and consistency (one id is one run; files deleted by hand come back) and what a
build publishes (no secret, no build-machine path), through the real CLI and real run folders."""
from __future__ import annotations

import json
import os
import re
import shutil
import time

from sitegen.index_data import index_of_text
from test_site_support import TOKEN, append_record, float32, log_run, run_cli, run_data

AWS_KEY = "AKIA" + "Q3EXAMPLEKEY7X2Z"  # AWS-access-key shaped: AKIA and 16 upper-case alphanumerics


def build(runs, site, *extra) -> tuple[str, str]:
    code, stdout, stderr = run_cli("build", *[arg for root in ([runs] if not isinstance(runs, list) else runs)
                                              for arg in ("--runs", str(root))], "--out", str(site), *extra)
    assert code == 0, stderr
    return stdout, stderr


def index_rows(site) -> list[dict]:
    return index_of_text((site / "data" / "index.js").read_text(encoding="utf-8"))["runs"]


def logged_losses(site, slug: str) -> list[float]:
    return run_data(site, slug)["metrics"]["loss"]["values"]


TELLTALE = float32(0.777)  # the copy's extra loss, as a data file holds it


def copy_run(source: str, name: str, *, loss: float | None = None) -> str:
    """A copy of a run folder under another name, optionally with one more, telltale metric."""
    copy = os.path.join(os.path.dirname(source), name)
    shutil.copytree(source, copy)
    if loss is not None:
        append_record(copy, {"type": "metrics", "time": time.time(), "step": 99, "values": {"loss": loss}})
    return copy


def test_a_copied_run_folder_is_one_row_and_one_page_from_the_folder_named_like_the_id(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    original = log_run(runs, "baseline", metrics=[{"loss": 0.5}])
    run_id = os.path.basename(original)
    copy_run(original, "backup-of-baseline", loss=0.777)

    _, stderr = build(runs, site)
    assert [row["id"] for row in index_rows(site)] == [run_id]
    assert TELLTALE not in logged_losses(site, run_id)
    assert stderr == (f"tracker: warning: run {run_id}: folder backup-of-baseline is a copy of folder {run_id}; "
                      f"the site shows {run_id} (the folder named like the run id wins, then the first --runs "
                      "folder, then the first name)\n")

    shutil.rmtree(runs / "backup-of-baseline")
    stdout, stderr = build(runs, site)
    assert stderr == "" and stdout.startswith("built 1 run (0 re-rendered, 1 unchanged)")
    assert [row["id"] for row in index_rows(site)] == [run_id] and TELLTALE not in logged_losses(site, run_id)


def test_a_copy_added_after_a_build_changes_nothing_and_is_never_read_twice(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    original = log_run(runs, "baseline", metrics=[{"loss": 0.5}])
    run_id = os.path.basename(original)
    build(runs, site)
    page = (site / "runs" / run_id / "index.html").stat()

    copy_run(original, "zz-copy", loss=0.777)
    stdout, stderr = build(runs, site)
    assert stdout.startswith("built 1 run (0 re-rendered, 1 unchanged)") and "folder zz-copy is a copy" in stderr
    assert (site / "runs" / run_id / "index.html").stat().st_mtime_ns == page.st_mtime_ns
    assert TELLTALE not in logged_losses(site, run_id)
    build_end = json.loads((site / ".tracker-manifest.json").read_text().splitlines()[-2])  # the last record
    assert list(build_end["copies"].values()) == [run_id]
    stdout, stderr = build(runs, site)  # the copy's id is remembered: it is not read again, still warned
    assert stdout.startswith("built 1 run (0 re-rendered, 1 unchanged)") and "folder zz-copy is a copy" in stderr


def test_a_page_made_from_a_copy_is_made_again_when_the_copy_goes(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    original = log_run(runs, "baseline", metrics=[{"loss": 0.5}])
    run_id = os.path.basename(original)
    renamed = str(runs / "renamed")
    os.rename(original, renamed)
    build(runs, site)  # the only folder holding the id: shown, whatever its name
    assert [row["id"] for row in index_rows(site)] == [run_id]

    copy_run(renamed, run_id, loss=0.777)  # named like the id: this copy wins
    stdout, stderr = build(runs, site)
    assert stdout.startswith("built 1 run (1 re-rendered, 0 unchanged)") and "folder renamed is a copy" in stderr
    assert TELLTALE in logged_losses(site, run_id)

    shutil.rmtree(runs / run_id)
    stdout, stderr = build(runs, site)
    assert stdout.startswith("built 1 run (1 re-rendered, 0 unchanged)") and stderr == ""
    assert TELLTALE not in logged_losses(site, run_id)
    assert [row["id"] for row in index_rows(site)] == [run_id]


def test_the_same_run_in_two_runs_folders_is_shown_from_the_first(tmp_path):
    first, second, site = tmp_path / "machine-a", tmp_path / "machine-b", tmp_path / "site"
    original = log_run(first, "baseline", metrics=[{"loss": 0.5}])
    run_id = os.path.basename(original)
    os.makedirs(second)
    copy_run(original, str(second / run_id), loss=0.777)
    _, stderr = build([first, second], site)
    assert [row["id"] for row in index_rows(site)] == [run_id] and TELLTALE not in logged_losses(site, run_id)
    assert f"folder {run_id} is a copy of folder {run_id}" in stderr
    _, stderr = build([second, first], site)  # the runs folder given first wins
    assert TELLTALE in logged_losses(site, run_id)


def test_site_files_deleted_by_hand_come_back_with_the_next_build(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    kept = os.path.basename(log_run(runs, "kept", metrics=[{"loss": 0.5}]))
    lost = os.path.basename(log_run(runs, "lost", metrics=[{"loss": 0.25}]))
    gone_data = os.path.basename(log_run(runs, "gone-data", metrics=[{"loss": 0.125}]))
    build(runs, site)
    before = {path: (site / path).read_bytes() for path in (f"runs/{lost}/index.html", f"data/runs/{gone_data}.js",
                                                            "assets/css/site.css")}
    shutil.rmtree(site / "runs" / lost)
    os.remove(site / "data" / "runs" / f"{gone_data}.js")
    os.remove(site / "assets" / "css" / "site.css")

    stdout, _ = build(runs, site)
    assert stdout.startswith("built 3 runs (2 re-rendered, 1 unchanged)")
    for path, content in before.items():
        assert (site / path).read_bytes() == content, path
    assert (site / "runs" / kept / "index.html").is_file()


def hostile_runs_folder(root) -> dict[str, str]:
    """Runs written as any writer may (docs/format.md), so nothing upstream redacts them first: a
    token in the name and config, an artifact file named with an AWS key, an unreadable folder."""
    run_id = "20260101-000000-secret01"
    folder = os.path.join(root, run_id)
    os.makedirs(os.path.join(folder, "artifacts"))
    artifact = f"artifacts/{AWS_KEY}.txt"
    with open(os.path.join(folder, artifact), "w") as handle:
        handle.write("weights\n")
    records = [{"type": "run", "schema": 1, "id": run_id, "project": "p", "name": f"try {TOKEN}", "group": None,
                "time": 1.7e9},
               {"type": "start", "writer": "main", "time": 1.7e9, "pid": 1, "host": "h", "user": "u"},
               {"type": "config", "time": 1.7e9, "values": {"endpoint": f"https://x/?t={TOKEN}"}},
               {"type": "metrics", "step": 0, "time": 1.7e9, "values": {"loss": 0.5}},
               {"type": "artifact", "name": f"{AWS_KEY}.txt", "path": artifact, "kind": "file", "size_bytes": 8},
               {"type": "end", "writer": "main", "time": 1.7e9 + 1, "status": "finished", "error": None}]
    with open(os.path.join(folder, "events.jsonl"), "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
    unreadable = os.path.join(root, "20260101-000001-broken01")
    os.makedirs(unreadable)
    with open(os.path.join(unreadable, "events.jsonl"), "w") as handle:
        handle.write("not json\n")
    copy_run(folder, "copy-of-secret")
    return {"run": folder, "unreadable": unreadable}


def test_nothing_published_holds_the_token_or_a_build_machine_path(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = hostile_runs_folder(runs)
    log_run(runs, "clean", metrics=[{"loss": 0.5}])
    build(runs, site)
    build(runs, site)  # an incremental build writes the manifest and index again from what it kept
    published = {}
    for parent, _, names in os.walk(site):  # hidden files included: the manifest and the site marker
        for name in names:
            path = os.path.join(parent, name)
            published[os.path.relpath(path, site)] = open(path, "rb").read()
    assert ".tracker-manifest.json" in published and ".tracker-site" in published
    for secret in (TOKEN, AWS_KEY, str(tmp_path)):
        assert [path for path, data in published.items() if secret.encode() in data or secret in path] == [], secret
    run_id = os.path.basename(paths["run"])
    assert os.listdir(site / "runs" / run_id / "artifacts") == ["REDACTED.txt"]
    unreadable = next(row for row in json.loads(published["data/index.js"].decode().split("TrackerData.index=")[1]
                                                 .rstrip().rstrip(";"))["unreadable"])
    assert unreadable["path"] == "20260101-000001-broken01"


def test_warnings_and_strict_messages_name_the_kind_and_place_never_the_secret(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    hostile_runs_folder(runs)
    _, stderr = build(runs, site)
    assert TOKEN not in stderr and AWS_KEY not in stderr and str(tmp_path) not in stderr
    lines = stderr.splitlines()
    assert "tracker: warning: run 20260101-000000-secret01 (try [REDACTED]): name: token-shaped string redacted " \
           "(GitHub token)" in lines
    assert "tracker: warning: run 20260101-000000-secret01 (try [REDACTED]): artifact file name: token-shaped " \
           "string redacted (AWS access key)" in lines
    assert any(re.fullmatch(r"tracker: warning: skipped unreadable run 20260101-000001-broken01: .+", line)
               for line in lines)

    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(tmp_path / "strict"), "--strict")
    assert code == 2 and stdout == "" and not (tmp_path / "strict").exists()
    assert "config.endpoint: token-shaped string redacted (GitHub token)" in stderr
    assert "unreadable run 20260101-000001-broken01: " in stderr
    assert TOKEN not in stderr and AWS_KEY not in stderr and str(tmp_path) not in stderr
