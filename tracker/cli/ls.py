"""``tracker ls``: a table of runs, filtered and sorted with the shared filter language."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from operator import itemgetter, methodcaller

from .. import query
from ..cyclic_gc import cyclic_gc_paused
from ..grouping import DATASET_PREFIXES, group_rows, metric_aggregates
from ..listing import list_runs
from ..listing_cache import read_ahead
from ..store_urls import is_store_url
from ..reader import copy_message, load_run
from ..run_keys import candidate_names
from ..layout import runs_root
from ..store_generations import note_listed, store_caches_listed
from ..ls_table_cache import (ColumnBasis, basis_holds, changes, column_basis, full_table, read_table,
                              spliced, table_shape, write_table)
from ..values import replace_non_finite
from . import add_runs_option, end_process, runs_locations
from ..formatting import (DEFAULT_METRIC_COLUMNS, DEFAULT_PARAM_COLUMNS, config_columns, format_column,
                          format_durations, format_time, format_value, run_fields, table)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "ls", help="list runs as a table",
        description="List runs as a table: id, name, project, status, start, duration, params and metrics.",
        epilog="examples:\n  tracker ls --filter 'lr>=0.01 status=finished' --sort=-acc\n"
               "  tracker ls --project mnist --columns lr,batch,acc --json\n"
               "  tracker ls --group-by optimizer --agg mean,std,min,max --columns loss,acc",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser, several=True)
    parser.add_argument("--project", help="only runs of this project")
    parser.add_argument("--filter", default="", metavar="EXPR",
                        help="filter expression, e.g. 'lr>=0.01 status=failed tag=baseline' (see docs/query.md)")
    parser.add_argument("--sort", metavar="KEY", help="sort by a field, param or metric; '-KEY' for descending")
    parser.add_argument("--columns", metavar="A,B", help="params and metrics to show (default: those that vary)")
    parser.add_argument("--json", action="store_true", help="print JSON lines, one run per line")
    parser.add_argument("--group-by", metavar="KEY[,KEY2]",
                        help="one row per group of runs with the same KEY (a config key, group, project, tag, "
                             "status, dataset.NAME; a second KEY nests), its metrics aggregated (see docs/site.md)")
    parser.add_argument("--agg", metavar="A,B",
                        help=f"with --group-by: aggregates per metric, of {', '.join(AGG_CHOICES)} (default: mean,std); "
                             "NaN and Infinity are skipped and counted")
    parser.set_defaults(handler=run_ls, warm_up=warm_up)


AGG_CHOICES = ("mean", "std", "min", "max", "count", "stderr")
_SUMMARY, _CREATED, _DURATION = itemgetter("summary"), itemgetter("created"), itemgetter("duration_s")


def warm_up(args) -> None:
    """While the stores of --runs sync in forked children (cli.read_stores_through_cache): their
    caches' listing caches decoded ahead, which a sync never writes (0.6 s at 100,000 runs), and
    their runs folders listed (run_keys.names_since tells what the sync changed in them)."""
    from ..store_cache import RUNS_FOLDER, cache_folder  # here: a listing of folders never loads it (30 ms)

    args.read_ahead, args.names_listed = {}, {}
    # The collector paused: decoding 100,000 rows' dicts with it running took 1.4 s of CPU, not 0.6 s,
    # on the cores the syncs and the store's server need meanwhile.
    with cyclic_gc_paused():
        for location in runs_locations(args):
            if is_store_url(location):
                runs_folder = runs_root(os.path.join(cache_folder(location, getattr(args, "cache", None)), RUNS_FOLDER))
                args.read_ahead[runs_folder] = read_ahead(runs_folder)
                args.names_listed[runs_folder] = candidate_names(runs_folder)


def run_ls(args) -> int:
    with cyclic_gc_paused():  # 100,000 rows' dicts, rescanned by every collection the table's lists would start
        return _run_ls(args)


def _run_ls(args) -> int:
    selected = query.parse(args.filter)  # parse first: a bad filter fails before any reading
    group_fields, aggs = _grouping_options(args)
    generations, unchanged_except = store_caches_listed(args.runs or [])
    listing = list_runs(*(args.runs or []), forks=True, unchanged_except=unchanged_except,
                        read_ahead=getattr(args, "read_ahead", None), names_listed=getattr(args, "names_listed", None))
    for runs_folder, generation in generations.items():
        if runs_folder in listing.cached_roots:  # else its cache may hold entries older than that generation
            note_listed(runs_folder, generation)
    rows = listing.rows
    if args.project is not None:
        rows = [fields for fields in rows if fields["project"] == args.project]
    if selected.terms:  # an empty filter matches every row, without a call a row
        rows = [fields for fields in rows if selected.matches(fields)]
    if args.sort:
        rows.sort(key=query.sort_key(args.sort))
    for path, message in listing.errors:
        print(f"tracker: warning: skipped unreadable run {path}: {message}", file=sys.stderr)
    for run_id, kept, skipped in listing.copies:
        print(f"tracker: warning: {copy_message(run_id, kept, skipped)}", file=sys.stderr)
    if group_fields:
        return _print_groups(rows, group_fields, aggs, args)
    if args.json:
        for fields in rows:
            print(json.dumps(replace_non_finite(fields)))
        return _done(args)
    if not rows:
        print("no runs" + (" match the filter" if args.filter else f" in {_where(args.runs)}"))
        return 0
    print(_table_text(args, listing, rows))
    return _done(args)


def _table_text(args, listing, rows: list[dict]) -> str:
    """The table of the rows: the last one printed of the same shape with the lines of the rows
    that changed made anew, when that gives the same table (ls_table_cache.py); else made whole.
    Its columns are chosen from every row's config and summary, or where only a few rows changed
    and the kept table's ColumnBasis still holds, from that."""
    roots = list(map(runs_root, args.runs or [None]))
    shape = table_shape(__file__, runs=roots, project=args.project, filter=args.filter, sort=args.sort,
                        columns=args.columns)  # this module's file: its _cells format the rows too
    last = read_table(roots[0], shape)
    found = None if last is None else changes(last, rows, listing.keys)
    if found is not None and last.basis is not None and basis_holds(last.basis, rows, found):
        configs, basis = None, last.basis
        params, metrics = _basis_columns(args.columns, basis)
    else:
        configs = config_columns([fields["config"] for fields in rows])
        params, metrics = _columns(args.columns, rows, configs)
        basis = column_basis(configs, rows)
    headers = ["id", "name", "project", "status", "start", "duration", *params, *metrics]
    table = None if found is None else spliced(
        last, found, headers, rows,
        lambda changed: _cells(changed, config_columns([fields["config"] for fields in changed]), params, metrics),
        basis)
    if table is None:
        if configs is None:
            configs = config_columns([fields["config"] for fields in rows])
        table = full_table(headers, _cells(rows, configs, params, metrics), rows, listing.keys, basis)
    if table is not last:
        write_table(roots[0], shape, table, last, found)
    return table.text


