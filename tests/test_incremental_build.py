"""Rebuilding into a site ``tracker build`` made: only the runs whose files changed are rendered again."""
from __future__ import annotations

import json
import os
import re
import shutil
import time

import tracker

from sitegen.build import previous_index
from sitegen.folder_stamps import STAMPS_FILE, read_stamps
from sitegen.manifest import MANIFEST_FILE, read_manifest
from sitegen.index_data import index_of_text
from test_site_support import append_record, float32, log_run, run_cli, run_data, site_files
from tracker.run_keys import RACY_S

REPORT = re.compile(r"built (\d+) runs? \((\d+) re-rendered, (\d+) unchanged\); \d+ pages, \d+ files in \d+\.\ds\n")


def snapshot(site) -> dict[str, tuple[int, int, bytes]]:
    """Every file of the site: (inode, mtime_ns, content); a rewritten file changes inode or mtime."""
    files = {}
    for path in site_files(site):
        info = os.stat(path)
        with open(path, "rb") as handle:
            files[os.path.relpath(path, site)] = (info.st_ino, info.st_mtime_ns, handle.read())
    return files


def run_files(files: dict, run_path: str) -> dict:
    slug = os.path.basename(run_path)
    return {path: value for path, value in files.items() if slug in path}


def index_run_ids(site) -> list[str]:
    with open(site / "data" / "index.js", encoding="utf-8") as handle:
        return sorted(row["id"] for row in index_of_text(handle.read())["runs"])


def build(runs, site, *extra):
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", str(site), *extra)
    assert code == 0, stderr
    return stdout


def test_rebuild_renders_only_new_and_changed_runs(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0 / (s + 1)} for s in range(5)]) for n in range(3)]
    assert re.match(r"built 3 runs; \d+ pages", build(runs, site))
    before = snapshot(site)

    paths.append(log_run(runs, "run-3", metrics=[{"loss": 0.5}]))
    assert REPORT.match(build(runs, site)).groups() == ("4", "1", "3")
    after = snapshot(site)
    for old in paths[:3]:
        assert run_files(after, old) == run_files(before, old) != {}
    assert {path for path in before if path.startswith("assets")} == {path for path in after if path.startswith("assets")}
    assert all(after[path] == before[path] for path in before if path.startswith("assets"))
    new_slug = os.path.basename(paths[3])
    assert (site / "runs" / new_slug / "index.html").is_file()
    assert (site / "data" / "runs" / f"{new_slug}.js").is_file()
    assert (site / "compare.html").is_file()  # written by incremental builds too
    assert index_run_ids(site) == sorted(os.path.basename(path) for path in paths)

    append_record(paths[1], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01}})
    assert REPORT.match(build(runs, site)).groups() == ("4", "1", "3")
    changed = snapshot(site)
    for kept in (paths[0], paths[2], paths[3]):
        assert run_files(changed, kept) == run_files(after, kept)
    page = f"runs/{os.path.basename(paths[1])}/index.html"
    assert changed[page][:2] != after[page][:2]
    assert float32(0.01) in run_data(site, os.path.basename(paths[1]))["metrics"]["loss"]["values"]

    assert REPORT.match(build(runs, site)).groups() == ("4", "0", "4")


def test_removed_run_loses_its_pages_and_full_renders_everything(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(3)]
    build(runs, site)
    gone = os.path.basename(paths[0])
    for name in os.listdir(paths[0]):
        os.remove(os.path.join(paths[0], name))
    os.rmdir(paths[0])
    assert REPORT.match(build(runs, site)).groups() == ("2", "0", "2")
    assert not (site / "runs" / gone).exists()
    assert not (site / "data" / "runs" / f"{gone}.js").exists()
    assert index_run_ids(site) == sorted(os.path.basename(path) for path in paths[1:])

    before = snapshot(site)
    assert re.match(r"built 2 runs; 5 pages", build(runs, site, "--full"))
    after = snapshot(site)
    assert all(after[path][:2] != before[path][:2] for path in before if path.startswith("runs/"))


