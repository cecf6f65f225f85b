"""The ``tracker`` command: a thin layer over the library; each subcommand lives in its own module.

Usage errors print one line (``tracker: error: ...``) and exit with status 2; no tracebacks.
So do ``tracker build`` and ``tracker serve`` in a light install (no ``[site]`` extra), naming
the command that installs what they need; the other commands never import the site.
Warnings (a corrupt line skipped, a copy of a run) print one line too, ``tracker: warning: ...``,
not Python's UserWarning format with a source line; only while a command runs, so the library
used from a script keeps the standard warnings machinery.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import warnings
from typing import NoReturn

from ..version import DISTRIBUTION, __version__
from ..errors import TrackerError

COMMANDS = ["demo", "ls", "show", "build", "serve", "diff", "reproduce", "import", "watch", "report", "sync"]
COMMAND_MODULES = {"import": "import_runs"}  # a command whose name is a Python keyword
# The commands that only read runs: a --runs URL (s3://bucket/prefix) is synced into a local cache
# and its runs folder read instead (tracker/store_cache.py); the live ones keep polling the store.
# Not reproduce nor report: they write beside the runs (a rerun, a report draft), and the cache is
# no place for what a person keeps.
STORE_READING_COMMANDS = {"ls", "show", "diff", "build", "serve", "watch"}
FOLDER_ONLY_COMMANDS = {"report", "reproduce"}
LIVE_COMMANDS = {"serve", "watch"}

# The modules of pyproject.toml's [site] extra that each site command imports.
BUILD_MODULES = ("jinja2", "plotly", "markdown", "nh3")
SERVE_MODULES = (*BUILD_MODULES, "watchfiles")


class SitePackagesMissing(TrackerError):
    """``tracker build``/``serve`` in a light install: the site's packages are not installed."""

    def __init__(self, command: str, missing: list[str]):
        self.command = command
        self.missing = missing
        super().__init__(f"tracker {command} needs the site's packages ({', '.join(missing)} not "
                         f"installed): {site_install_command()}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with `command` (one of COMMANDS) only that command's module is
    imported and its subparser added, since a command's module imports what it runs (the listing,
    the capture, the reproduction modules: about 50 ms for `tracker build`); without it, all of
    them, for the top-level help and for a name that is no command (argparse lists the choices)."""
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Serverless ML experiment tracker: list, inspect, compare and publish runs.",
        epilog="Run 'tracker COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # A command whose module is missing is a broken install: ModuleNotFoundError.
    for name in [command] if command in COMMANDS else COMMANDS:
        importlib.import_module(f".{COMMAND_MODULES.get(name, name)}", __name__).add_parser(commands)
    return parser


def command_named(argv: list[str]) -> str | None:
    """The command that argv runs when it comes first, as it does but for the top level's own
    options (--help, --version: then None, and every command's module is loaded as before)."""
    return argv[0] if argv and not argv[0].startswith("-") else None


def main(argv: list[str] | None = None) -> int:
    """Run the command of ``argv``; without it, of the process's own command line (as the
    ``tracker`` script and ``python -m tracker.cli`` call it), which a command may then end
    itself once its output is out (args.ends_process, end_process)."""
    ends_process = argv is None
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_named(argv))
    args = parser.parse_args(argv)
    args.ends_process = ends_process
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    with warnings.catch_warnings():  # restores the standard showwarning when the command ends
        warnings.showwarning = show_warning
        try:
            read_stores_through_cache(args)
            return args.handler(args) or 0
        except (TrackerError, ValueError, OSError) as exc:
            print(f"tracker: error: {exc}", file=sys.stderr)
            return 2 if isinstance(exc, (ValueError, TrackerError)) else 1
        except KeyboardInterrupt:
            return 130


def end_process(code: int) -> NoReturn:
    """End the process with ``code`` as soon as stdout and stderr are flushed, leaving its objects
    to the operating system: freeing 100,000 listed runs' dicts one by one takes tracker ls 0.3 s.
    Only for a command whose args.ends_process says the process is its own; a flush that fails
    (a closed pipe) raises as the print before it would have."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the command line: one plain line (the library's messages begin
    with "tracker: " already)."""
    text = str(message).removeprefix("tracker: ")
    print(f"tracker: warning: {text}", file=file or sys.stderr, flush=True)


