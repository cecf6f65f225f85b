"""Run in a fresh process: how long ``tracker.init()`` takes with default capture, and ``finish()``.

Capture of git, environment and code runs in the background, so ``init_s`` is what the training
script waits for at start, and ``finish_s`` (one logged value, then ``finish()``) includes waiting
for that capture to complete. ``import tracker`` happens before the timing.
"""
import tempfile
import time

import tracker
from common import emit_result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-init-") as folder:
        start = time.perf_counter()
        run = tracker.init(project="bench", name="init", config={"lr": 1e-3, "batch_size": 64}, dir=folder)
        initialized = time.perf_counter()
        run.log({"loss": 0.31}, step=0)
        logged = time.perf_counter()
        run.finish()
        finished = time.perf_counter()
    emit_result({"init_s": initialized - start, "finish_s": finished - logged})


if __name__ == "__main__":
    main()
