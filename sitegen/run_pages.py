"""Run pages: one run folder -> its page, data file and downloads, written into a staging folder.

The unit of work a build spreads over the cores. Each job reads one run, redacts it, renders it
and writes it, then hands back only what the index needs (its row as JSON text, its findings, the files it
wrote), so a build holds one run per worker plus the index rows, however many runs there are.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from functools import partial

from tracker.cyclic_gc import cyclic_gc_paused
from tracker.errors import RunFormatError
from tracker.parallel import PARALLEL_MIN_RUNS, RUNS_PER_TASK, in_worker, map_on_cores
from tracker.reader import created_time

from .code_data import code_data, code_data_file, commit_only
from .csv_spool import CsvSpool
from .environments import environment_context, shared_environment, write_shared_files
from .load import PAGE_POINTS_PER_SERIES, is_reduced, load_source, read_run
from .media_output import publish_run_media
from .media_plan import run_media_budget_bytes
from .model import (ENV_FILES_FOLDER, PageSettings, index_row, row_head, run_context, run_data_file, run_description, run_folder,
                    run_url)
from .metrics_csv import METRICS_CSV_FILE
from .output import copy_file, site_path, write_bytes, write_text
from .redaction import redact_source, redact_text_file, redact_tokens, run_label
from .render import Renderer, data_script_text, script_json
from .run_data import run_data_json


@dataclass
class RunOutcome:
    """What rendering one run folder produced (or why it could not be read)."""

    folder: str
    key: str
    head: dict = field(default_factory=dict)  # model.row_head() of its index row
    row_json: str = ""                        # its index row, script-safe JSON
    commit: str | None = None                 # its index row's short commit hash (the manifest keeps it)
    full_commit: str | None = None            # the commit as the run logged it (commit_diffs asks git about it)
    findings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)  # files it shares by content with other runs (environments.py)
    error: str | None = None  # the run folder could not be read; nothing was written for it
    media: dict = field(default_factory=dict)  # its media files for the manifest (media_output.publish_run_media)


def render_runs(jobs: list[tuple[str, str]], settings: PageSettings, staging: str,
                progress=None, media_budget_bytes: int = run_media_budget_bytes(0)) -> tuple[list[RunOutcome], int]:
    """Render each (run folder, key) into ``staging``, on every core when there are enough runs;
    each run's media within ``media_budget_bytes`` (media_plan.py).

    Returns the outcomes in the order of ``jobs``, and how many processes rendered them.
    """
    return map_on_cores(_render_job, jobs, (settings, staging, media_budget_bytes), min_items=PARALLEL_MIN_RUNS,
                        per_task=RUNS_PER_TASK, progress=progress)


def _render_job(job: tuple[str, str], settings: PageSettings, staging: str, media_budget_bytes: int) -> RunOutcome:
    return render_run(*job, settings, staging, media_budget_bytes)


_renderers: dict[tuple, Renderer] = {}  # one per theme per process: Jinja caches compiled templates


def render_run(folder: str, key: str, settings: PageSettings, staging: str,
               media_budget_bytes: int = run_media_budget_bytes(0)) -> RunOutcome:
    """Read, redact, render and write one run; a run that cannot be read comes back with ``error``."""
    # The cycle collector paused for the whole run: a run's read, page and data allocate thousands
    # of containers, each 700 of which started a collection that walked the run's live columns
    # (a millisecond a run); what the run leaves behind is freed by reference counting at its end.
    with cyclic_gc_paused():
        return _render_run(folder, key, settings, staging, media_budget_bytes)


def _render_run(folder: str, key: str, settings: PageSettings, staging: str, media_budget_bytes: int) -> RunOutcome:
    outcome = RunOutcome(folder, key)
    csv = CsvSpool(staging, partial(created_time, folder), redact_tokens, hold_records=PAGE_POINTS_PER_SERIES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # per-line problems are kept on run.warnings and shown on its page
            source = load_source(read_run(folder, on_metrics=csv, now=settings.now))
    except (RunFormatError, OSError, ValueError) as exc:
        csv.discard()
        reason = str(exc).removeprefix(f"{folder}: ") if isinstance(exc, RunFormatError) \
            else f"{type(exc).__name__}: {exc}"
        outcome.error = redact_tokens(reason)
        return outcome
    outcome.findings = [str(finding) for finding in redact_source(source)]
    run = source.run
    renderer = _renderers.get((settings.theme.name, tuple(settings.theme.folders)))
    if renderer is None:
        # A build's worker ends with its build: its templates need no check for edits (tracker
        # serve renders small builds in its own long-lived process, and picks edits up)
        renderer = _renderers[(settings.theme.name, tuple(settings.theme.folders))] = Renderer(
            settings.theme, auto_reload=not _in_build_worker())
    page = run_url(source)
    media, media_findings, outcome.media = publish_run_media(source, media_budget_bytes, staging, run_label(source))
    outcome.findings += media_findings
    code, code_findings = code_data(source)  # the compare view's code section
    in_data = commit_only(code)  # a run without a patch or script: no code file, its commit in its data
    texts = {page: renderer.render("run.html", run_context(settings.title, source)
                                   | settings.common("../../", page, run_description(run)) | {"media": media},
                                   run.path),
             run_data_file(source.slug): data_script_text("runs", run.id, run_data_json(source, in_data))}
    if source.diff_text:
        texts[f"{run_folder(source.slug)}/diff.patch"] = source.diff_text
    if in_data is None:
        texts[code_data_file(source.slug)] = data_script_text("code", run.id, script_json(code))
    outcome.findings += [str(finding) for finding in code_findings]
    for relative, text in texts.items():
        write_text(staging, relative, text)
    outcome.files = list(texts) + outcome.media.get("files", [])
    shared = shared_environment(source)
    if shared is not None:
        outcome.shared = shared.files
        if not all(os.path.exists(site_path(staging, relative)) for relative in shared.files):
            write_shared_files(staging, _shared_texts(shared, renderer, settings))
    if is_reduced(run):  # the page holds reduced series: every point goes into a CSV file beside it
        relative = f"{run_folder(source.slug)}/{METRICS_CSV_FILE}"
        csv.close(relative)
        outcome.files.append(relative)
    else:
        csv.discard()
    copies = [("artifacts", "artifact", plan) for plan in source.artifacts]
    copies += [(ENV_FILES_FOLDER, "environment file", plan) for plan in source.env_files]
    for folder, what, plan in copies:
        if plan.source and plan.site_name:
            relative = f"{run_folder(source.slug)}/{folder}/{plan.site_name}"
            redacted, finding = redact_text_file(plan.source, run_label(source), f"{what} {plan.name}")
            if finding is None:
                copy_file(staging, relative, plan.source)
            else:
                write_bytes(staging, relative, redacted.encode("utf-8"))  # bytes: line endings kept as logged
                outcome.findings.append(str(finding))
            outcome.files.append(relative)
    row = index_row(source)
    outcome.head, outcome.row_json, outcome.commit = row_head(row), script_json(row), row["commit"]
    if row["commit"] is not None:
        outcome.full_commit = run.git["commit"]
    return outcome


def _in_build_worker() -> bool:
    """Whether this process is a worker that map_on_cores started."""
    return in_worker()


def _shared_texts(shared, renderer: Renderer, settings: PageSettings) -> dict[str, str]:
    """The texts of a shared environment's files: its page of packages and its requirements."""
    context = environment_context(shared) | settings.common(
        "../../", shared.page, f"{len(shared.packages)} packages, shared by the runs that link here")
    texts = {shared.page: renderer.render("environment.html", {"title": settings.title} | context, shared.page)}
    if shared.requirements:
        texts[shared.requirements] = shared.requirements_text
    return texts