def test_a_change_of_title_rebuilds_every_page(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    log_run(runs, "only", metrics=[{"loss": 1.0}])
    build(runs, site)
    assert re.match(r"built 1 run; 4 pages", build(runs, site, "--title", "Renamed"))
    assert "Renamed" in (site / "runs" / os.listdir(site / "runs")[0] / "index.html").read_text()


def test_stale_heartbeat_re_renders_the_run_as_crashed(tmp_path):
    """A running run whose writer died: no file changes, yet its page must turn 'crashed'."""
    import time

    from sitegen.build import BuildOptions
    from sitegen.build import build as build_site

    runs, site = tmp_path / "runs", tmp_path / "site"
    folder = runs / "20250101-000000-alive001"
    folder.mkdir(parents=True)
    now = time.time()
    append_record(str(folder), {"type": "run", "id": folder.name, "project": "p", "name": "alive", "time": now})
    append_record(str(folder), {"type": "start", "writer": "main", "time": now, "heartbeat_interval_s": 2})
    (folder / "heartbeat-main.json").write_text(json.dumps({"time": now}))
    build(runs, site)
    page = site / "runs" / folder.name / "index.html"
    assert "status-running" in page.read_text()

    # An hour later, by the build's clock: the heartbeat is long stale.
    report = build_site(BuildOptions(runs=[str(runs)], out=str(site), now=now + 3600))
    assert (report.incremental, report.runs_built, report.runs_rendered, report.runs_running) == (True, 1, 1, 0)
    assert "status-crashed" in page.read_text()


def test_rebuilt_index_data_equals_a_full_builds(tmp_path):
    """Unchanged runs' rows are copied from the manifest as text: the result must be what a full build writes."""
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"run-{n}", config={"lr": 0.1 * (n + 1), "note": "ü </script> \u2028"},
                     metrics=[{"loss": 1.0 / (n + 1)}]) for n in range(3)]
    build(runs, tmp_path / "incremental")
    append_record(paths[1], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01}})
    log_run(runs, "run-new", metrics=[{"loss": 0.5}])
    assert REPORT.match(build(runs, tmp_path / "incremental")).groups() == ("4", "2", "2")
    build(runs, tmp_path / "full")
    incremental, full = (tmp_path / "incremental" / "data" / "index.js").read_bytes(), \
        (tmp_path / "full" / "data" / "index.js").read_bytes()
    assert incremental == full
    assert b"</script>" not in full and "\u2028".encode() not in full


def site_bytes(site) -> dict[str, bytes]:
    """Every file of a site but the manifest and the stamps (they say how the site was built, not what it shows)."""
    skipped = {MANIFEST_FILE, STAMPS_FILE}
    return {os.path.relpath(path, site): open(path, "rb").read() for path in site_files(site)
            if os.path.basename(path) not in skipped}


def test_a_rebuild_after_runs_added_changed_and_removed_is_the_site_a_full_build_makes(tmp_path):
    """The index's data file updated from the last build's (sitegen/index_update.py) and every page:
    the same bytes as a full build of the same runs, rebuild after rebuild."""
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", config={"lr": 0.1 * (n % 3), "layers": n % 2}, tags=["sweep"] if n % 2 else [],
                     metrics=[{"loss": 1.0 / (n + 1)}]) for n in range(8)]
    build(runs, site)
    assert previous_index(str(site), read_manifest(str(site))) == (site / "data" / "index.js").read_text("utf-8")
    for step, edit in enumerate(["change", "add", "remove first", "change first", "add a config key"]):
        if edit == "change":
            append_record(paths[3], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01, "acc": 0.5}})
        elif edit == "add":
            paths.append(log_run(runs, "run-new", config={"lr": 0.7, "optimizer": "adam"}, metrics=[{"loss": 0.5}]))
        elif edit == "remove first":
            shutil.rmtree(paths.pop(0))
        elif edit == "change first":
            append_record(paths[0], {"type": "metrics", "time": 2e9, "step": 6, "values": {"loss": 0.02}})
        else:
            paths.append(log_run(runs, "run-wide", config={"lr": 0.1, "width": [64, 64]}, metrics=[{"loss": 0.4}]))
        build(runs, site)
        full = tmp_path / f"full-{step}"
        shutil.copytree(runs, tmp_path / f"runs-{step}")
        build(tmp_path / f"runs-{step}", full)
        assert site_bytes(site) == site_bytes(full), edit


