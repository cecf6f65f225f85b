"""Media in the built site: copied once per content hash, within each run's share of the site's
media budget (what is left out says so on the page and in the report line), kept across
incremental builds, and built from a run killed mid-training."""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from html import unescape

import numpy as np

import tracker
from sitegen.media_plan import LEFT_OUT_BUDGET, run_media_budget_bytes
from test_site_browser import open_page
from test_site_support import TOKEN, append_record, run_cli


def noise(seed: int, side: int = 48) -> np.ndarray:
    """An image PNG cannot shrink much: about 7 KB at 48x48."""
    return np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)


def log_stepped_run(root, name: str, seed: int, steps: int = 4) -> str:
    run = tracker.init(project="media", name=name, dir=str(root), capture=False)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1), "samples": tracker.Image(noise(seed * 100 + step), caption=f"step {step}")},
                step=step)
        run.log_confusion_matrix("cm", [0, 1, 1, 0], [0, 1, step % 2, 0], step=step)
    run.log_image("shared", noise(7), step=0)  # the same bytes in every run
    run.finish()
    return run.path


def media_data(out, path) -> dict:
    run_id = os.path.basename(path)
    text = next(file for file in (out / "data" / "media").glob("*.js")
                if f'TrackerData.media["{run_id}"]' in file.read_text(encoding="utf-8")).read_text(encoding="utf-8")
    assignment = text.strip().splitlines()[-1]  # TrackerData.media["<id>"]=<json>;
    return json.loads(assignment.split("]=", 1)[1].rstrip(";"))


def items_by_step(data: dict, key: str) -> dict[int, list[dict]]:
    series = next(series for series in data["keys"] if series["key"] == key)
    return dict(zip(series["steps"], series["items"]))


def test_the_share_is_the_smaller_of_the_cap_and_the_site_budget_over_runs():
    assert run_media_budget_bytes(1) == 5_000_000
    assert run_media_budget_bytes(100) == 5_000_000
    assert run_media_budget_bytes(1_000) == 500_000
    # one more run moves the share only at a two-significant-digit step of the count
    assert run_media_budget_bytes(1_001) == run_media_budget_bytes(1_100) == 500_000_000 // 1_100
    assert run_media_budget_bytes(10, site_budget_mb=1, run_budget_mb=5) == 100_000


def test_the_budget_keeps_the_last_step_of_every_key_first_then_the_newest(tmp_path, page):
    path = log_stepped_run(tmp_path / "runs", "tight", seed=1)
    out = tmp_path / "site"
    sizes = sorted(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(os.path.join(path, "media"))
                   for name in names if name.endswith(".png"))
    # room for about three images and the small confusion matrices
    budget_mb = (sum(sizes[-3:]) + 3_000) / 1e6
    code, stdout, _ = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(out),
                              "--run-media-budget-mb", str(budget_mb))
    assert code == 0
    data = media_data(out, path)
    samples = items_by_step(data, "samples")
    kept = [step for step, items in samples.items() if items[0]["file"]]
    assert 3 in kept and kept == sorted(kept)[-len(kept):] and kept == [step for step in range(4) if step >= min(kept)]
    assert 0 not in kept and samples[0][0]["leftOut"] == LEFT_OUT_BUDGET
    assert all(items[0]["file"] for items in items_by_step(data, "cm").values())
    left = data["leftOut"]["items"]
    assert left >= 1 and data["leftOut"]["reason"] == LEFT_OUT_BUDGET
    assert re.search(rf", left out {left} media items? \([0-9.]+ MB\) of 1 run over the site's media budget "
                     rf"\({budget_mb:g} MB a run\);", stdout), stdout
    html = unescape((out / "runs" / os.path.basename(path) / "index.html").read_text(encoding="utf-8"))
    assert f"left out: {left} item" in html and LEFT_OUT_BUDGET in html
    for name in (item[0]["file"] for item in samples.values() if item[0]["file"]):
        assert (out / name).is_file()

    open_page(page, {"bases": {"file": out.as_uri() + "/"}}, "file", f"runs/{os.path.basename(path)}/index.html")
    page.locator("#media-step").fill("0")
    notice = page.locator(".media-panel[data-key='samples'] .media-left-out")
    assert notice.inner_text() == "left out: over the site's media budget"
    assert page.errors == []


def test_site_budget_is_shared_by_the_runs_and_files_are_stored_once(tmp_path):
    paths = [log_stepped_run(tmp_path / "runs", f"run-{index}", seed=index, steps=2) for index in range(2)]
    out = tmp_path / "site"
    code, _, _ = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(out), "--media-budget-mb", "1")
    assert code == 0
    assert {media_data(out, path)["budgetBytes"] for path in paths} == {500_000}
    shared = {items_by_step(media_data(out, path), "shared")[0][0]["file"] for path in paths}
    assert len(shared) == 1
    names = [name for _, _, files in os.walk(out / "media") for name in files]
    assert len(names) == len(set(names))
    # each file is its bytes' hash, as in the run folders
    for folder, _, files in os.walk(out / "media"):
        for name in files:
            if name.endswith(".png"):
                with open(os.path.join(folder, name), "rb") as handle:
                    assert hashlib.sha256(handle.read()).hexdigest() == name.split(".")[0]


