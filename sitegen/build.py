"""The build pipeline: discover -> plan -> render runs -> check -> render the index -> publish.

Runs stream through the render step (see run_pages.py): each is read, redacted, rendered and
written to a staging folder by a worker, and only its index row comes back, so memory stays
bounded as runs grow and the work spreads over the cores. Nothing is published until every run
is rendered and --strict has had its say:
- a full build assembles the whole site in the staging folder beside --out and swaps it in;
- a rebuild into a site this command made is incremental (see manifest.py): only run folders whose
  files changed are read and rendered, their staged files are moved over the old ones one by one,
  the index is rewritten from the rows the manifest kept, and the manifest is written last (the
  changed runs' records appended to it). Run as ``tracker build`` (a process of its own), it has a
  forked child check the last build's folder stamps on a second core while it reads what the last
  build left (stamp_checks.py).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import attrgetter, countOf, eq, itemgetter, not_

import msgspec

from tracker.cyclic_gc import cyclic_gc_paused
from tracker.version import __version__

from .assets import plan_assets
from .commit_diffs import commit_diff_texts_aside
from .discover import discover, resolved_roots
from .errors import OutputFolderError, SiteError, StrictBuildError
from .folder_stamps import STAMPS_FILE, FolderStamps, read_stamps, write_stamps
from .identity import RunChoice
from .index_data import INDEX_DATA_FILE, index_digest, index_files
from .index_update import updated_index_files
from .load import read_run
from .manifest import MANIFEST_FILE, Manifest, RunEntry, read_manifest, site_key, write_manifest
from .media_plan import DEFAULT_RUN_MEDIA_BUDGET_MB, DEFAULT_SITE_MEDIA_BUDGET_MB, run_media_budget_bytes
from .model import (PageSettings, compare_context, index_context, project_context,
                    relative_to_runs_folder)
from .output import copy_file, remove_files, swap_in, write_text
from .output_lock import locked_output, staging_path
from .render import Renderer, script_safe
from .report_blocks import ReportRuns
from .reports import SiteReports, build_reports, default_reports_folder, find_report_files
from .run_pages import RunOutcome, render_runs
from .site_update import read_site_text, run_files_in_site, update_site
from .stamp_checks import stamps_checked_aside
from .redaction import redact_tokens
from .theme import resolve_theme

SITE_MARKER = ".tracker-site"  # marks a folder this command built, so a rebuild may replace it
DEFAULT_TITLE = "Experiments"
REPORT_RUNS_KEPT = 256  # runs read for report blocks kept in memory: reports often show one sweep several ways


@dataclass
class BuildOptions:
    runs: list[str] | None = None
    out: str = "site"
    title: str = DEFAULT_TITLE
    theme: str | None = None
    base_url: str | None = None
    strict: bool = False
    full: bool = False  # re-render every page even when the site's manifest says nothing changed
    media_budget_mb: float = DEFAULT_SITE_MEDIA_BUDGET_MB      # all runs' media together (media_plan.py)
    run_media_budget_mb: float = DEFAULT_RUN_MEDIA_BUDGET_MB   # one run's media at most
    now: float | None = None  # the time heartbeats are judged at (a running run goes stale); default: the clock
    reports: str | None = None  # the folder of report Markdown files; default: reports/ beside the runs folder
    # {absolute runs folder: the names of its folders that may have changed since the last build},
    # for a runs folder whose only writer says so (a store's cache): the others' stamps hold unchecked
    unchanged_except: dict[str, set[str]] | None = None
    # the runs folders still being made ready (a store syncing in a forked child): called, once the
    # build has read what the last one left, for (runs, unchanged_except)
    runs_ready: Callable[[], tuple[list[str], dict[str, set[str]] | None, dict[str, list] | None]] | None = None
    # {runs folder of unchanged_except: its run_keys.candidate_names, taken while its store synced}
    names_listed: dict[str, list] | None = None


@dataclass
class BuildReport:
    out: str
    runs_built: int = 0
    runs_rendered: int = 0   # run pages rendered by this build (all of them on a full build)
    runs_running: int = 0
    incremental: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)  # a warning per folder skipped as a copy of a run shown
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    written: list[str] = field(default_factory=list)  # site-relative paths this build wrote
    workers: int = 1  # processes that rendered run pages
    media_budget_bytes: int = 0   # each run's share of the site's media budget
    media_left_out: tuple[int, int, int] = (0, 0, 0)  # items, bytes and runs left out by the media budget
    reports: int = 0  # report pages built
    report_problems: list[str] = field(default_factory=list)  # report blocks that could not be filled, by file:line

    @property
    def index_path(self) -> str:
        return os.path.join(self.out, "index.html")


def build(options: BuildOptions, progress=None, keep: list | None = None, forks: bool = False) -> BuildReport:
    """Build the site described by ``options``; ``progress(done, total)`` is called per run page.

    ``keep``: a list the build's large objects (the manifests, discovery, stamps) are added to
    rather than freed as it returns, for a caller that ends its process right after (tracker
    build: freeing 100,000 runs' entries one by one is 0.3 s of work for nothing).
    ``forks``: the process is the build's own (tracker build; never a library call from a training
    script): a child forked from it checks the last build's stamps on a second core (stamp_checks.py).
    Raises SiteLockedError at once when another build is writing to the same --out.
    """
    started = time.monotonic()
    theme = resolve_theme(options.theme)
    out = os.path.abspath(options.out)
    # The cycle collector off for the build: reading the manifest, discovery and writing the index
    # make hundreds of thousands of objects that live to the end, which each of its passes walked
    # again (a sixth of a rebuild's CPU at 20,000 runs); a run's page, the one place with garbage
    # in cycles, is rendered with the collector paused too and leaves none (test_no_reference_cycles).
    with locked_output(out), cyclic_gc_paused():
        check_output_folder(out)
        report = _build_locked(options, theme, out, progress, keep, forks)
    report.seconds = time.monotonic() - started
    return report


def _build_locked(options: BuildOptions, theme, out: str, progress, keep: list | None, forks: bool) -> BuildReport:
    stamps = FolderStamps() if options.full else read_stamps(out)
    manifest = Manifest(site_key(theme, {"title": options.title, "base_url": options.base_url}))
    last = None
    if options.runs_ready is not None:  # read what the last build left while the runs folders are made ready
        last = _last_build(options, out, manifest)
        options.runs, options.unchanged_except, options.names_listed = options.runs_ready()
    roots, trusted = resolved_roots(options.runs), options.unchanged_except or {}
    with stamps_checked_aside(stamps, roots, allowed=forks and not all(root in trusted for root in roots)) as checks:
        # what the last build left, read while a child checks the stamps (discover asks it last)
        previous, incremental, known_ids, in_site, previous_data = last or _last_build(options, out, manifest)
        found = discover(options.runs, stamps, checks, trusted, options.names_listed)
    choice = RunChoice(found, known_ids)
    assets, plotly = plan_assets(theme.static_dirs)
    settings = PageSettings(options.title or DEFAULT_TITLE, theme, plotly, f"tracker {__version__}", options.base_url,
                            options.now)
    media_budget = run_media_budget_bytes(len(found.keys), options.media_budget_mb, options.run_media_budget_mb)

    staging = staging_path(out)
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        kept, shown, workers = render_shown_runs(choice, previous if incremental else None, in_site, settings,
                                                 staging, progress, media_budget)
        manifest.runs = kept | {run_id: _entry(outcome) for run_id, outcome in shown.items()}
        manifest.copies = {found.keys[copy.folder]: copy.run_id for copy in choice.copies()}
        unreadable = {**found.problems, **choice.unreadable}  # folders discovery could not use, runs that failed to read
        errors = sorted((redact_tokens(found.relative(folder)), redact_tokens(reason)) for folder, reason in unreadable.items())
        findings = list(chain.from_iterable(map(attrgetter("findings"), manifest.runs.values())))
        if options.strict and (findings or errors):
            raise StrictBuildError(findings + [f"unreadable run {path}: {reason}" for path, reason in errors])
        if not manifest.runs:
            where = ", ".join(found.roots)
            raise SiteError(f"no readable runs in {where}" + (f" ({len(errors)} unreadable)" if errors else "")
                            + "; log some with tracker.init() or try 'tracker demo'")
        renderer = Renderer(theme)
        entries = manifest.in_site_order()
        reports = site_reports(options, entries, choice, renderer, settings)
        if options.strict and reports.problems:
            raise StrictBuildError(reports.problems)
        # The compare view's commit diffs, asked of git on a thread while this one renders the index
        # pages: the wait for git (0.1-0.2 s to look up 1,000 runs' commits) leaves the other core idle.
        asked = commit_diff_texts_aside(list(map(attrgetter("commit"), entries)),
                                        [os.getcwd(), *found.roots], out if incremental else None,
                                        previous.commits if incremental else None,
                                        {outcome.commit: outcome.full_commit for outcome in shown.values()})
        texts = site_pages(renderer, settings, entries, errors, reports.links, previous_data, kept)
        diffs, manifest.commits = asked()
        texts |= reports.texts | diffs
        manifest.index = index_digest(texts[INDEX_DATA_FILE])
        run_files = list(dict.fromkeys(relative for outcome in shown.values() for relative in outcome.files))
        shared = set(chain.from_iterable(map(attrgetter("shared"), manifest.runs.values())))  # still referenced
        run_files += sorted({relative for outcome in shown.values() for relative in outcome.shared
                             if not (incremental and os.path.isfile(os.path.join(out, relative)))})  # new ones
        if incremental:
            restored = [relative for relative, source in assets.items() if not os.path.isfile(os.path.join(out, relative))]
            for relative in restored:  # deleted by hand: the site key covers changed assets, not missing ones
                copy_file(staging, relative, assets[relative])
            run_files += restored
            with_media = compress(kept.values(), map(attrgetter("media"), kept.values()))
            media = set(chain.from_iterable(map(attrgetter("media_files"), with_media)))
            update_site(out, staging, run_files, texts, set(assets) | media | shared | {STAMPS_FILE},
                        set(map(itemgetter("slug"), map(attrgetter("head"), kept.values()))), in_site)
            write_stamps(out, stamps)
            write_manifest(out, manifest, previous)  # last: a build stopped before it renders its runs again
        else:
            for relative, text in texts.items():
                write_text(staging, relative, text)
            write_text(staging, STAMPS_FILE, stamps.to_text())
            write_text(staging, MANIFEST_FILE, manifest.to_text())
            for relative, source in assets.items():
                copy_file(staging, relative, source)
            swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    written = sorted(run_files) + sorted([*texts, MANIFEST_FILE, STAMPS_FILE]) + ([] if incremental else sorted(assets))
    if keep is not None:
        keep += [stamps, found, previous, manifest, choice, in_site, kept, shown, entries, texts]
    return BuildReport(out, runs_built=len(manifest.runs), runs_rendered=len(shown),
                       runs_running=countOf(map(itemgetter("status"), map(attrgetter("head"), entries)), "running"),
                       incremental=incremental, skipped=errors, findings=findings,
                       copies=[copy.message(found) for copy in choice.copies()],
                       pages=sum(path.endswith(".html") for path in texts) + len(manifest.runs),
                       files=len(written), written=written, workers=workers, media_budget_bytes=media_budget,
                       media_left_out=media_left_out(manifest), reports=len(reports.links),
                       report_problems=reports.problems)


def _last_build(options: BuildOptions, out: str, manifest: Manifest) -> tuple:
    """What the last build left that this one uses: (its manifest or None, whether this build is
    incremental on it, the run ids it knew, its run files in the site, its index data)."""
    previous = None if options.full else read_manifest(out)
    incremental = previous is not None and previous.site_key == manifest.site_key
    known_ids = previous.known_ids() if incremental else {}
    in_site = run_files_in_site(out) if incremental else (set(), set(), set())
    previous_data = previous_index(out, previous) if incremental else None
    return previous, incremental, known_ids, in_site, previous_data


def site_reports(options: BuildOptions, entries: list[RunEntry], choice: RunChoice, renderer: Renderer,
                 settings: PageSettings) -> SiteReports:
    """The report pages (reports.py), their blocks filled from the runs the site shows: fields
    from the index rows, histories and media read again only for the runs a block draws."""
    if options.reports is not None and not os.path.isdir(options.reports):
        raise SiteError(f"--reports {options.reports}: no such folder")
    files = find_report_files(options.reports or default_reports_folder(options.runs))
    if not files:
        return SiteReports()
    folders = choice.shown()

    @functools.lru_cache(maxsize=REPORT_RUNS_KEPT)
    def load(run_id: str):
        return read_run(folders[run_id], now=settings.now)

    rows = [json.loads(entry.row_json) for entry in entries]
    return build_reports(files, ReportRuns(rows, load), renderer, settings)


def media_left_out(manifest: Manifest) -> tuple[int, int, int]:
    """(items, bytes, runs) the media budget left out of the site, over every run it shows."""
    with_media = compress(manifest.runs.values(), map(attrgetter("media"), manifest.runs.values()))
    counts = [entry.media["left_out"] for entry in with_media if entry.media.get("left_out")]
    return sum(items for items, _ in counts), sum(size for _, size in counts), sum(items > 0 for items, _ in counts)


def check_output_folder(out: str) -> None:
    """Refuse to replace a non-empty folder that this command did not build."""
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, SITE_MARKER)):
        raise OutputFolderError(out)


def render_shown_runs(choice: RunChoice, previous: Manifest | None, in_site: tuple[set[str], set[str], set[str]],
                      settings: PageSettings, staging: str, progress=None,
                      media_budget: int = run_media_budget_bytes(0)
                      ) -> tuple[dict[str, RunEntry], dict[str, RunOutcome], int]:
    """Render into ``staging`` what the site must show anew, and keep the rest of ``previous``.

    Returns the entries kept, by run id, the outcome of each run id shown from a folder rendered
    now, and how many processes rendered. Folders whose id is unknown (new or changed) are read,
    and so is the folder a known id is shown from when its page is not the one the site has (the
    run was running, or its page was made from a copy that has gone or now loses, or its files
    were deleted by hand). What is read can make another folder the one shown, so this repeats
    until nothing is left to render. Unreadable folders end up in ``choice.unreadable``. A kept
    run whose media would change under ``media_budget`` (each run's share) is rendered again.
    ``in_site``: the site's run folders and data files by name (site_update.run_files_in_site).
    """
    rendered: dict[str, RunOutcome] = {}
    entries, keys = previous.runs if previous else {}, choice.found.keys
    shown_from = choice.shown()
    judged = dict(shown_from)  # run id -> the folder it was judged from: a later pass judges only changes
    kept = _kept_pages(entries, shown_from, keys, in_site, media_budget)
    jobs = choice.unknown() + list(compress(shown_from.values(), map(not_, map(kept.__contains__, shown_from))))
    read_ids: set[str] = set()  # the ids whose folders were read: kept entries of those are checked at the end
    most_workers = 1
    while jobs:
        outcomes, workers = render_runs([(folder, choice.found.keys[folder]) for folder in jobs], settings,
                                        staging, progress, media_budget)
        most_workers = max(most_workers, workers)
        moved = set()
        for outcome in outcomes:
            rendered[outcome.folder] = outcome
            moved |= {choice.ids[outcome.folder], outcome.head["id"] if outcome.error is None else None} - {None}
            choice.learn(outcome.folder, outcome.head["id"] if outcome.error is None else None,
                         outcome.error and relative_to_runs_folder(outcome.error, outcome.folder))
        read_ids |= moved
        jobs = [folder for folder in choice.unknown() if folder not in rendered]
        shown_from = choice.shown()
        fresh = {run_id: shown_from[run_id] for run_id in sorted(moved)
                 if run_id in shown_from and judged.get(run_id) != shown_from[run_id]}
        judged.update(fresh)
        for run_id in fresh:
            kept.pop(run_id, None)
        fresh = {run_id: folder for run_id, folder in fresh.items() if folder not in rendered}
        kept |= _kept_pages(entries, fresh, keys, in_site, media_budget)
        jobs += [folder for run_id, folder in fresh.items() if run_id not in kept]
    for run_id in read_ids - shown_from.keys():  # no folder holds it now
        kept.pop(run_id, None)
    shown = {run_id: outcome for folder, outcome in rendered.items()
             if shown_from.get(run_id := choice.ids.get(folder)) == folder}
    _render_again_where_copies_wrote(shown, rendered, choice, settings, staging, media_budget)
    return kept, shown, most_workers


def _render_again_where_copies_wrote(shown: dict[str, RunOutcome], rendered: dict[str, RunOutcome],
                                     choice: RunChoice, settings: PageSettings, staging: str,
                                     media_budget: int) -> None:
    """Copies of a run rendered in this build wrote the same staged files (one slug) as the folder
    shown, maybe at the same time from two workers: remove all of them and render the shown one again."""
    readings = Counter(outcome.head["id"] for outcome in rendered.values() if outcome.error is None)
    clashes = {run_id for run_id in shown if readings[run_id] > 1}
    if not clashes:
        return
    for outcome in rendered.values():
        if outcome.error is None and outcome.head["id"] in clashes:  # not media files: other runs may share them
            remove_files(staging, [relative for relative in outcome.files if relative not in outcome.media.get("files", [])])
    outcomes, _ = render_runs([(shown[run_id].folder, shown[run_id].key) for run_id in sorted(clashes)],
                              settings, staging, None, media_budget)
    for outcome in outcomes:
        if outcome.error is None:
            shown[outcome.head["id"]] = outcome
        else:  # changed between the two reads: it is read again by the next build
            shown.pop(choice.ids[outcome.folder])
            choice.learn(outcome.folder, None, relative_to_runs_folder(outcome.error, outcome.folder))


def _kept_pages(entries: dict[str, RunEntry], shown_from: dict[str, str], keys: dict[str, str],
                in_site: tuple[set[str], set[str], set[str]], media_budget: int) -> dict[str, RunEntry]:
    """The ``entries`` (by run id) whose page in the site is the one their folder (``shown_from``,
    of ``keys``) would make now: the same files, not running, its folder and data file still in
    the site (``in_site``: see site_update.run_files_in_site; files deleted by hand are made
    again), the same media under ``media_budget``. Judged in C over every id of a rebuild, then
    the few that fail a test by name: a Python step an id was a tenth of judging 100,000 runs."""
    folders, data_slugs = in_site[:2]
    known = list(map(entries.__contains__, shown_from))
    ids = list(compress(shown_from, known))
    chosen = list(map(entries.__getitem__, ids))
    same = list(map(eq, map(attrgetter("key"), chosen), map(keys.__getitem__, compress(shown_from.values(), known))))
    ids, chosen = list(compress(ids, same)), list(compress(chosen, same))
    heads = list(map(attrgetter("head"), chosen))
    slugs = list(map(itemgetter("slug"), heads))
    gone = set(slugs)
    gone = (gone - folders) | (gone - data_slugs)
    failing = set(compress(ids, map("running".__eq__, map(itemgetter("status"), heads))))
    if gone:
        failing.update(compress(ids, map(gone.__contains__, slugs)))
    failing.update(run_id for run_id, entry in compress(zip(ids, chosen), map(attrgetter("media"), chosen))
                   if not entry.media_still_fits(media_budget))
    kept = dict(zip(ids, chosen))
    for run_id in failing:
        del kept[run_id]
    return kept


def _entry(outcome: RunOutcome) -> RunEntry:
    return RunEntry(outcome.key, outcome.head, outcome.findings, outcome.media, outcome.shared, outcome.commit,
                    outcome.row_json)


def site_pages(renderer: Renderer, settings: PageSettings, entries: list[RunEntry],
               errors: list[tuple[str, str]], reports: list[dict] = (), previous_data: str | None = None,
               kept: dict[str, RunEntry] | None = None) -> dict[str, str]:
    """The pages and files made from all runs at once: index, its data, compare, project, marker
    (the manifest is written apart: write_manifest). ``entries``: the manifest's, in site order
    (Manifest.in_site_order); ``reports``: the index's links to the report pages ({title, url});
    ``previous_data``: the last build's data/index.js (previous_index), updated with the rows of
    the entries not ``kept`` from that build rather than made from every row."""
    heads = list(map(attrgetter("head"), entries))
    projects = len(set(map(itemgetter("project"), heads)))
    overview = f"{len(heads)} runs in {projects} project{'s' if projects != 1 else ''}"
    texts = {}
    context = (index_context(settings.title, heads, errors) | settings.common("", "index.html", overview)
               | {"reports": list(reports)})
    texts["index.html"] = renderer.render("index.html", context, "the index page")
    texts |= index_data_files(entries, errors, previous_data, kept or {})
    context = compare_context(settings.title) | settings.common("", "compare.html",
                                                                f"Compare runs side by side: {overview}")
    texts["compare.html"] = renderer.render("compare.html", context, "the compare page")
    context = project_context(settings.title) | settings.common("", "project.html",
                                                                f"Which parameters move the score: {overview}")
    texts["project.html"] = renderer.render("project.html", context, "the project page")
    slugs = dict(zip(map(itemgetter("id"), heads), map(itemgetter("slug"), heads)))
    # msgspec's JSON of these strings is json.dumps's (ensure_ascii off) byte for byte, in a third of
    # its time: 0.06 s of a rebuild's critical path at 100,000 runs
    marker = {"generator": settings.generator, "theme": settings.theme.name, "runs": slugs}
    texts[SITE_MARKER] = script_safe(msgspec.json.encode(marker).decode()) + "\n"
    return texts


def previous_index(out: str, previous: Manifest) -> str | None:
    """The data/index.js the ``previous`` manifest's build wrote, when it is still the one in ``out``."""
    text = read_site_text(out, INDEX_DATA_FILE) if previous.index else None
    return text if text is not None and index_digest(text) == previous.index else None


def index_data_files(entries: list[RunEntry], errors: list[tuple[str, str]], previous_data: str | None,
                     kept: dict[str, RunEntry]) -> dict[str, str]:
    """data/index.js: ``previous_data`` with the rows of the entries not ``kept`` put in (at 100,000
    runs 0.3 s, where making it from every row takes 1.6 s), or from every row when there is none
    or it cannot be updated (index_update.updated_index_files); the same bytes either way."""
    if previous_data is not None and entries:
        ids = list(map(itemgetter("id"), map(attrgetter("head"), entries)))
        changed = compress(zip(ids, entries), map(not_, map(kept.__contains__, ids)))
        given = {run_id: entry.row_json for run_id, entry in changed}
        given[ids[0]] = entries[0].row_json
        files = updated_index_files(previous_data, ids, given, errors)
        if files is not None:
            return files
    return index_files([entry.row_json for entry in entries], errors)


def print_progress(done: int, total: int) -> None:
    """A one-line counter on a terminal (stderr)."""
    sys.stderr.write(f"\r  building run pages: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
