"""How map_on_cores starts its workers (tracker/parallel.py): forked from a caller that runs no other
thread, with the cycle collector on and SIGTERM's default action as a fresh process has them; through
the forkserver from a caller that runs threads. Each case in a fresh process of its own, as the CLI
calls it (a test process may run threads of its own)."""
from __future__ import annotations

import json
import subprocess
import sys

from scripts import script_env

MAP_IN_A_FRESH_PROCESS = """
import gc, json, operator, os, signal, sys, threading
from tracker.parallel import map_on_cores

signal.signal(signal.SIGTERM, lambda *_: None)  # as tracker serve's process has it
gc.disable()  # as a build has it
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
parents, workers = map_on_cores(operator.call, [os.getppid] * 2, min_items=2, per_task=1)
handlers = map_on_cores(signal.getsignal, [signal.SIGTERM] * 2, min_items=2, per_task=1)[0]
collecting = map_on_cores(operator.call, [gc.isenabled] * 2, min_items=2, per_task=1)[0]
print(json.dumps({"forked": [parent == os.getpid() for parent in parents], "workers": workers, "default_term": [h == signal.SIG_DFL for h in handlers],
                  "collecting": collecting, "parent_collecting": gc.isenabled()}))
"""


def mapped(caller: str) -> dict:
    done = subprocess.run([sys.executable, "-c", MAP_IN_A_FRESH_PROCESS, caller], capture_output=True, text=True,
                          env=script_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_caller_without_threads_forks_workers_that_start_as_fresh_processes_do():
    result = mapped("alone")
    assert result["workers"] == 2 and result["forked"] == [True, True]  # children of the caller
    assert result["default_term"] == [True, True] and result["collecting"] == [True, True]
    assert result["parent_collecting"] is False  # the caller's own setting is left alone


def test_a_caller_with_a_thread_running_starts_workers_through_the_forkserver():
    result = mapped("thread")
    assert result["workers"] == 2 and result["forked"] == [False, False]  # children of the forkserver
    assert result["default_term"] == [True, True] and result["collecting"] == [True, True]
