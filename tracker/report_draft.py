"""An automatic report of a sweep or group: the Markdown draft `tracker report new` writes from the runs a filter selects.

The draft says what was varied (config keys that differ), shows the best runs (a ``runs`` block),
parameter importance (an ``importance`` block), the curves of the best and the worst run (a
``chart`` block naming them) and each failed run's error, by its last line. It is a file the user
edits and commits: the fenced blocks are views that `tracker build` fills with the runs of the
day (docs/reports.md). Pure but for ``failure_line`` (reads a failed run) and ``write_draft``.
"""
from __future__ import annotations

import json
import os
import re
import time

from .formatting import flatten, format_value, run_fields
from .importance import MIN_RUNS, numeric
from .layout import runs_root
from .rundiff import lower_is_better

REPORTS_FOLDER = "reports"  # the default folder of reports, beside the runs folder
BEST_RUNS = 10
VARIED_COLUMNS = 5  # config keys shown in the best runs' table
VALUES_LISTED = 8   # values listed per varied key
VALIDATION_WORDS = ("val", "valid", "validation", "eval", "test")
FAILED_STATUSES = ("failed", "crashed")
_PLAIN_YAML = re.compile(r"^[^\s\"'\[\]{},#&*!|>%@`][^#,\[\]{}]*$")


def reports_folder(runs: str | None) -> str:
    """``reports/`` beside the runs folder (``runs``, or $TRACKER_DIR, or ./tracker-runs)."""
    return os.path.join(os.path.dirname(os.path.abspath(runs_root(runs))), REPORTS_FOLDER)


def default_report_path(runs: str | None, filter_text: str) -> str:
    """reports/<the filter as a file name>.md beside the runs folder: "group:sweep-42" -> group-sweep-42.md."""
    stem = re.sub(r"[^a-z0-9_]+", "-", filter_text.lower()).strip("-") or "all-runs"
    return os.path.join(reports_folder(runs), f"{stem[:80]}.md")


def choose_metric(rows: list[dict]) -> str | None:
    """The metric that ranks ``rows``: of the numeric summary metrics, a validation one (val, valid,
    eval, test a word of its name) before others, then the one most runs have, then the first
    logged; None when no run has a numeric one."""
    counts: dict[str, int] = {}
    for row in rows:
        for name, value in (row.get("summary") or {}).items():
            if numeric(value) is not None:
                counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None
    order = list(counts)
    validation = lambda name: any(word in re.split(r"[^a-z]+", name.lower()) for word in VALIDATION_WORDS)  # noqa: E731
    return max(order, key=lambda name: (validation(name), counts[name], -order.index(name)))


def failure_line(error: str | None, status: str) -> str:
    """The last line of a failed run's traceback (the exception and its message), or why there is none."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    if lines:
        return lines[-1]
    return "its heartbeat stopped (the process died without a traceback)" if status == "crashed" else "no error recorded"


def draft_report(rows: list[dict], all_rows: list[dict], filter_text: str, metric: str | None,
                 failures: dict[str, str], now: float | None = None) -> str:
    """The Markdown of the report on ``rows`` (as_filterable() dicts, the runs ``filter_text``
    selects; ``all_rows`` every run of the folder, to tell whether a name is unique). ``failures``
    maps a failed run's id to failure_line()."""
    fields = run_fields(rows)
    configs = [flatten(row.get("config") or {}) for row in rows]
    lower = lower_is_better(metric) if metric else False
    scored = sorted(((value, row) for row in rows
                     if (value := numeric((row.get("summary") or {}).get(metric))) is not None),
                    key=lambda item: item[0], reverse=not lower) if metric else []
    statuses = _counted(row["status"] for row in rows)
    when = time.strftime("%Y-%m-%d", time.gmtime(now if now is not None else time.time()))
    out = [f"# Report: {filter_text or 'all runs'}", "",
           f"Drafted by `tracker report new` on {when} from the {len(rows)} run{'s' * (len(rows) != 1)} "
           f"that `{filter_text or '(no filter)'}` selects ({statuses}). Edit it freely: each fenced block is a "
           "view that `tracker build` fills again with the runs of the day.", ""]
    out += _varied(fields.varying, configs)
    if metric:
        out += _best(filter_text, fields.varying, metric, lower, scored)
        out += _importance(filter_text, metric, fields.varying, configs, scored)
        out += _curves(filter_text, metric, lower, scored, all_rows)
    else:
        out += ["## Results", "", "No run that the filter selects has a numeric metric in its summary.", ""]
    out += _failures([row for row in rows if row["status"] in FAILED_STATUSES], failures)
    return "\n".join(out).rstrip() + "\n"


