"""The build pipeline: discover -> load -> redact -> render -> write. Only write_site() and update_site() write.

A full build assembles the site in a fresh folder next to --out and swaps it in at the end, so a
failed build never leaves a half-written site, and --strict can refuse before anything is published.
A rebuild into a site this command made is incremental (see manifest.py): only the pages of runs
whose inputs changed are rendered, and each file is replaced atomically in place.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field

from tracker import __version__

from .assets import plan_assets
from .discover import discover
from .errors import OutputFolderError, SiteError, StrictBuildError, UnsafePathError
from .load import RunSource, load_source
from .manifest import MANIFEST_FILE, read_manifest, site_manifest
from .model import compare_context, index_context, project_context, index_data, run_context, run_data, run_description, run_url
from .render import Renderer, data_script, script_json
from .secrets import Finding, redact_sources, redact_text
from .theme import resolve_theme

SITE_MARKER = ".tracker-site"  # marks a folder this command built, so a rebuild may replace it
DEFAULT_TITLE = "Experiments"


@dataclass
class BuildOptions:
    runs: list[str] | None = None
    out: str = "site"
    title: str = DEFAULT_TITLE
    theme: str | None = None
    base_url: str | None = None
    strict: bool = False
    full: bool = False  # re-render every page even when the site's manifest says nothing changed


@dataclass
class BuildReport:
    out: str
    runs_built: int = 0
    runs_rendered: int = 0   # run pages rendered by this build (all of them on a full build)
    runs_running: int = 0
    incremental: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    written: list[str] = field(default_factory=list)  # site-relative paths this build wrote

    @property
    def index_path(self) -> str:
        return os.path.join(self.out, "index.html")


def build(options: BuildOptions, progress=None) -> BuildReport:
    """Build the site described by ``options``; ``progress(done, total)`` is called per run page."""
    started = time.monotonic()
    theme = resolve_theme(options.theme)
    renderer = Renderer(theme)
    out = os.path.abspath(options.out)
    check_output_folder(out)
    found = discover(options.runs)
    sources, errors = load_sources(found.runs, found.errors)
    findings = redact_sources(sources)
    errors = [(redact_text(path), redact_text(reason)) for path, reason in errors]
    if options.strict and (findings or errors):
        raise StrictBuildError([str(finding) for finding in findings] +
                               [f"unreadable run {path}: {reason}" for path, reason in errors])
    if not sources:
        where = ", ".join(found.roots)
        raise SiteError(f"no readable runs in {where}" + (f" ({len(errors)} unreadable)" if errors else "")
                        + "; log some with tracker.init() or try 'tracker demo'")
    manifest = site_manifest(renderer.theme, {"title": options.title, "base_url": options.base_url}, sources)
    previous = None if options.full else read_manifest(out)
    incremental = previous is not None and previous.site_key == manifest.site_key
    only = manifest.changed_slugs(previous) if incremental else None
    texts, copies = render_site(renderer, options, sources, errors, progress, only)
    texts[MANIFEST_FILE] = manifest.to_json()
    if incremental:
        unchanged = {source.slug for source in sources} - only
        kept = set(plan_assets(theme.static_dirs)[0]) | {f"runs/{slug}" for slug in unchanged} \
            | {f"data/runs/{slug}.js" for slug in unchanged}
        update_site(out, texts, copies, kept)
    else:
        write_site(out, texts, copies)
    pages = sum(1 for path in texts if path.endswith(".html"))
    return BuildReport(out, runs_built=len(sources), runs_rendered=len(sources) if only is None else len(only),
                       runs_running=sum(source.run.status == "running" for source in sources),
                       incremental=incremental, skipped=errors, findings=findings, pages=pages,
                       files=len(texts) + len(copies), seconds=time.monotonic() - started,
                       written=sorted(texts) + sorted(copies))


def check_output_folder(out: str) -> None:
    """Refuse to replace a non-empty folder that this command did not build."""
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, SITE_MARKER)):
        raise OutputFolderError(out)


def load_sources(runs, errors) -> tuple[list[RunSource], list[tuple[str, str]]]:
    """Read each run's extra files; a run whose files cannot be read is skipped and listed."""
    sources, errors = [], list(errors)
    for run in runs:
        try:
            sources.append(load_source(run))
        except (OSError, ValueError) as exc:
            errors.append((run.path, f"{type(exc).__name__}: {exc}"))
    return sources, errors