def read_stores_through_cache(args) -> None:
    """--runs s3://bucket/prefix (any fsspec URL; or $TRACKER_DIR without --runs): the store synced
    now into its local cache (``--cache DIR``/store/, else ~/.cache/tracker/store/), whose runs
    folder the command reads in its place; ``serve`` and ``watch`` sync it again every
    STORE_POLL_INTERVAL_S, and their watch of that folder sees what the writers uploaded. A
    process that owns itself syncs in forked children, running the command's ``warm_up``
    (its imports) meanwhile; a command that ``takes_runs_later`` (build) is handed the syncs
    (args.store_syncs) and waits for them when it is ready for its runs."""
    locations = runs_locations(args)
    store = next((location for location in locations if "://" in str(location)), None)
    if store is None or args.command not in STORE_READING_COMMANDS | FOLDER_ONLY_COMMANDS:
        return  # a folder; or a command that writes runs (demo, import), for which a store is the client's
    if args.command in FOLDER_ONLY_COMMANDS:
        from ..store_urls import without_credentials

        raise ValueError(f"--runs {without_credentials(store)}: tracker {args.command} writes beside the runs "
                         "it reads, so it takes a runs folder, not a store")
    from ..store_cache import STORE_POLL_INTERVAL_S, StoreSyncs, synced_locations  # fsspec: once a store is opened

    def say(line: str) -> None:
        print(f"tracker: {line}", file=sys.stderr, flush=True)

    if getattr(args, "takes_runs_later", False) and args.ends_process:
        # the command takes its runs once it is ready for them (tracker build: after reading the last build)
        args.store_syncs, args.say_sync = StoreSyncs(locations, getattr(args, "cache", None), forks=True), say
        return
    resolved = synced_locations(locations, cache_dir=getattr(args, "cache", None),
                                poll_interval_s=STORE_POLL_INTERVAL_S if args.command in LIVE_COMMANDS else None,
                                say=say, forks=args.ends_process, meanwhile=_warm_up(args))
    args.runs = resolved  # each of these commands takes --runs repeated: a list


def runs_locations(args) -> list:
    """The runs locations a command was given: its --runs, else $TRACKER_DIR (None: the default folder)."""
    runs = getattr(args, "runs", None) or None
    return runs if isinstance(runs, list) else [runs or os.environ.get("TRACKER_DIR")]


def _warm_up(args):
    """The command's warm_up(args), as a call of nothing (what runs while stores sync), or None."""
    warm_up = getattr(args, "warm_up", None)
    return None if warm_up is None else lambda: warm_up(args)


def add_runs_option(parser: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        parser.add_argument("--runs", action="append", metavar="DIR_OR_URL",
                            help="runs folder (default: $TRACKER_DIR or ./tracker-runs), or a store: "
                                 "s3://bucket/prefix, any fsspec URL (docs/storage.md); repeat to merge them")
    else:
        parser.add_argument("--runs", metavar="DIR", help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """--title and --theme, shared by the commands that build the site."""
    parser.add_argument("--title", default="Experiments", help="site title (default: Experiments)")
    parser.add_argument("--theme", metavar="NAME_OR_PATH",
                        help="built-in theme name, or a folder whose templates/ and static/ override the default")


def require_site_packages(command: str, modules: tuple[str, ...]) -> None:
    """Raise SitePackagesMissing before a site command starts, rather than part-way through it
    (plotly and markdown are imported only when first used)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise SitePackagesMissing(command, missing)


def site_install_command() -> str:
    """The pip command that adds the [site] extra to this install: from the folder it was
    installed from (PEP 610's direct_url.json), which works before and after publishing, else
    from the package index by the distribution's name."""
    # Imported here: only a site command in a light install needs them, not every command's start.
    import importlib.metadata
    import json
    import shlex
    from urllib.parse import unquote, urlparse

    # An in-tree build leaves a NAME.egg-info without direct_url.json, found first from the checkout.
    recorded = (dist.read_text("direct_url.json") for dist in importlib.metadata.distributions(name=DISTRIBUTION))
    try:
        origin = json.loads(next(filter(None, recorded), "{}"))
    except ValueError:
        origin = {}
    url = urlparse(origin.get("url", ""))
    if url.scheme == "file" and "dir_info" in origin:
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f"pip install {editable}{shlex.quote(unquote(url.path) + '[site]')}"
    return f"pip install {shlex.quote(DISTRIBUTION + '[site]')}"
