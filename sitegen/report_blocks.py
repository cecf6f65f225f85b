"""Report blocks filled from the runs: each view block of a report -> the data its page shows.

Pure but for ``ReportRuns.load`` (which reads a run's folder, given by the build): a Block and
the site's runs in, a plain dict out (tables as display text for the template, charts as packed
series for report-blocks.js), or ReportBlockError naming the report file and the block's line.
Runs are chosen with the filter language of `tracker ls` and the index (tracker/query.py), and
their fields (name, config, summary) come from the index rows, so they are redacted as the index is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from tracker import query
from tracker.formatting import flatten, format_value, run_fields
from tracker.grouping import BANDS, NONE, band, band_bounds, group_rows
from tracker.importance import importance

from .report_source import Block, ReportBlockError
from .run_data import packed_values, steps_json

# The options each kind takes; the first tuple is required, the second optional.
BLOCK_OPTIONS = {
    "chart": (("metric",), ("filter", "runs", "group_by", "band", "title")),
    "runs": ((), ("filter", "columns", "sort", "limit", "title")),
    "compare": (("runs",), ("title",)),
    "media": (("run", "key"), ("step", "title")),
    "importance": (("metric",), ("filter", "title")),
}
DEFAULT_RUNS_LIMIT = 20
NAMED_CHOICES = 8  # names listed in an error that says what exists


@dataclass
class ReportRuns:
    """The runs a build shows: their index rows (as_filterable() plus url and slug), oldest first,
    and ``load(run id)`` -> the run read in full (its histories and media), which the caller caches."""

    rows: list
    load: Callable
    by_id: dict = field(init=False)

    def __post_init__(self):
        self.by_id = {row["id"]: row for row in self.rows}


def fill_block(block: Block, runs: ReportRuns, path: str) -> dict:
    """The data of ``block`` (of the report at ``path``), with "kind", "line" and "title"."""
    error = _BlockErrors(path, block.line)
    required, optional = BLOCK_OPTIONS[block.kind]
    unknown = sorted(set(block.options) - set(required) - set(optional))
    if unknown:
        error.stop(f"unknown option {', '.join(map(repr, unknown))} in a ```{block.kind} block; "
                   f"it takes: {', '.join(required + optional)}")
    missing = [name for name in required if block.options.get(name) in (None, "", [])]
    if missing:
        error.stop(f"the ```{block.kind} block needs {', '.join(map(repr, missing))}")
    filler = {"chart": _chart, "runs": _runs_table, "compare": _compare, "media": _media,
              "importance": _importance}[block.kind]
    data = filler(block.options, runs, error)
    title = block.options.get("title")
    return {"kind": block.kind, "line": block.line, "title": None if title is None else str(title)} | data


class _BlockErrors:
    def __init__(self, path: str, line: int):
        self.path, self.line = path, line

    def stop(self, problem: str):
        raise ReportBlockError(self.path, self.line, problem)


def _text_option(options: dict, name: str, error: _BlockErrors, default: str = "") -> str:
    value = options.get(name, default)
    if value is None:
        return default
    if isinstance(value, (list, dict)):
        error.stop(f"{name!r} must be text, got a list")
    return str(value)


def _list_option(options: dict, name: str, error: _BlockErrors) -> list[str]:
    value = options.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(item) for item in values]


def select_rows(runs: ReportRuns, options: dict, error: _BlockErrors) -> list[dict]:
    """The rows the block's ``filter`` (and ``runs``, when given: names or ids) select, oldest first."""
    text = _text_option(options, "filter", error)
    try:
        selected = query.parse(text)
    except query.QueryError as exc:
        error.stop(str(exc))
    rows = runs.rows
    named = _list_option(options, "runs", error)
    if named:
        chosen = {find_row(runs, name, error)["id"] for name in named}
        rows = [row for row in rows if row["id"] in chosen]
    rows = [row for row in rows if selected.matches(row)]
    if not rows:
        what = f"the filter {text!r}" if text else "the block"
        error.stop(f"{what} selects no run" + (f" among {', '.join(named)}" if named else f" of the {len(runs.rows)} in the site"))
    return rows


