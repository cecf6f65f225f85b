"""Automatic capture of what a run needs to be understood and rerun: git, code, environment, hardware.

``tracker.init()`` runs ``capture_all`` in a background thread. Each part is independent: a failure
becomes ``{"error": ...}`` in that part's record and never reaches the training script.
"""
from __future__ import annotations

import os
import sysconfig
import time
from dataclasses import dataclass, field

from ..redact import redact_mapping, redact_token_shapes
from ..values import safe_strings
from .code import capture_code
from .environment import capture_environment
from .git import MAX_DIFF_BYTES, capture_git
from .hardware import capture_hardware

DIFF_FILE = "files/diff.patch"

__all__ = ["DIFF_FILE", "MAX_DIFF_BYTES", "CaptureOptions", "CaptureResult", "capture_all", "capture_code",
           "capture_environment", "capture_git", "capture_hardware"]


@dataclass
class CaptureOptions:
    """What to capture, and the facts about the process taken when ``init()`` was called."""
    argv: list
    cwd: str
    main_file: str | None
    main_module: str | None = None  # __main__.__spec__.name: set when started with ``python -m``
    git: bool = True
    code: bool = True
    environment: bool = True
    hardware: bool = True


@dataclass
class CaptureResult:
    """Records for the run's event stream, and files (path inside the run folder -> bytes)."""
    records: list[dict] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def capture_all(options: CaptureOptions) -> CaptureResult:
    """Run each enabled capture; every record is redacted before it is returned."""
    result = CaptureResult()
    repo_root = None
    if options.git:
        # The repository that holds the script, even when the script was started from elsewhere.
        start = os.path.dirname(os.path.join(options.cwd, options.main_file)) if options.main_file else options.cwd
        outcome = _guarded(capture_git, start)
        record, patch = outcome if isinstance(outcome, tuple) else (outcome, None)
        if record.get("in_repo") is False and os.path.realpath(start) == os.path.realpath(sysconfig.get_path("scripts")):
            # A console script lives in the environment's bin folder: its project is where it was started.
            outcome = _guarded(capture_git, options.cwd)
            record, patch = outcome if isinstance(outcome, tuple) else (outcome, None)
        if patch:
            result.files[DIFF_FILE] = patch.encode("utf-8", "surrogateescape")
            record["diff_file"] = DIFF_FILE
        repo_root = record.get("repo_root")
        result.records.append(_finish("git", record))
    if options.code:
        outcome = _guarded(capture_code, options.argv, options.cwd, options.main_file, repo_root, options.main_module)
        record, files = outcome if isinstance(outcome, tuple) else (outcome, {})
        result.files.update(files)
        result.records.append(_finish("code", record))
    if options.environment:
        result.records.append(_finish("environment", _guarded(capture_environment, repo_root)))
    if options.hardware:
        result.records.append(_finish("hardware", _guarded(capture_hardware)))
    return result


def _guarded(capture, *args):
    try:
        return capture(*args)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _finish(record_type: str, record: dict) -> dict:
    # Package names are not secrets: name-based redaction would hide e.g. google-auth's version.
    packages = record.pop("packages", None)
    # Paths and arguments that are not UTF-8 hold lone surrogates, which no record can store.
    clean = redact_mapping(safe_strings({"type": record_type, "time": time.time(), **record}))
    if isinstance(packages, dict):
        clean["packages"] = {redact_token_shapes(str(name))[0]: redact_token_shapes(str(version))[0]
                             for name, version in safe_strings(packages).items()}
    return clean