def render_site(renderer: Renderer, options: BuildOptions, sources: list[RunSource],
                errors: list[tuple[str, str]], progress=None,
                only: set[str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Every text file of the site by relative path, and every file to copy (relative path -> source).

    ``only``: the slugs whose run pages to render; the index and compare pages are always rendered. None renders
    every run page and plans the theme's assets too.
    """
    assets, plotly_rel = plan_assets(renderer.theme.static_dirs)
    copies = assets if only is None else {}
    rendered = [source for source in sources if only is None or source.slug in only]
    title = options.title or DEFAULT_TITLE
    texts: dict[str, str] = {}

    def common(root: str, page_path: str, description: str) -> dict:
        canonical = f"{options.base_url.rstrip('/')}/{page_path}" if options.base_url else None
        return {"assets": f"{root}assets", "plotly": f"{root}{plotly_rel}", "canonical": canonical,
                "generator": f"tracker {__version__}", "description": description}

    projects = len({source.run.project for source in sources})
    overview = f"{len(sources)} runs in {projects} project{'s' if projects != 1 else ''}"
    context = index_context(title, sources, errors) | common("", "index.html", overview)
    texts["index.html"] = renderer.render("index.html", context, "the index page")
    texts["data/index.js"] = data_script("index", None, index_data(sources, errors))
    context = compare_context(title) | common("", "compare.html", f"Compare runs side by side: {overview}")
    texts["compare.html"] = renderer.render("compare.html", context, "the compare page")
    context = project_context(title) | common("", "project.html", f"Which parameters move the score: {overview}")
    texts["project.html"] = renderer.render("project.html", context, "the project page")
    for done, source in enumerate(rendered, start=1):
        page = run_url(source)
        context = run_context(title, source) | common("../../", page, run_description(source.run))
        texts[page] = renderer.render("run.html", context, source.run.path)
        texts[f"data/runs/{source.slug}.js"] = data_script("runs", source.run.id, run_data(source))
        if source.requirements_text:
            texts[f"runs/{source.slug}/requirements.txt"] = source.requirements_text
        if source.diff_text:
            texts[f"runs/{source.slug}/diff.patch"] = source.diff_text
        for plan in source.artifacts:
            if plan.source and plan.site_name:
                copies[f"runs/{source.slug}/artifacts/{plan.site_name}"] = plan.source
        if progress:
            progress(done, len(rendered))
    texts[SITE_MARKER] = script_json({"generator": f"tracker {__version__}", "theme": renderer.theme.name,
                                      "runs": {source.run.id: source.slug for source in sources}}) + "\n"
    return texts, copies


def write_site(out: str, texts: dict[str, str], copies: dict[str, str]) -> None:
    """Write everything into a fresh folder beside ``out``, then swap it in."""
    parent = os.path.dirname(out) or "."
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, f".{os.path.basename(out)}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for relative, text in texts.items():
            path = _inside(staging, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        for relative, source in copies.items():
            path = _inside(staging, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(source, path)
        retired = os.path.join(parent, f".{os.path.basename(out)}.old-{os.getpid()}")
        if os.path.exists(out):
            os.rename(out, retired)
        os.rename(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def update_site(out: str, texts: dict[str, str], copies: dict[str, str], kept: set[str]) -> None:
    """Replace the given files in ``out`` one by one, atomically, then remove every file this build did
    not write and ``kept`` does not name (a file or a folder): removed runs, files a run no longer has.

    The manifest is written last, so a build stopped half-way leaves keys that make the next
    build render those runs again.
    """
    texts = dict(texts)
    manifest = texts.pop(MANIFEST_FILE, None)
    for relative, text in texts.items():
        _replace_file(_inside(out, relative), text.encode("utf-8"))
    for relative, source in copies.items():
        with open(source, "rb") as handle:
            _replace_file(_inside(out, relative), handle.read())
    kept = kept | set(texts) | set(copies) | {MANIFEST_FILE}
    for parent, _, names in os.walk(out, topdown=False):
        for name in names:
            relative = os.path.relpath(os.path.join(parent, name), out).replace(os.sep, "/")
            if relative not in kept and not _parents(relative) & kept:
                os.remove(os.path.join(parent, name))
        if parent != out and not os.listdir(parent):
            os.rmdir(parent)
    if manifest is not None:
        _replace_file(_inside(out, MANIFEST_FILE), manifest.encode("utf-8"))


def _parents(relative: str) -> set[str]:
    """'runs/a/b.txt' -> {'runs', 'runs/a'}."""
    parts = relative.split("/")[:-1]
    return {"/".join(parts[:end]) for end in range(1, len(parts) + 1)}


def _replace_file(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: readers see old or new."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _inside(root: str, relative: str) -> str:
    """The absolute path of ``relative`` under ``root``; raises if it would land anywhere else."""
    path = os.path.normpath(os.path.join(root, relative))
    if os.path.isabs(relative) or os.path.commonpath([root, path]) != root or path == root:
        raise UnsafePathError(relative, root)
    return path


def print_progress(done: int, total: int) -> None:
    """A one-line counter on a terminal (stderr)."""
    sys.stderr.write(f"\r  building run pages: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
