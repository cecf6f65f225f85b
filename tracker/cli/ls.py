"""``tracker ls``: a table of runs, filtered and sorted with the shared filter language."""
from __future__ import annotations

import argparse
import json
import sys

from .. import query
from ..listing import list_runs
from ..reader import copy_message
from ..values import replace_non_finite
from . import add_runs_option
from ..formatting import (DEFAULT_METRIC_COLUMNS, DEFAULT_PARAM_COLUMNS, flatten, format_duration, format_time,
                          format_value, run_fields, table)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "ls", help="list runs as a table",
        description="List runs as a table: id, name, project, status, start, duration, params and metrics.",
        epilog="examples:\n  tracker ls --filter 'lr>=0.01 status=finished' --sort=-acc\n"
               "  tracker ls --project mnist --columns lr,batch,acc --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser, several=True)
    parser.add_argument("--project", help="only runs of this project")
    parser.add_argument("--filter", default="", metavar="EXPR",
                        help="filter expression, e.g. 'lr>=0.01 status=failed tag=baseline' (see docs/query.md)")
    parser.add_argument("--sort", metavar="KEY", help="sort by a field, param or metric; '-KEY' for descending")
    parser.add_argument("--columns", metavar="A,B", help="params and metrics to show (default: those that vary)")
    parser.add_argument("--json", action="store_true", help="print JSON lines, one run per line")
    parser.set_defaults(handler=run_ls)


def run_ls(args) -> int:
    selected = query.parse(args.filter)  # parse first: a bad filter fails before any reading
    listing = list_runs(*(args.runs or []))
    rows = [fields for fields in listing.rows if args.project is None or fields["project"] == args.project]
    rows = [fields for fields in rows if selected.matches(fields)]
    if args.sort:
        rows.sort(key=query.sort_key(args.sort))
    for path, message in listing.errors:
        print(f"tracker: warning: skipped unreadable run {path}: {message}", file=sys.stderr)
    for run_id, kept, skipped in listing.copies:
        print(f"tracker: warning: {copy_message(run_id, kept, skipped)}", file=sys.stderr)
    if args.json:
        for fields in rows:
            print(json.dumps(replace_non_finite(fields)))
        return 0
    if not rows:
        print("no runs" + (" match the filter" if args.filter else f" in {', '.join(args.runs or ['the runs folder'])}"))
        return 0
    params, metrics = _columns(args.columns, rows)
    headers = ["id", "name", "project", "status", "start", "duration", *params, *metrics]
    body = []
    for fields in rows:
        config, summary = flatten(fields["config"]), fields["summary"]
        body.append([fields["id"], fields["name"], fields["project"], fields["status"], format_time(fields["created"]),
                     format_duration(fields["duration_s"]),
                     *(format_value(config.get(name)) for name in params),
                     *(format_value(summary.get(name)) for name in metrics)])
    print(table(headers, body))
    return 0


def _columns(chosen: str | None, rows: list[dict]) -> tuple[list[str], list[str]]:
    if chosen:
        names = [name.strip() for name in chosen.split(",") if name.strip()]
        configs = [flatten(fields["config"]) for fields in rows]
        params = [name for name in names if any(name in config for config in configs)]
        return params, [name for name in names if name not in params]
    fields = run_fields(rows)  # the same rule as the site index's default columns
    return fields.varying[:DEFAULT_PARAM_COLUMNS], fields.metrics[:DEFAULT_METRIC_COLUMNS]
