"""``tracker build``: publish runs as a static HTML site (see docs/site.md)."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from functools import partial

from ..layout import runs_root
from ..run_keys import candidate_names
from ..store_urls import is_store_url
from ..store_generations import note_built, store_caches_built
from . import BUILD_MODULES, add_runs_option, add_site_options, end_process, require_site_packages


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "build", help="build a static HTML site of the runs",
        description="Build a static site (index of runs, one page per run) that opens from disk, "
                    "a CI artifact or GitHub Pages, with no network.",
        epilog="examples:\n  tracker build --runs tracker-runs --out site && open site/index.html\n"
               "  tracker build --runs ci-a/tracker-runs --runs ci-b/tracker-runs --title 'Nightly' --strict\n"
               "  tracker build --runs tracker-runs --out site --full   # ignore what the last build left\n"
               "  tracker build --runs tracker-runs --reports reports --strict   # fail on a broken report block\n"
               "  tracker build --runs tracker-runs --out s3://team-site/experiments --cache .site-cache",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser, several=True)
    parser.add_argument("--out", default="site", metavar="DIR_OR_URL",
                        help="output folder (default: ./site), or a bucket to publish to: s3://bucket/site, "
                             "gs://, az://, any fsspec URL (uploads only changed files; docs/site.md)")
    parser.add_argument("--cache", metavar="DIR",
                        help="a folder a CI job can restore between builds: with --out URL the site is built in "
                             "DIR/site before it is uploaded, so the next build re-renders only changed runs "
                             "(default: a temporary folder); with --runs URL the store's runs are cached in "
                             "DIR/store, so the next build downloads only changed objects (default: "
                             "~/.cache/tracker/store)")
    add_site_options(parser)
    parser.add_argument("--base-url", metavar="URL",
                        help="where the site will be served, e.g. https://team.github.io/experiments/ "
                             "(only for canonical links; every link in the site is relative)")
    parser.add_argument("--strict", action="store_true",
                        help="fail, publishing nothing, on an unreadable run, a token-shaped string or a "
                             "report block that cannot be filled")
    parser.add_argument("--reports", metavar="DIR",
                        help="folder of report Markdown files, each a page of the site (default: reports/ "
                             "beside the runs folder, when it exists; see docs/reports.md)")
    parser.add_argument("--full", action="store_true",
                        help="re-render every page; by default a rebuild of a site 'tracker build' made "
                             "re-renders only the runs whose files changed")
    parser.add_argument("--media-budget-mb", type=_megabytes, default=500.0, metavar="MB",
                        help="all runs' media files in the site together, in MB of 10^6 bytes (default: 500; "
                             "each run gets min(--run-media-budget-mb, this / runs))")
    parser.add_argument("--run-media-budget-mb", type=_megabytes, default=5.0, metavar="MB",
                        help="one run's media files in the site at most (default: 5); past its share, the "
                             "last step of each key is kept first, then the newest steps, and the page "
                             "says what was left out")
    parser.set_defaults(handler=run_build, takes_runs_later=True)


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of megabytes, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of megabytes of 0 or more, got {text!r}")
    return value


def run_build(args) -> int:
    require_site_packages("build", BUILD_MODULES)
    # Imported here: the other commands run without the site (and its packages) in a light install.
    from sitegen.build import BuildOptions, build, print_progress

    options = BuildOptions(runs=args.runs, out=args.out, title=args.title, theme=args.theme,
                           base_url=args.base_url, strict=args.strict, full=args.full,
                           media_budget_mb=args.media_budget_mb, run_media_budget_mb=args.run_media_budget_mb,
                           reports=args.reports)
    progress = print_progress if sys.stderr.isatty() else None
    syncs = getattr(args, "store_syncs", None)  # stores syncing in forked children (cli.read_stores_through_cache)
    if syncs is not None and is_store_url(args.out):
        options.runs = syncs.finish(args.say_sync)
    if is_store_url(args.out):
        return publish_to_bucket(options, args.cache, progress)
    built = {}  # each store cache's generation this build saw, noted once it is built (store_generations.py)
    if syncs is not None:
        options.runs_ready = partial(_runs_synced, syncs, args.say_sync, options.out, built)
    made = [] if args.ends_process else None  # the build's manifests and discovery, left to the process's end
    if made is not None:  # and no cycle collection as the build returns: its first pass walked every object
        gc.disable()      # the build made while it kept the collector paused (0.15 s at 100,000 runs)
    try:
        report = build(options, progress=progress, keep=made, forks=args.ends_process)
    finally:
        if syncs is not None:
            syncs.end()
    for runs_folder, generation in built.items():
        note_built(runs_folder, options.out, generation, stamps_identity(options.out))
    for line in report_warnings(report):
        print(line, file=sys.stderr)
    print(report_line(report))
    print(f"open {report.index_path}")
    if made is not None:  # the site is written and closed: end here rather than free what the build made
        end_process(0)
    return 0


def _runs_synced(syncs, say, out: str, built: dict) -> tuple[list[str], dict[str, set[str]], dict[str, list]]:
    """BuildOptions.runs_ready of a build from stores: the runs folders once synced; for each
    store's cache, the folders its syncs touched since the last build of ``out`` noted its
    generation; and its runs folder's names, listed while it synced (run_keys.names_since)."""
    listed = {folder: candidate_names(folder) for folder in map(runs_root, syncs.runs_folders())}
    runs = syncs.finish(say)
    generations, unchanged_except = store_caches_built(runs, out, stamps_identity(out))
    built.update(generations)
    return runs, unchanged_except, {folder: names for folder, names in listed.items() if folder in unchanged_except}


