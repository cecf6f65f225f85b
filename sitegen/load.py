"""Loading: a RunRecord plus the files of its folder the site shows (diff, requirements, artifacts).

Reads only; nothing here writes. Artifacts are planned (copy or list as not copied), not copied.
Each metric series is reduced while it is read to about PAGE_POINTS_PER_SERIES points (spikes and
non-finite values kept, see tracker/series.py), so a worker's memory and a page's data stay
bounded however many steps a run logged; a page whose series were reduced links a CSV file of
every point, written by the build as the same read passes the records (csv_spool.py).
"""
from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field

from tracker.layout import run_slug
from tracker.reader import RunRecord, load_run
from tracker.reproduction import REPRODUCED_BY_FOLDER, REPRODUCES_FILE, plan_reproduction

from .terminal_text import StyledText, parse_terminal_text

MAX_ARTIFACT_BYTES = 10 * 1024 * 1024       # one artifact larger than this is listed, not copied
MAX_RUN_ARTIFACT_BYTES = 100 * 1024 * 1024  # copies of one run's artifacts stop at this total
MAX_DIFF_SHOWN_BYTES = 1024 * 1024          # the capture caps the diff at 1 MiB too
MAX_ENV_FILE_SHOWN_BYTES = 256 * 1024       # the capture caps environment files at 256 KiB too
MAX_CONSOLE_SHOWN_BYTES = 256 * 1024        # the page shows the end of the console, where errors are
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")  # shown through <img>, never inline SVG
PAGE_POINTS_PER_SERIES = 5_000  # points of one metric a run page holds and draws (the CSV has all)


@dataclass
class ArtifactPlan:
    name: str
    size_bytes: int | None
    sha256: str | None
    source: str | None = None         # absolute path to copy from, when copied
    site_name: str | None = None      # file name under runs/<slug>/artifacts/
    skipped: str | None = None        # why it is not copied
    is_image: bool = False


@dataclass
class RunSource:
    """Everything one run page is made from; redaction.redact_source() rewrites its strings."""

    run: RunRecord
    slug: str
    diff_text: str | None = None
    diff_cut: bool = False
    requirements_text: str | None = None  # the run's packages as a requirements file that installs anywhere
    console_text: str | None = None  # escapes removed (see terminal_text.py): what redaction scans
    console_styles: StyledText | None = None  # its colours, as parsed (before redaction)
    console_cut: bool = False
    artifacts: list[ArtifactPlan] = field(default_factory=list)
    env_files: list[ArtifactPlan] = field(default_factory=list)  # copies of the repository's environment files
    env_file_texts: dict[str, str] = field(default_factory=dict)  # their texts (is the tracker required?)
    reproductions: list[dict] = field(default_factory=list)  # `tracker reproduce` reruns of this run
    reproduces: dict | None = None  # the comparison, when this run is such a rerun


def read_run(folder: str, on_metrics=None, now: float | None = None) -> RunRecord:
    """One run folder as its page shows it: each series reduced to about PAGE_POINTS_PER_SERIES points
    (``on_metrics`` and ``now``: see tracker.reader.load_run)."""
    return load_run(folder, now=now, max_points=PAGE_POINTS_PER_SERIES, on_metrics=on_metrics)


def is_reduced(run: RunRecord) -> bool:
    """Whether some metric series holds fewer points than were logged (its page links a CSV file)."""
    return any(history.count > len(history) for history in run.histories.values())


def load_source(run: RunRecord) -> RunSource:
    """Read the extra files of one run folder."""
    source = RunSource(run, run_slug(run.id))
    source.diff_text, source.diff_cut = _read_diff(run)
    source.env_files, source.env_file_texts = plan_env_files(run)
    source.requirements_text = plan_reproduction(run, source.env_file_texts).requirements_text
    source.reproductions, source.reproduces = read_reproductions(run.path)
    console, source.console_cut = _read_console(run)
    if console is not None:
        source.console_styles = parse_terminal_text(console)
        source.console_text = source.console_styles.text
    source.artifacts = plan_artifacts(run)
    return source


def _inside(folder: str, relative: object) -> str | None:
    """The real path of ``relative`` under ``folder``, or None when it would leave the folder."""
    if not isinstance(relative, str) or not relative:
        return None
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, relative))
    return path if path.startswith(root + os.sep) else None