def test_incremental_builds_keep_shared_media_and_drop_a_removed_runs_own(tmp_path):
    runs = tmp_path / "runs"
    first = log_stepped_run(runs, "first", seed=1, steps=2)
    out = tmp_path / "site"
    assert run_cli("build", "--runs", str(runs), "--out", str(out))[0] == 0
    first_files = {item[0]["file"] for series in media_data(out, first)["keys"] for item in series["items"]}
    second = log_stepped_run(runs, "second", seed=2, steps=2)
    code, stdout, _ = run_cli("build", "--runs", str(runs), "--out", str(out))
    assert code == 0 and "(1 re-rendered, 1 unchanged)" in stdout
    assert all((out / name).is_file() for name in first_files)  # the unchanged run's media stay
    second_files = {item[0]["file"] for series in media_data(out, second)["keys"] for item in series["items"]}
    shared = first_files & second_files  # the "shared" image, and confusion matrices that came out alike
    assert items_by_step(media_data(out, second), "shared")[0][0]["file"] in shared and first_files - shared
    # the first run removed: its own files go, the shared one stays for the second
    os.rename(first, tmp_path / "removed")
    assert run_cli("build", "--runs", str(runs), "--out", str(out))[0] == 0
    assert all((out / name).is_file() for name in second_files)
    assert not any((out / name).exists() for name in first_files - shared)
    assert not (out / "data" / "media" / f"{os.path.basename(first)}.js").exists()
    # a tighter share re-renders the kept run, whose media no longer fit
    code, stdout, _ = run_cli("build", "--runs", str(runs), "--out", str(out), "--run-media-budget-mb", "0.001")
    assert code == 0 and "(1 re-rendered, 0 unchanged)" in stdout and "left out" in stdout


def test_a_json_file_that_is_not_json_is_left_out_and_never_becomes_a_script(tmp_path):
    path = log_stepped_run(tmp_path / "runs", "forged", seed=3, steps=1)
    payload = b"1;window.__pwned=1//"
    sha = hashlib.sha256(payload).hexdigest()
    os.makedirs(os.path.join(path, "media", sha[:2]), exist_ok=True)
    with open(os.path.join(path, "media", sha[:2], f"{sha}.json"), "wb") as handle:
        handle.write(payload)
    append_record(path, {"type": "media", "key": "forged", "step": 0, "kind": "table",
                         "file": f"media/{sha[:2]}/{sha}.json", "rows": 1, "columns": 1})
    append_record(path, {"type": "media", "key": "secret", "step": 0, "kind": "text", "file": f"media/{sha[:2]}/{sha}.txt"})
    out = tmp_path / "site"
    code, _, _ = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(out))
    assert code == 0
    data = media_data(out, path)
    forged = items_by_step(data, "forged")[0][0]
    assert forged["file"] is None and forged["leftOut"].startswith("unreadable (")
    assert not (out / "media" / sha[:2] / f"{sha}.js").exists()
    assert items_by_step(data, "secret")[0][0]["leftOut"] == "missing from the run folder"


def test_token_shaped_text_in_media_is_redacted(tmp_path):
    run = tracker.init(project="media", name="leaky", dir=str(tmp_path / "runs"), capture=False)
    run.log_text("prompt", f"use {TOKEN} please", step=0)
    run.log_image("img", noise(1, 8), caption=f"key {TOKEN}", step=0)
    run.finish()
    out = tmp_path / "site"
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", str(out))
    assert code == 0 and "redacted" in stdout
    for folder, _, files in os.walk(out):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                assert TOKEN.encode() not in handle.read(), name


KILLED_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    import numpy as np
    import tracker
    run = tracker.init(project="media", name="killed", dir=sys.argv[1], capture=False)
    for step in range(3):
        run.log({"loss": 1.0, "samples": tracker.Image(np.full((8, 8, 3), 40 * step, np.uint8))}, step=step)
    time.sleep(1.0)  # several flush intervals: steps 0-2 are written
    run.log({"loss": 0.5, "samples": tracker.Image(np.full((8, 8, 3), 250, np.uint8))}, step=3)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_sigkilled_run_keeps_the_media_written_before_its_last_flush_and_its_page_builds(tmp_path):
    runs = tmp_path / "runs"
    env = dict(os.environ, TRACKER_FLUSH_INTERVAL_S="0.1")
    result = subprocess.run([sys.executable, "-c", KILLED_SCRIPT, str(runs)], env=env, capture_output=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    out = tmp_path / "site"
    code, stdout, _ = run_cli("build", "--runs", str(runs), "--out", str(out))
    assert code == 0, stdout
    path = next(runs.iterdir())
    data = media_data(out, str(path))
    samples = items_by_step(data, "samples")
    assert {0, 1, 2} <= set(samples)
    for step in samples:
        assert samples[step][0]["file"] and (out / samples[step][0]["file"]).is_file()
    assert 'id="media"' in (out / "runs" / path.name / "index.html").read_text(encoding="utf-8")
