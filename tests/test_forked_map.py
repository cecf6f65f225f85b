"""map_on_cores from a caller that runs no other thread (tracker build, tracker ls): workers forked
from it take batches from one pipe and send their results back on pipes of their own
(tracker/parallel.py). Each case runs in a fresh process, as the command line calls it (a test
process may run threads of its own, and would get the forkserver's pool instead)."""
from __future__ import annotations

import json
import subprocess
import sys

from scripts import script_env

MAP = """
import json, os, sys, time
import psutil
from tracker.parallel import map_on_cores

def work(item, offset):
    if item == int(sys.argv[2]):
        if sys.argv[1] == "raise":
            raise KeyError(f"no such item {item}")
        os._exit(3)  # as a template that ends its process does
    if item == 0:
        time.sleep(0.2)  # the first batch comes back last: the results must still be in order
    return (item + offset, os.getpid())

seen = []
try:
    results, workers = map_on_cores(work, list(range(50)), (1000,), min_items=2, per_task=3,
                                    progress=lambda done, total: seen.append((done, total)))
    outcome = {"results": [value for value, _ in results], "workers": workers, "pids": len({pid for _, pid in results}),
               "progress": seen[-1], "calls": len(seen)}
except BaseException as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc), "cause": str(exc.__cause__)}
outcome["children"] = len(psutil.Process().children(recursive=True))
print(json.dumps(outcome))
"""


def mapped(how: str = "work", failing_item: int = -1) -> dict:
    done = subprocess.run([sys.executable, "-c", MAP, how, str(failing_item)], capture_output=True, text=True,
                          env=script_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_forked_workers_give_every_result_in_order_and_report_progress_per_batch():
    result = mapped()
    assert result["results"] == list(range(1000, 1050))
    assert result["workers"] == 2 and result["pids"] == 2  # both worked, neither is the caller
    assert result["progress"] == [50, 50] and result["calls"] == 17  # once a batch of 3
    assert result["children"] == 0  # every worker waited for


def test_an_exception_in_a_worker_is_raised_in_the_caller_with_the_workers_traceback():
    result = mapped("raise", 31)
    assert result["error"] == "KeyError" and result["message"] == "'no such item 31'"
    assert "in work\n" in result["cause"] and "KeyError: 'no such item 31'" in result["cause"]
    assert result["children"] == 0  # the other worker was stopped


def test_a_worker_that_ends_its_process_breaks_the_map_as_a_pool_does():
    result = mapped("exit", 31)
    assert result["error"] == "BrokenProcessPool" and "exit code 3" in result["message"]
    assert result["children"] == 0


MANY_BATCHES = """
import json
from tracker.parallel import map_on_cores
results, workers = map_on_cores(abs, list(range(-40000, 0)), min_items=2, per_task=1)
print(json.dumps({"in_order": results == list(range(40000, 0, -1)), "workers": workers}))
"""


def test_more_batches_than_the_task_pipe_holds_are_all_handed_out():
    # 40,000 batch numbers are 160 KB: the pipe (64 KB) takes them as the workers read
    done = subprocess.run([sys.executable, "-c", MANY_BATCHES], capture_output=True, text=True, env=script_env(),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"in_order": True, "workers": 2}
