"""Running small training scripts in real subprocesses, as a user's script would run."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

FAST_TIMING_ENV = {"TRACKER_FLUSH_INTERVAL_S": "0.2", "TRACKER_HEARTBEAT_INTERVAL_S": "0.2"}


def script_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(FAST_TIMING_ENV)
    env.update(extra)
    return env


def write_script(folder, code: str, name: str = "train.py") -> str:
    path = os.path.join(folder, name)
    with open(path, "w") as handle:
        handle.write(textwrap.dedent(code))
    return path


def run_script(folder, code: str, *args: str, env: dict | None = None, timeout: float = 60,
               cwd=None) -> subprocess.CompletedProcess:
    path = write_script(folder, code)
    return subprocess.run([sys.executable, path, *args], capture_output=True, text=True, timeout=timeout,
                          env=env or script_env(), cwd=cwd or folder)


def start_script(folder, code: str, *args: str, env: dict | None = None, cwd=None) -> subprocess.Popen:
    path = write_script(folder, code)
    return subprocess.Popen([sys.executable, path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env or script_env(), cwd=cwd or folder)


def read_lines(path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()