def _read_text(path: str, limit: int) -> tuple[str, bool]:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def _read_diff(run: RunRecord) -> tuple[str | None, bool]:
    git = run.git if isinstance(run.git, dict) else {}
    path = _inside(run.path, git.get("diff_file") or ("files/diff.patch" if git.get("dirty") else None))
    if path is None or not os.path.isfile(path):
        return None, False
    try:
        text, cut = _read_text(path, MAX_DIFF_SHOWN_BYTES)
    except OSError:
        return None, False
    return text, cut or bool(git.get("diff_truncated"))


def _read_console(run: RunRecord) -> tuple[str | None, bool]:
    """The last MAX_CONSOLE_SHOWN_BYTES of each process's console log, first process first."""
    parts, cut = [], False
    for path in sorted(glob.glob(os.path.join(run.path, "console*.log")), key=lambda p: (p.endswith("console.log") is False, p)):
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as handle:
                handle.seek(max(0, size - MAX_CONSOLE_SHOWN_BYTES))
                data = handle.read()
        except OSError:
            continue
        cut |= size > MAX_CONSOLE_SHOWN_BYTES
        parts.append(data.decode("utf-8", "replace"))
    text = "".join(parts)
    return (text or None), cut


def plan_env_files(run: RunRecord) -> tuple[list[ArtifactPlan], dict[str, str]]:
    """The captured environment files (requirements, pyproject.toml, Dockerfile...) to publish,
    and their texts by name."""
    code = run.code if isinstance(run.code, dict) else {}
    plans, texts, used_names = [], {}, set()
    for entry in code.get("env_files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        plan = ArtifactPlan(entry["name"], None, None, skipped=entry.get("skipped") if entry.get("skipped") else None)
        plans.append(plan)
        path = _inside(run.path, entry.get("file"))
        if plan.skipped:
            continue
        if path is None or not os.path.isfile(path):
            plan.skipped = "file missing"
            continue
        try:
            texts[plan.name] = _read_text(path, MAX_ENV_FILE_SHOWN_BYTES)[0]
        except OSError:
            plan.skipped = "unreadable"
            continue
        plan.size_bytes, plan.source = os.path.getsize(path), path
        plan.site_name = unique_file_name(_safe_file_name(plan.name), used_names)
    return plans, texts


def read_reproductions(folder: str) -> tuple[list[dict], dict | None]:
    """The comparisons `tracker reproduce` left in a run folder: (reruns of it, the run it reran)."""
    reruns = []
    for path in sorted(glob.glob(os.path.join(folder, REPRODUCED_BY_FOLDER, "*.json"))):
        record = _read_json(path)
        if record is not None:
            reruns.append(record)
    return reruns, _read_json(os.path.join(folder, REPRODUCES_FILE))


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def plan_artifacts(run: RunRecord) -> list[ArtifactPlan]:
    """Which artifacts get copied into the site, within the size limits, and why others do not."""
    plans, budget, used_names = [], MAX_RUN_ARTIFACT_BYTES, set()
    for record in run.artifacts:
        if not isinstance(record, dict):
            continue
        name = str(record.get("name") or record.get("path") or "artifact")
        size = record.get("size_bytes") if isinstance(record.get("size_bytes"), int) else None
        plan = ArtifactPlan(name, size, record.get("sha256") if isinstance(record.get("sha256"), str) else None)
        plans.append(plan)
        path = _inside(run.path, record.get("path"))
        if path is None:
            plan.skipped = "path is outside the run folder"
        elif not os.path.isfile(path):
            plan.skipped = "a folder (listed, not copied)" if os.path.isdir(path) else "file missing"
        else:
            size = plan.size_bytes = os.path.getsize(path)
            if size > MAX_ARTIFACT_BYTES:
                plan.skipped = f"larger than the {MAX_ARTIFACT_BYTES // 2**20} MB per-artifact limit"
            elif size > budget:
                plan.skipped = f"the run's {MAX_RUN_ARTIFACT_BYTES // 2**20} MB artifact limit is used up"
            else:
                budget -= size
                plan.source = path
                plan.site_name = unique_file_name(_safe_file_name(os.path.basename(path)), used_names)
                plan.is_image = plan.site_name.lower().endswith(IMAGE_SUFFIXES)
    return plans


def _safe_file_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "artifact"
    return cleaned[:100]


def unique_file_name(name: str, used: set) -> str:
    """``name``, or ``name-2``, ``name-3``... (before its suffix): the first not in ``used``, added to it."""
    stem, dot, suffix = name.rpartition(".")
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = f"{stem}-{number}.{suffix}" if dot and stem else f"{name}-{number}"
    used.add(candidate)
    return candidate
