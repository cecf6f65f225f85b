"""Runs logged from a real git repository for the code-difference tests (CLI, build and compare view):
each a real subprocess of a script calling tracker.init with its capture on (git, code, system metrics).

- "first": commit 1, lr = 0.1;
- "second": commit 2 (the script's lr changed to 0.2, a helper module changed), no uncommitted change;
- "third": commit 2 with an uncommitted line holding a markup payload in util.py.
"""
from __future__ import annotations

import os
import subprocess

from scripts import run_script, script_env

SCRIPT = """\
import sys, time
import tracker

run = tracker.init(project="code", name=sys.argv[1], dir=sys.argv[2])
lr = {lr}
for step in range(8):
    run.log({{"loss": lr / (step + 1)}}, step=step * 10)
    time.sleep(0.06)
run.finish()
print(run.id)
"""
PAYLOAD_LINE = "label = '<img src=x onerror=\"window.__pwned=1\">'"
SYSTEM_INTERVAL_S = "0.1"  # so that a run of half a second has system samples
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout


def log_code_runs(repo, runs) -> dict:
    """Three runs of a repository's script on two commits, the last with an uncommitted change.
    Returns {"ids": {name: id}, "commits": [first, second], "repo": path, "runs": path}."""
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    with open(os.path.join(repo, "util.py"), "w") as handle:
        handle.write("helper = 1\n")
    env = script_env(TRACKER_SYSTEM_INTERVAL_S=SYSTEM_INTERVAL_S)
    ids, commits = {}, []

    def commit_and_run(name: str, lr: float, dirty: str | None = None) -> None:
        with open(os.path.join(repo, "train.py"), "w") as handle:
            handle.write(SCRIPT.format(lr=lr))
        if dirty is None:
            git(repo, "add", ".")
            git(repo, "commit", "-q", "-m", f"lr {lr}")
            commits.append(git(repo, "rev-parse", "HEAD").strip())
        else:
            with open(os.path.join(repo, "util.py"), "a") as handle:
                handle.write(dirty + "\n")
        done = run_script(repo, SCRIPT.format(lr=lr), name, str(runs), env=env)
        assert done.returncode == 0, done.stderr
        ids[name] = done.stdout.strip().splitlines()[-1]

    commit_and_run("first", 0.1)
    with open(os.path.join(repo, "util.py"), "w") as handle:
        handle.write("helper = 2\n")
    commit_and_run("second", 0.2)
    commit_and_run("third", 0.2, dirty=PAYLOAD_LINE)
    return {"ids": ids, "commits": commits, "repo": str(repo), "runs": str(runs)}
