"""``tracker show RUN``: everything recorded about one run."""
from __future__ import annotations

import argparse
import dataclasses
import json

from ..listing import find_run
from ..values import replace_non_finite
from . import add_runs_option
from ..formatting import flatten, format_bytes, format_duration, format_time, format_value, table


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "show", help="show everything recorded about one run",
        description="Show everything recorded about one run, found by id, folder name, unique id prefix or name.",
        epilog="examples:\n  tracker show 20261123-094237-k3x9a2bq\n  tracker show baseline --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="run id, folder name, unique id prefix, or name")
    add_runs_option(parser, several=True)
    parser.add_argument("--json", action="store_true", help="print the whole run as JSON")
    parser.set_defaults(handler=run_show)


# The text view shows each metric's last, lowest and highest value and its count, which a series
# reduced while reading keeps exactly; so a run of any length is shown in bounded memory.
SHOWN_POINTS = 1000


def run_show(args) -> int:
    run = find_run(args.run, *(args.runs or []), max_points=None if args.json else SHOWN_POINTS)
    if args.json:
        print(json.dumps(replace_non_finite(run_as_dict(run)), indent=2, default=str))
        return 0
    print("\n".join(describe(run)))
    return 0


def run_as_dict(run) -> dict:
    data = dataclasses.asdict(run)
    data.update(summary=run.summary, duration_s=run.duration_s, user=run.user, host=run.host)
    return data


def describe(run) -> list[str]:
    lines = [f"{run.name}  [{run.status}]", f"  id        {run.id}", f"  project   {run.project}"]
    if run.group:
        lines.append(f"  group     {run.group}")
    lines += [f"  started   {format_time(run.created)}   duration {format_duration(run.duration_s)}",
              f"  by        {run.user or '?'}@{run.host or '?'}",
              f"  folder    {run.path}"]
    if run.imported_from:
        source = run.imported_from
        lines.append(f"  imported  from {source.get('source', '?')} run {source.get('id', '?')}"
                     + (f" ({source['path']})" if source.get("path") else ""))
    if run.code and run.code.get("command_line"):
        lines.append(f"  command   {run.code['command_line']}")
    if run.tags:
        lines.append(f"  tags      {', '.join(run.tags)}")
    if run.error:
        lines += ["", "Error:", *("  " + line for line in run.error.rstrip().splitlines())]
    if run.notes:
        lines += ["", "Notes:", *("  " + line for line in run.notes.splitlines())]
    lines += _section("Config", flatten(run.config))
    lines += _section("Summary", run.summary)
    if run.histories:
        rows = []
        for name, series in run.histories.items():
            numbers = [value for value in series.values if isinstance(value, (int, float)) and value == value]
            rows.append([name, str(series.count), format_value(series.values[-1] if series.values else None),
                         format_value(min(numbers) if numbers else None), format_value(max(numbers) if numbers else None)])
        lines += ["", "Metrics:", _indent(table(["metric", "points", "last", "min", "max"], rows))]
    if run.datasets:
        rows = [[d.get("name", ""), d.get("path", ""), format_bytes(d.get("size_bytes")),
                 str(d.get("rows", "-")), (d.get("sha256") or "")[:16]] for d in run.datasets]
        lines += ["", "Datasets:", _indent(table(["name", "path", "size", "rows", "sha256"], rows))]
    if run.artifacts:
        rows = [[a.get("name", ""), format_bytes(a.get("size_bytes")), a.get("path", "")] for a in run.artifacts]
        lines += ["", "Artifacts:", _indent(table(["name", "size", "stored at"], rows))]
    if run.git:
        git = {key: value for key, value in run.git.items() if key not in ("type", "time", "untracked_files")}
        lines += _section("Git", git)
    if run.environment:
        env = run.environment
        packages = env.get("packages") or {}
        shown = {key: value for key, value in env.items() if key not in ("type", "time", "packages")}
        shown["packages"] = f"{len(packages)} installed (tracker show --json lists them)"
        lines += _section("Environment", flatten(shown))
    if run.hardware:
        lines += _section("Hardware", flatten({k: v for k, v in run.hardware.items() if k not in ("type", "time")}))
    if run.warnings:
        lines += ["", "Warnings while reading:", *("  " + warning for warning in run.warnings)]
    return lines


def _section(title: str, mapping: dict) -> list[str]:
    if not mapping:
        return []
    width = min(32, max(len(str(key)) for key in mapping))
    return ["", f"{title}:", *(f"  {str(key).ljust(width)}  {format_value(value)}" for key, value in mapping.items())]


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