def _cells(rows: list[dict], configs: Mapping[str, list], params: list[str], metrics: list[str]) -> list[list[str]]:
    """The table's columns of cells for ``rows``: ``configs`` their config_columns, which may lack
    a param that none of them has (a few rows of a table, ls_table_cache.spliced)."""
    # Column by column, each field got by a map in C: 100,000 runs' worth of text in a fraction of a second.
    summaries = list(map(_SUMMARY, rows))
    missing = [None] * len(rows)
    return [*(list(map(itemgetter(name), rows)) for name in ("id", "name", "project", "status")),
            list(map(format_time, map(_CREATED, rows))),
            format_durations(list(map(_DURATION, rows))),
            *(format_column(configs[name] if name in configs else missing) for name in params),
            *(format_column(list(map(methodcaller("get", name), summaries))) for name in metrics)]


def _columns(chosen: str | None, rows: list[dict], configs: Mapping[str, list]) -> tuple[list[str], list[str]]:
    """(params, metrics) to show: those of --columns, else the first that vary and the first metrics.
    ``configs``: the rows' configs, flattened into columns (config_columns)."""
    if chosen:
        names = _chosen_names(chosen)
        params = [name for name in names if name in configs]
        return params, [name for name in names if name not in params]
    fields = run_fields(rows, configs)  # the same rule as the site index's default columns
    return fields.varying[:DEFAULT_PARAM_COLUMNS], fields.metrics[:DEFAULT_METRIC_COLUMNS]


