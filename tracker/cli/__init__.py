"""The ``tracker`` command: a thin layer over the library; each subcommand lives in its own module.

Usage errors print one line (``tracker: error: ...``) and exit with status 2; no tracebacks.
Warnings (a corrupt line skipped, a copy of a run) print one line too, ``tracker: warning: ...``,
not Python's UserWarning format with a source line; only while a command runs, so the library
used from a script keeps the standard warnings machinery.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from ..version import __version__
from ..errors import TrackerError

COMMANDS = ["demo", "ls", "show", "build", "serve", "diff"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Serverless ML experiment tracker: list, inspect, compare and publish runs.",
        epilog="Run 'tracker COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:  # a command whose module is missing is a broken install: ModuleNotFoundError
        importlib.import_module(f".{name}", __name__).add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    with warnings.catch_warnings():  # restores the standard showwarning when the command ends
        warnings.showwarning = show_warning
        try:
            return args.handler(args) or 0
        except (TrackerError, ValueError, OSError) as exc:
            print(f"tracker: error: {exc}", file=sys.stderr)
            return 2 if isinstance(exc, (ValueError, TrackerError)) else 1
        except KeyboardInterrupt:
            return 130


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the command line: one plain line (the library's messages begin
    with "tracker: " already)."""
    text = str(message).removeprefix("tracker: ")
    print(f"tracker: warning: {text}", file=file or sys.stderr, flush=True)


def add_runs_option(parser: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        parser.add_argument("--runs", action="append", metavar="DIR",
                            help="runs folder (default: $TRACKER_DIR or ./tracker-runs); repeat to merge folders")
    else:
        parser.add_argument("--runs", metavar="DIR", help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """--title and --theme, shared by the commands that build the site."""
    parser.add_argument("--title", default="Experiments", help="site title (default: Experiments)")
    parser.add_argument("--theme", metavar="NAME_OR_PATH",
                        help="built-in theme name, or a folder whose templates/ and static/ override the default")