def test_an_index_the_manifest_does_not_name_is_made_again_from_every_row(tmp_path):
    """A build stopped after it replaced data/index.js and before it wrote the manifest: the next
    build does not update that file (its rows are not the manifest's) but makes it whole."""
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0 / (n + 1)}]) for n in range(4)]
    build(runs, site)
    manifest_before = (site / MANIFEST_FILE).read_bytes()
    append_record(paths[1], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01}})
    build(runs, site)
    (site / MANIFEST_FILE).write_bytes(manifest_before)  # as if stopped before the manifest was written
    assert previous_index(str(site), read_manifest(str(site))) is None
    append_record(paths[2], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.02}})
    assert REPORT.match(build(runs, site)).groups() == ("4", "2", "2")
    shutil.copytree(runs, tmp_path / "runs-again")
    build(tmp_path / "runs-again", tmp_path / "full")
    assert site_bytes(site) == site_bytes(tmp_path / "full")


def test_manifest_names_runs_by_id_so_a_moved_runs_folder_stays_incremental(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    for n in range(2):
        log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}])
    build(runs, site)
    assert str(runs) not in (site / ".tracker-manifest.json").read_text()  # the site is public
    moved = tmp_path / "elsewhere" / "runs"
    moved.parent.mkdir()
    os.rename(runs, moved)
    assert REPORT.match(build(moved, site)).groups() == ("2", "0", "2")


def test_a_manifest_cut_short_means_a_full_build(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    for n in range(2):
        log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}])
    build(runs, site)
    manifest = site / ".tracker-manifest.json"
    lines = manifest.read_text().split("\n")
    manifest.write_text("\n".join(lines[:-4]) + "\n")  # the build's end is gone, and the last run's row
    assert re.match(r"built 2 runs; \d+ pages", build(runs, site))  # full: no "(re-rendered, unchanged)"
    assert len(index_run_ids(site)) == 2


def test_rebuild_removes_files_a_run_no_longer_has_and_strays(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    kept = log_run(runs, "kept", metrics=[{"loss": 1.0}])
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0" * 64)
    run = tracker.init(project="vision", name="with-artifact", dir=str(runs), capture=False)
    stored = run.log_artifact(weights)
    run.finish()
    build(runs, site)
    slug = os.path.basename(run.path)
    copies = list((site / "runs" / slug / "artifacts").iterdir())
    assert [path.read_bytes() for path in copies] == [b"\0" * 64]
    (site / "stray.txt").write_text("left by hand")
    (site / "runs" / "gone-run").mkdir()  # where runs' folders and data files are: judged by name
    (site / "runs" / "gone-run" / "index.html").write_text("a run no longer shown")
    (site / "data" / "runs" / "gone-run.js").write_text("// its data")
    (site / "data" / "runs" / "notes.txt").write_text("not a run's data file")  # no slug: a stray too
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the site's")
    (site / "runs" / "link").symlink_to(outside)  # removed as a link, never walked through

    os.remove(stored)  # the run changed: its page is rendered again, without the copy
    assert REPORT.match(build(runs, site)).groups() == ("2", "1", "1")
    assert not any(path.exists() for path in copies)
    assert not (site / "stray.txt").exists()
    assert not (site / "runs" / "gone-run").exists() and not (site / "data" / "runs" / "gone-run.js").exists()
    assert not (site / "data" / "runs" / "notes.txt").exists()
    assert not (site / "runs" / "link").is_symlink() and (outside / "keep.txt").read_text() == "not the site's"
    assert (site / "runs" / os.path.basename(kept) / "index.html").is_file()
    assert (site / "data" / "runs" / f"{os.path.basename(kept)}.js").is_file()


def test_a_rebuild_through_the_folder_stamps_sees_every_changed_run(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0}]) for n in range(4)]
    time.sleep(RACY_S + 0.5)  # the folders' times are older than RACY_S: the build stamps them
    build(runs, site)
    stamps = read_stamps(str(site)).previous[0]
    assert sorted(stamps) == sorted(os.path.basename(path) for path in paths)

    append_record(paths[0], {"type": "metrics", "time": 2e9, "step": 5, "values": {"loss": 0.01}})
    os.makedirs(os.path.join(paths[1], "files"), exist_ok=True)
    with open(os.path.join(paths[1], "files", "notes.txt"), "w") as handle:
        handle.write("a file added in a sub-folder\n")
    with open(os.path.join(paths[2], "events-w1.jsonl"), "w") as handle:  # a second writer's file
        handle.write("")
    assert REPORT.match(build(runs, site)).groups() == ("4", "3", "1")
    assert float32(0.01) in run_data(site, os.path.basename(paths[0]))["metrics"]["loss"]["values"]