def stamps_identity(site: str) -> list | None:
    """What tells the site's stamps file from another: its inode, size and modification time."""
    from sitegen.folder_stamps import STAMPS_FILE

    try:
        status = os.stat(os.path.join(site, STAMPS_FILE))
    except OSError:
        return None
    return [status.st_ino, status.st_size, status.st_mtime_ns]


def publish_to_bucket(options, cache: str | None, progress) -> int:
    """``--out URL``: build locally, then upload what changed (sitegen/publish.py)."""
    from sitegen.publish import build_and_publish, publish_line  # fsspec itself: only once a bucket is opened

    report, published = build_and_publish(options, cache, progress=progress)
    for line in report_warnings(report):
        print(line, file=sys.stderr)
    print(report_line(report))
    print(publish_line(published))
    return 0


def report_warnings(report) -> list[str]:
    return ([f"tracker: warning: {finding}" for finding in report.findings]
            + [f"tracker: warning: {copy}" for copy in report.copies]
            + [f"tracker: warning: skipped unreadable run {path}: {reason}" for path, reason in report.skipped]
            + [f"tracker: warning: {problem}" for problem in report.report_problems])


def report_line(report) -> str:
    """One line: e.g. 'built 8 runs (1 re-rendered, 7 unchanged); 2 pages, 5 files in 0.1s'."""
    unchanged = report.runs_built - report.runs_rendered
    return (f"built {report.runs_built} run{'s' * (report.runs_built != 1)}"
            + (f" ({report.runs_rendered} re-rendered, {unchanged} unchanged)" if report.incremental else "")
            + (f", skipped {len(report.skipped)} unreadable" if report.skipped else "")
            + (f", redacted {len(report.findings)} token-shaped string(s)" if report.findings else "")
            + media_left_out_text(report)
            + (f", {report.reports} report{'s' * (report.reports != 1)}" if report.reports else "")
            + (f" ({len(report.report_problems)} block(s) could not be filled)" if report.report_problems else "")
            + f"; {report.pages} pages, {report.files} files in {report.seconds:.1f}s")


def media_left_out_text(report) -> str:
    """', left out 12 media items (3.4 MB) of 2 runs over the site's media budget (5 MB a run)', or ''."""
    items, size, runs = report.media_left_out
    if not items:
        return ""
    return (f", left out {items} media item{'s' * (items != 1)} ({size / 1e6:.1f} MB) of {runs} run{'s' * (runs != 1)}"
            f" over the site's media budget ({report.media_budget_bytes / 1e6:g} MB a run)")