def _counted(statuses) -> str:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items(), key=lambda item: -item[1]))


def _varied(varying: list[str], configs: list[dict]) -> list[str]:
    out = ["## What was varied", ""]
    if not varying:
        return out + ["Every run has the same config.", ""]
    out += ["| config key | values |", "|---|---|"]
    for key in varying:
        values = list(dict.fromkeys(format_value(config.get(key)) for config in configs))
        listed = ", ".join(values[:VALUES_LISTED]) + (f" and {len(values) - VALUES_LISTED} more" if len(values) > VALUES_LISTED else "")
        out.append(f"| {_cell(key)} | {_cell(listed)} |")
    return out + [""]


def _best(filter_text: str, varying: list[str], metric: str, lower: bool, scored: list) -> list[str]:
    direction = "lower" if lower else "higher"
    out = ["## Best runs", "", f"By `{metric}` ({direction} is better)."
           + ("" if scored else f" No run has a numeric `{metric}` yet."), ""]
    columns = ["name", *varying[:VARIED_COLUMNS], metric]
    out += ["```runs", *_option("filter", filter_text), f"columns: [{', '.join(_yaml_text(c) for c in columns)}]",
            f"sort: {_yaml_text(('' if lower else '-') + metric)}", f"limit: {BEST_RUNS}", "```", ""]
    return out


def _importance(filter_text: str, metric: str, varying: list[str], configs: list[dict], scored: list) -> list[str]:
    out = ["## Which parameters matter", ""]
    numeric_keys = [key for key in varying if any(numeric(config.get(key)) is not None for config in configs)]
    if len(scored) < MIN_RUNS or not numeric_keys:
        why = (f"fewer than {MIN_RUNS} runs have a numeric `{metric}`" if len(scored) < MIN_RUNS
               else "no numeric config key varies")
        return out + [f"Not ranked: {why}.", ""]
    return out + [f"Spearman rank correlation of each numeric config key with `{metric}` across the runs: "
                  "correlation, not cause.", "", "```importance", f"metric: {_yaml_text(metric)}",
                  *_option("filter", filter_text), "```", ""]


def _curves(filter_text: str, metric: str, lower: bool, scored: list, all_rows: list[dict]) -> list[str]:
    if not scored:
        return []
    best, worst = scored[0][1], scored[-1][1]
    named = [best] if best["id"] == worst["id"] else [best, worst]
    names = [_run_reference(row, all_rows) for row in named]
    described = " and ".join(f"`{row.get('name') or row['id']}` ({format_value(value)})"
                             for value, row in (scored[0], scored[-1])[:len(named)])
    return ["## The best and the worst", "", f"{metric} by step for {described}.", "",
            "```chart", f"metric: {_yaml_text(metric)}", *_option("filter", filter_text),
            f"runs: [{', '.join(_yaml_text(name) for name in names)}]", "```", ""]


def _failures(failed: list[dict], failures: dict[str, str]) -> list[str]:
    out = ["## Failures", ""]
    if not failed:
        return out + ["No run failed.", ""]
    for row in failed:
        line = failures.get(row["id"]) or failure_line(None, row["status"])
        out.append(f"- **{_inline(row.get('name') or row['id'])}** (`{row['id']}`, {row['status']}): "
                   f"`{line.replace('`', chr(39))}`")
    return out + [""]


def _run_reference(row: dict, all_rows: list[dict]) -> str:
    """A run's name when no other run has it, else its id (a report block names one run)."""
    name = row.get("name")
    if name and sum(other.get("name") == name for other in all_rows) == 1:
        return name
    return row["id"]


def _option(key: str, value: str) -> list[str]:
    return [f"{key}: {_yaml_text(value)}"] if value else []


def _yaml_text(text: str) -> str:
    """Text as a block option value: plain when it reads back as itself, else double-quoted."""
    if _PLAIN_YAML.match(text) and text.strip() == text and text not in ("true", "false", "null", "~") \
            and not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _cell(text: str) -> str:
    """Text in a Markdown table cell: a '|' escaped, no line break."""
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    return " ".join(str(text).split())