def _basis_columns(chosen: str | None, basis: ColumnBasis) -> tuple[list[str], list[str]]:
    """_columns of rows whose configs and summaries have the keys of ``basis`` (ls_table_cache.py)."""
    if chosen:
        names, keys = _chosen_names(chosen), set(basis.config_keys)
        params = [name for name in names if name in keys]
        return params, [name for name in names if name not in params]
    return basis.varying[:DEFAULT_PARAM_COLUMNS], basis.summary_keys[:DEFAULT_METRIC_COLUMNS]


def _chosen_names(chosen: str) -> list[str]:
    return [name.strip() for name in chosen.split(",") if name.strip()]


def _where(runs: list[str] | None) -> str:
    """The runs folders listed, as named: a store's URL for the cache folder read in its place."""
    # Imported here: only a listing that found nothing asks, and the store's modules are not the
    # listing's to load (fsspec itself is loaded by a sync only).
    from ..store_cache import store_url

    return ", ".join(store_url(folder) or folder for folder in runs) if runs else "the runs folder"


def _grouping_options(args) -> tuple[list[str], list[str]]:
    """--group-by's fields and --agg's aggregates, checked before anything is read."""
    if not args.group_by:
        if args.agg:
            raise ValueError("--agg: aggregates are of groups; add --group-by KEY")
        return [], []
    fields = [name.strip() for name in args.group_by.split(",") if name.strip()]
    aggs = [name.strip() for name in (args.agg or "mean,std").split(",") if name.strip()]
    if not 1 <= len(fields) <= 2:
        raise ValueError(f"--group-by: give one or two keys, e.g. --group-by optimizer,lr (got {args.group_by!r})")
    unknown = [name for name in aggs if name not in AGG_CHOICES]
    if unknown or not aggs:
        raise ValueError(f"--agg: unknown aggregate {', '.join(map(repr, unknown)) or 'none'}; choose from {', '.join(AGG_CHOICES)}")
    return fields, aggs


def _print_groups(rows: list[dict], fields: list[str], aggs: list[str], args) -> int:
    """One line per group: its keys, its run count and the chosen aggregates of each metric; a
    '<metric> skipped' column where some group skipped NaN or Infinity values."""
    if any(name.startswith(DATASET_PREFIXES) for name in fields):
        rows = [dict(row, datasets=_datasets(row["path"])) for row in rows]  # the listing keeps no dataset hashes
    groups = group_rows(rows, fields)
    _, metrics = _columns(args.columns, rows, config_columns([row["config"] for row in rows]))
    metrics = [name for name in metrics if any(isinstance(row["summary"].get(name), (int, float)) for row in rows)]
    aggregates = [metric_aggregates(group.rows, metrics) for group in groups]
    if args.json:
        for group, found in zip(groups, aggregates):
            print(json.dumps(replace_non_finite({"key": dict(zip(fields, group.key)), "runs": len(group.rows),
                                                 "aggregates": found})))
        return _done(args)
    if not groups:
        print("no runs" + (" match the filter" if args.filter else f" in {_where(args.runs)}"))
        return 0
    columns = [(metric, name) for metric in metrics
               for name in aggs + (["skipped"] if any(found[metric]["skipped"] for found in aggregates) else [])]
    headers = [*fields, "runs", *(f"{metric} {name}" for metric, name in columns)]
    body = [[*group.key, str(len(group.rows)), *(_aggregate_text(found[metric][name]) for metric, name in columns)]
            for group, found in zip(groups, aggregates)]
    print(table(headers, body))
    return _done(args)


def _done(args) -> int:
    """0; or, when the process is this command's own (args.ends_process), the process ended with
    0 at once, from the frame that still holds the rows: freeing them is work for nothing."""
    if getattr(args, "ends_process", False):
        end_process(0)
    return 0


def _aggregate_text(value) -> str:
    return str(value) if isinstance(value, int) else format_value(value)


def _datasets(path: str) -> dict:
    run = load_run(path, max_points=1)
    return {str(item.get("name")): item.get("sha256") for item in run.datasets if isinstance(item, dict)}
