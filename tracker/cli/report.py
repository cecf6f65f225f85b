"""``tracker report new``: draft a report of a sweep or group as Markdown, for the site (docs/reports.md)."""
from __future__ import annotations

import argparse
import os
import warnings

from .. import query
from ..atomic_file import replace_file
from ..errors import RunFormatError, TrackerError
from ..listing import list_runs
from ..reader import copy_message, load_run
from ..report_draft import FAILED_STATUSES, choose_metric, default_report_path, draft_report, failure_line
from . import add_runs_option


class ReportExistsError(TrackerError):
    """``tracker report new`` would overwrite a report (a file someone edits) without --force."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"{path} exists; it may hold your edits: choose another --out, or pass --force to replace it")


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "report", help="draft a report of a sweep or group (Markdown the site renders with live views)",
        description="Reports are Markdown files in reports/ beside the runs folder; 'tracker build' makes "
                    "each a page of the site, its fenced chart/runs/compare/media/importance blocks filled "
                    "from the runs (see docs/reports.md).",
        epilog="examples:\n  tracker report new --filter 'group:sweep-42'\n"
               "  tracker report new --filter 'project:demo-moons' --metric valid/acc --out reports/moons.md\n"
               "  tracker build --runs tracker-runs   # the report becomes reports/<name>.html in the site",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser(
        "new", help="write an automatic report of the runs a filter selects",
        description="Write a Markdown report of the runs FILTER selects: what was varied, the best runs, "
                    "parameter importance, the curves of the best and the worst run, the failures and why. "
                    "Edit and commit it: its blocks are filled again with the runs of the day at each build.",
        epilog="example:\n  tracker report new --filter 'group:sweep-42' --metric valid/acc --out reports/sweep-42.md",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(new)
    new.add_argument("--filter", required=True, metavar="EXPR",
                     help="the runs of the report, in the filter language of tracker ls (docs/query.md)")
    new.add_argument("--metric", metavar="NAME",
                     help="the metric that ranks the runs (default: a validation metric, val/valid/eval/test in "
                          "its name, the one most runs have)")
    new.add_argument("--out", metavar="FILE",
                     help="the Markdown file to write (default: reports/<filter>.md beside the runs folder)")
    new.add_argument("--force", action="store_true", help="replace --out when it exists")
    new.set_defaults(handler=run_report_new)


def run_report_new(args) -> int:
    selected = query.parse(args.filter)  # a bad filter stops here, before any run is read
    listing = list_runs(args.runs)
    for path, message in listing.errors:
        warnings.warn(f"tracker: skipped unreadable run {path}: {message}")
    for run_id, kept, skipped in listing.copies:
        warnings.warn(f"tracker: {copy_message(run_id, kept, skipped)}")
    rows = [row for row in listing.rows if selected.matches(row)]
    if not rows:
        raise TrackerError(f"--filter {args.filter!r} selects no run of the {len(listing.rows)} in "
                           f"{args.runs or 'the runs folder'}; try it with: tracker ls --filter {args.filter!r}")
    metric = args.metric or choose_metric(rows)
    if args.metric and not any(args.metric in (row.get("summary") or {}) for row in rows):
        known = sorted({name for row in rows for name in (row.get("summary") or {})})
        raise TrackerError(f"--metric {args.metric!r}: no run the filter selects has it; they have: "
                           + (", ".join(known) or "no metric"))
    failures = {row["id"]: _failure(row) for row in rows if row["status"] in FAILED_STATUSES}
    out = args.out or default_report_path(args.runs, args.filter)
    if os.path.exists(out) and not args.force:
        raise ReportExistsError(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    replace_file(out, draft_report(rows, listing.rows, args.filter, metric, failures))
    print(f"wrote {out}: {len(rows)} run{'s' * (len(rows) != 1)}" + (f", ranked by {metric}" if metric else ""))
    print(f"edit it, then: tracker build{' --runs ' + args.runs if args.runs else ''}")
    return 0


def _failure(row: dict) -> str:
    """The failed run's error, by its last line; what can be said when its folder cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the listing has warned about this run's problems already
            run = load_run(row["path"])
    except (RunFormatError, OSError) as exc:
        return f"(its records could not be read: {exc})"
    return failure_line(run.error, run.status)
