"""Shared by the site tests: runs logged with the real logger, and the CLI run in-process."""
from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import struct

import tracker
from tracker.cli import main

EVIL = "<img src=x onerror=alert(1)>"
SCRIPT_EVIL = "</script><img src=x onerror=alert(1)>"
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # GitHub-token shaped: 36 alphanumerics
LONG_STEPS = 20_000


def log_run(root, name, *, project="vision", config=None, tags=(), notes="", metrics=None,
            status="finished", error=None) -> str:
    """One run logged through tracker.init/log/finish; returns its folder."""
    run = tracker.init(project=project, name=name, config=config or {}, tags=list(tags), notes=notes,
                       dir=str(root), capture=False)
    for step, values in enumerate(metrics or []):
        run.log(values, step=step)
    run.finish(status=status, error=error)
    return run.path


def append_record(run_path: str, record: dict) -> None:
    """A record appended as any writer may (docs/format.md, 'Writing a run from any language')."""
    with open(os.path.join(run_path, "events.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def make_runs(root) -> dict:
    """A small, varied runs folder: the paths of the runs by name."""
    paths = {}
    paths["baseline"] = log_run(root, "baseline", config={"lr": 0.1, "batch": 32}, tags=["baseline"],
                                notes="Plain **SGD**.", metrics=[{"loss": 1.0 / (s + 1), "acc": s / 10} for s in range(10)])
    paths["fast"] = log_run(root, "fast-lr", config={"lr": 0.5, "batch": 64}, tags=["sweep"],
                            metrics=[{"loss": 2.0 / (s + 1), "acc": s / 20} for s in range(10)])
    paths["diverged"] = log_run(root, "diverged", project="nlp", config={"lr": 9.0, "batch": 32}, tags=["sweep"],
                                metrics=[{"loss": v} for v in (1.0, 3.0, math.inf, math.nan, -math.inf, 2.0)])
    paths["failed"] = log_run(root, "broken-loader", project="nlp", config={"lr": 0.01, "batch": 16}, tags=["bug"],
                              metrics=[{"loss": 0.9}, {"loss": 0.8}], status="failed",
                              error="Traceback (most recent call last):\nRuntimeError: loader worker died")
    paths["long"] = log_run(root, "long-run", config={"lr": 0.001, "batch": 128}, tags=["long"],
                            metrics=[{"loss": math.sin(s / 500) + (5.0 if s == 12_345 else 0.0)} for s in range(LONG_STEPS)])
    paths["evil"] = log_run(root, EVIL, config={"comment": EVIL, "script": SCRIPT_EVIL}, tags=[EVIL],
                            notes=f"{EVIL}\n\n<script>window.__pwned = 1</script>\n\n[click](javascript:alert(1))",
                            metrics=[{EVIL: 1.0}, {EVIL: 2.0}])
    corrupt = os.path.join(root, "20990101-000000-corrupt1")
    os.makedirs(corrupt)
    with open(os.path.join(corrupt, "events.jsonl"), "w") as handle:
        handle.write("this is not json\n{\"type\": \"metrics\"}\n")
    paths["corrupt"] = corrupt
    return paths


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``tracker ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def site_files(site) -> list[str]:
    return [os.path.join(parent, name) for parent, _, names in os.walk(site) for name in names]


def float32(value: float) -> float:
    """``value`` as the site's run data holds it (float32, sitegen/run_data.py)."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def run_data(site, slug: str) -> dict:
    """TrackerData.runs[<id>] of data/runs/<slug>.js with each series unpacked as run-data.js reads
    it: "values" a list of floats, "steps" every step."""
    text = (site / "data" / "runs" / f"{slug}.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("]=") + 2:].rstrip().removesuffix(";"))
    for series in [*data["metrics"].values(), *data["system"].values()]:
        packed, size = base64.b64decode(series["values"]), series["valueBits"] // 8
        series["values"] = list(struct.unpack(f"<{len(packed) // size}{'f' if size == 4 else 'd'}", packed))
        first, count, stride = series.pop("stepRange", None) or [0, 0, 1]
        series.setdefault("steps", [first + index * stride for index in range(count)])
    return data
