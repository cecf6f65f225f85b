"""The run page's Reproduce block: escaped, without secrets, env files as links, reruns stated."""
from __future__ import annotations

import html
import json
import os
import re

from test_site_support import EVIL, TOKEN, append_record, log_run, run_cli


def page_text(path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))))


def test_the_block_is_escaped_secret_free_and_links_the_environment_files(tmp_path):
    root = tmp_path / "runs"
    path = log_run(root, "r", metrics=[{"loss": 0.5, "acc": 0.9}])
    run_id = os.path.basename(path)
    append_record(path, {"type": "git", "available": True, "in_repo": True, "repo_root": "/src/proj",
                         "commit": "c" * 40, "remote_url": "https://github.com/o/proj.git", "dirty": True,
                         "diff_file": "files/diff.patch", "untracked_files": [f"notes {EVIL}.txt"]})
    append_record(path, {"type": "code", "command_line": f"python train.py --name '{EVIL}' --key {TOKEN}",
                         "entry": "script", "cwd": "/src/proj", "workdir": ".",
                         "env_files": [{"name": "requirements.txt", "repo_path": "requirements.txt",
                                        "file": "files/env/requirements.txt"},
                                       {"name": "Dockerfile", "repo_path": "Dockerfile", "skipped": "too large (1 bytes)"}]})
    append_record(path, {"type": "environment", "python": "3.11.7", "packages": {"numpy": "2.1.0"},
                         "package_sources": {"numpy": {"kind": "url", "url": "file:///wheels/numpy.whl"}}})
    os.makedirs(os.path.join(path, "files", "env"))
    with open(os.path.join(path, "files", "env", "requirements.txt"), "w") as handle:
        handle.write(f"numpy\n# token {TOKEN}\n")
    with open(os.path.join(path, "files", "diff.patch"), "w") as handle:
        handle.write("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n")
    os.makedirs(os.path.join(path, "files", "reproduced_by"))
    with open(os.path.join(path, "files", "reproduced_by", "20990101-000000-rerun001.json"), "w") as handle:
        json.dump({"original": run_id, "rerun": "20990101-000000-rerun001", "time": 4070908800.0, "rtol": 1e-6,
                   "metrics": [{"name": "acc", "original": 0.9, "rerun": 0.9, "within": True},
                               {"name": "loss", "original": 0.5, "rerun": 0.6, "within": False}]}, handle)
    out = tmp_path / "site"
    assert run_cli("build", "--runs", str(root), "--out", str(out))[0] == 0
    page = out / "runs" / run_id / "index.html"
    raw = page.read_text(encoding="utf-8")
    assert EVIL not in raw and TOKEN not in raw
    text = page_text(page)
    assert "git clone https://github.com/o/proj.git proj cd proj git checkout --quiet " + "c" * 40 in text
    assert f"# Untracked files the run may have needed (not in the repository): notes {EVIL}.txt" in text
    assert "pip install -r requirements.txt" in text  # the repository's own file, in the checkout
    assert "Environment files of the repository, as they were: requirements.txt · Dockerfile (not copied: too large (1 bytes))" in text
    assert '<a href="env/requirements.txt" download>requirements.txt</a>' in raw
    assert TOKEN not in (out / "runs" / run_id / "env" / "requirements.txt").read_text()
    assert "No seed was recorded" in text
    assert "package sources" not in text and "numpy.whl" not in text  # a requirements matter, not a table row
    assert ("Reproduced by 20990101-000000-rerun001 on 2099-01-01 00:00 UTC: 1 of 2 metrics match within 1e-06; "
            "differed: loss (0.5 then 0.6).") in text
    assert "env files" not in text  # no longer a raw JSON list in the Code table
    assert "<li><code>notes &lt;img" in raw and '["notes' not in text  # a list of names, not JSON text