def find_row(runs: ReportRuns, name: str, error: _BlockErrors) -> dict:
    """The row of the run with id ``name``, or else the one run named ``name``."""
    if name in runs.by_id:
        return runs.by_id[name]
    named = [row for row in runs.rows if row.get("name") == name]
    if len(named) == 1:
        return named[0]
    if named:
        error.stop(f"{len(named)} runs are named {name!r} (ids {', '.join(row['id'] for row in named)}); "
                   "name one by its id")
    error.stop(f"unknown run {name!r}: no run has that name or id")


def run_name(row: dict) -> str:
    return row.get("name") or row["id"]


def run_link(row: dict) -> str:
    """The run's page from a report page (reports/<slug>.html)."""
    return f"../{row['url']}"


def _chart(options: dict, runs: ReportRuns, error: _BlockErrors) -> dict:
    metric = _text_option(options, "metric", error)
    group_by = _text_option(options, "group_by", error) or None
    band_kind = _text_option(options, "band", error, "std")
    if band_kind not in BANDS:
        error.stop(f"unknown band {band_kind!r}; choose one of {', '.join(BANDS)}")
    rows = select_rows(runs, options, error)
    traces, drawn, without = [], [], []
    for row in rows:
        history = runs.load(row["id"]).histories.get(metric)
        if history is None or not len(history):
            without.append(run_name(row))
            continue
        values, bits = packed_values(history.values)
        traces.append({"name": run_name(row), "id": row["id"], "url": run_link(row), "group": None,
                       "points": len(history), "series": {"values": values, "valueBits": bits} | _steps(history.steps)})
        drawn.append((row, history))
    if not traces:
        logged = sorted({name for row in rows for name in runs.load(row["id"]).histories})
        error.stop(f"unknown metric {metric!r}: none of the {len(rows)} runs the block selects logged it"
                   + (f"; they logged: {_some(logged)}" if logged else ""))
    groups = _groups(drawn, traces, group_by, band_kind, error) if group_by else []
    return {"metric": metric, "groupBy": group_by, "band": band_kind if group_by else None, "traces": traces,
            "groups": groups, "without": without}


def _groups(drawn: list, traces: list, group_by: str, band_kind: str, error: _BlockErrors) -> list[dict]:
    """Per group of the drawn runs (tracker/grouping.py's keys and order), its mean line and band by
    step: each run interpolated onto the union of the group's steps within its own range."""
    groups = group_rows([row for row, _ in drawn], [group_by])
    if len(groups) == 1 and groups[0].key[0] == NONE:
        error.stop(f"group_by {group_by!r} is no field of the runs the block selects (a config key, "
                   "a summary metric or a run field such as group or status)")
    histories = {row["id"]: history for row, history in drawn}
    by_id = {trace["id"]: trace for trace in traces}
    found = []
    for group in groups:
        ids = [row["id"] for row in group.rows]
        for run_id in ids:
            by_id[run_id]["group"] = group.key[0]
        result = band([(histories[run_id].steps, histories[run_id].values) for run_id in ids])
        low, high = band_bounds(result, band_kind)
        found.append({"key": group.key[0], "runs": ids, "steps": result["steps"], "mean": result["mean"],
                      "low": low, "high": high, "count": result["count"], "skipped": result["skipped"]})
    return found


def _steps(steps: list) -> dict:
    """A series' steps as run_data.py writes them ({"stepRange": [...]} or {"steps": [...]}), so
    report-blocks.js decodes a trace with TrackerRunData.decode as the run page does."""
    return json.loads("{" + steps_json(steps) + "}")


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED_CHOICES])
    return shown + (f" and {len(names) - NAMED_CHOICES} more" if len(names) > NAMED_CHOICES else "")


def _runs_table(options: dict, runs: ReportRuns, error: _BlockErrors) -> dict:
    rows = select_rows(runs, options, error)
    columns = _list_option(options, "columns", error)
    if not columns:
        columns = ["name"] + [column.split(".", 1)[1] for column in run_fields(rows).default_columns]
    sort = _text_option(options, "sort", error)
    if sort:
        if all(query.resolve_field(row, sort.lstrip("-")) is None for row in rows):
            error.stop(f"cannot sort by {sort.lstrip('-')!r}: no run the block selects has it")
        rows = sorted(rows, key=query.sort_key(sort))
    limit = options.get("limit", DEFAULT_RUNS_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        error.stop(f"'limit' must be a whole number of 1 or more, got {limit!r}")
    for column in columns:
        if column not in query.RUN_FIELDS and all(query.resolve_field(row, column) is None for row in rows):
            error.stop(f"unknown column {column!r}: no run the block selects has it as a config key or metric")
    shown = rows[:limit]
    return {"columns": columns, "total": len(rows),
            "rows": [{"url": run_link(row), "cells": [_cell(row, column) for column in columns]} for row in shown]}


def _cell(row: dict, column: str) -> str:
    if column in ("name", "id"):
        return run_name(row) if column == "name" else row["id"]
    value = query.resolve_field(row, column)
    if isinstance(value, list) and column in query.RUN_FIELDS:
        return ", ".join(map(str, value))
    return format_value(value)


def _compare(options: dict, runs: ReportRuns, error: _BlockErrors) -> dict:
    names = _list_option(options, "runs", error)
    if len(names) < 2:
        error.stop(f"a ```compare block needs 2 runs or more in 'runs', got {len(names)}")
    rows = [find_row(runs, name, error) for name in names]
    configs = [flatten(row.get("config") or {}) for row in rows]
    varying = run_fields(rows).varying
    metrics = list(dict.fromkeys(name for row in rows for name in (row.get("summary") or {})))
    table = ([{"key": key, "section": "config", "cells": [format_value(config.get(key)) for config in configs]}
              for key in varying]
             + [{"key": name, "section": "summary",
                 "cells": [format_value((row.get("summary") or {}).get(name)) for row in rows]} for name in metrics])
    return {"runs": [{"name": run_name(row), "url": run_link(row)} for row in rows], "rows": table,
            "same": len(configs[0]) - len([key for key in varying if key in configs[0]]),
            "compareUrl": "../compare.html#runs=" + ",".join(row["id"] for row in rows)}


def _media(options: dict, runs: ReportRuns, error: _BlockErrors) -> dict:
    row = find_row(runs, _text_option(options, "run", error), error)
    key = _text_option(options, "key", error)
    media = runs.load(row["id"]).media
    series = media.get(key)
    if series is None:
        error.stop(f"unknown media key {key!r} in run {run_name(row)!r}"
                   + (f"; it logged: {_some(sorted(media))}" if media else "; it logged no media"))
    steps = series.steps
    step = options.get("step", "last")
    if step in (None, "last"):
        step = steps[-1]
    elif isinstance(step, bool) or not isinstance(step, int):
        error.stop(f"'step' must be a whole number or 'last', got {step!r}")
    elif step < steps[0]:
        error.stop(f"run {run_name(row)!r} logged {key!r} from step {steps[0]}, not at step {step}")
    return {"run": {"id": row["id"], "name": run_name(row), "url": run_link(row), "slug": row["slug"]},
            "key": key, "mediaKind": series.kind, "step": step}


def _importance(options: dict, runs: ReportRuns, error: _BlockErrors) -> dict:
    metric = _text_option(options, "metric", error)
    rows = select_rows(runs, options, error)
    values = [(row.get("summary") or {}).get(metric) for row in rows]
    if all(value is None for value in values):
        error.stop(f"unknown metric {metric!r}: none of the {len(rows)} runs the block selects has it in its summary")
    found = importance([flatten(row.get("config") or {}) for row in rows], values, run_fields(rows).varying)
    return {"metric": metric, "runs": len(rows),
            "ranked": [{"param": key, "rho": rho, "runs": count} for key, rho, count in found.ranked],
            "skipped": [{"param": key, "reason": why} for key, why in found.skipped]}
