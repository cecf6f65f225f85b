"""Comparing two runs: ``compare(a, b) -> RunDiff``, then ``render_markdown`` or ``render_text``.

Pure functions over ``RunRecord``s: no reading, no printing. ``tracker diff`` is the thin layer
that finds the runs and prints the rendering, e.g. into a pull request's CI job summary.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .formatting import flatten, format_value, table

MISSING_CELL = "—"
NOTE_EXAMPLES = 3  # how many differing datasets/packages a note names before "…"
# A metric is "lower is better" when one of these is a word of its name (split on non-letters),
# so "val/loss", "train_mse" and "cer" count, while "power" and "precision" do not.
LOWER_IS_BETTER_WORDS = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "ppl", "wer", "cer")
DIRECTION_RULE = ("lower is better for metrics with loss, error, err, mse, mae, rmse, perplexity, ppl, "
                  "wer or cer as a word of the name (e.g. val/loss, train_mse); higher is better otherwise")
IMPROVED, REGRESSED = "improved", "regressed"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # a key or metric the run does not have (distinct from a recorded None)


@dataclass(frozen=True)
class RunHeader:
    """What identifies one side of the comparison."""

    name: str
    id: str
    status: str
    commit: str | None = None
    branch: str | None = None
    dirty: bool = False

    @property
    def short_id(self) -> str:
        # Ids look like 20261123-094237-k3x9a2bq; the random tail tells runs of one sweep apart.
        return self.id.rsplit("-", 1)[-1] if self.id.count("-") == 2 else self.id[:12]

    @property
    def revision(self) -> str:
        if not self.commit:
            return "no git"
        text = self.commit[:7] + ("+dirty" if self.dirty else "")
        return f"{text} on {self.branch}" if self.branch else text


@dataclass(frozen=True)
class ConfigChange:
    """One flattened config key in both runs; ``MISSING`` where a run lacks it."""

    key: str
    a: object
    b: object

    @property
    def changed(self) -> bool:
        return self.a is MISSING or self.b is MISSING or not _same(self.a, self.b)


@dataclass(frozen=True)
class MetricChange:
    """One summary metric in both runs, with B−A, the relative change and a verdict when numeric."""

    name: str
    a: object
    b: object
    lower_is_better: bool
    change: float | None = None
    relative_pct: float | None = None
    verdict: str | None = None  # IMPROVED, REGRESSED, or None (equal, missing or not numbers)


@dataclass(frozen=True)
class RunDiff:
    """Everything ``tracker diff`` shows; ``config`` holds only changed keys unless built with all_config."""

    a: RunHeader
    b: RunHeader
    config: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def lower_is_better(metric: str) -> bool:
    """True when a smaller value of ``metric`` is an improvement (see ``DIRECTION_RULE``). The site
    decides alike (stats.js lowerIsBetter, with the words data/index.js ships): both run the cases
    of tests/contracts/lower_is_better.json."""
    return any(word in LOWER_IS_BETTER_WORDS for word in re.split(r"[^a-z]+", metric.lower()))


def compare(a, b, *, all_config: bool = False) -> RunDiff:
    """The differences between run ``a`` (the baseline) and run ``b``."""
    return RunDiff(a=_header(a), b=_header(b), config=compare_config(a.config, b.config, all_config=all_config),
                   metrics=compare_metrics(a.summary, b.summary),
                   notes=[note for note in (_git_note(a, b), _datasets_note(a, b), _packages_note(a, b)) if note])


def compare_config(a: dict, b: dict, *, all_config: bool = False) -> list[ConfigChange]:
    """Flattened config keys of either run, in logging order; unchanged ones only with ``all_config``."""
    flat_a, flat_b = flatten(a), flatten(b)
    keys = dict.fromkeys([*flat_a, *flat_b])
    rows = [ConfigChange(key, flat_a.get(key, MISSING), flat_b.get(key, MISSING)) for key in keys]
    return rows if all_config else [row for row in rows if row.changed]


def compare_metrics(a: dict, b: dict) -> list[MetricChange]:
    """Every summary metric present in either run."""
    return [_metric_change(name, a.get(name, MISSING), b.get(name, MISSING)) for name in dict.fromkeys([*a, *b])]


def render_markdown(diff: RunDiff) -> str:
    """GitHub-flavoured Markdown for a pull request comment or a CI job summary."""
    lines = [f"**A** {_md_run(diff.a)} → **B** {_md_run(diff.b)}", "", "#### Config", ""]
    if diff.config:
        lines += _md_table(["key", "A", "B"],
                           [[_md_code(row.key), _md(_cell(row.a)), _md(_cell(row.b))] for row in diff.config])
    else:
        lines.append("No config differences.")
    lines += ["", "#### Metrics", ""]
    if diff.metrics:
        marks = {IMPROVED: "✅ improved", REGRESSED: "❌ regressed", None: ""}
        lines += _md_table(["metric", "A", "B", "B−A", "%", ""],
                           [[_md_code(row.name), *(_md(cell) for cell in _metric_cells(row)), marks[row.verdict]]
                            for row in diff.metrics])
    else:
        lines.append("No summary metrics.")
    if diff.notes:
        lines += ["", "**Also differs:** " + _md("; ".join(diff.notes))]
    return "\n".join(lines) + "\n"


def render_text(diff: RunDiff) -> str:
    """Aligned plain-text columns for a terminal."""
    lines = [f"A: {_text_run(diff.a)}  →  B: {_text_run(diff.b)}", "", "Config:"]
    if diff.config:
        lines.append(table(["key", "A", "B"], [[row.key, _cell(row.a), _cell(row.b)] for row in diff.config]))
    else:
        lines.append("no differences")
    lines += ["", "Metrics:"]
    if diff.metrics:
        lines.append(table(["metric", "A", "B", "B-A", "%", ""],
                           [[row.name, *_metric_cells(row), row.verdict or ""] for row in diff.metrics]))
    else:
        lines.append("no summary metrics")
    if diff.notes:
        lines += ["", "Also differs: " + "; ".join(diff.notes)]
    return "\n".join(lines) + "\n"


def _header(run) -> RunHeader:
    git = run.git or {}
    return RunHeader(name=run.name, id=run.id, status=run.status, commit=git.get("commit"),
                     branch=git.get("branch"), dirty=bool(git.get("dirty")))


def _metric_change(name: str, a, b) -> MetricChange:
    lower = lower_is_better(name)
    if not (type(a) in (int, float) and type(b) in (int, float)):  # bools and text have no change
        return MetricChange(name, a, b, lower)
    change, relative = float(b) - float(a), None
    if math.isnan(change):
        change = None  # NaN on a side, or Infinity on both: no meaningful difference
    elif math.isfinite(change) and a != 0:
        relative = change / abs(a) * 100
    return MetricChange(name, a, b, lower, change, relative, _verdict(float(a), float(b), lower))


def _verdict(a: float, b: float, lower: bool) -> str | None:
    if math.isnan(a) and math.isnan(b) or a == b:
        return None
    if math.isnan(a) or math.isnan(b):  # turning into NaN is a regression whichever the direction
        return REGRESSED if math.isnan(b) else IMPROVED
    return IMPROVED if (b < a if lower else b > a) else REGRESSED


def _git_note(a, b) -> str | None:
    commit_a, commit_b = (a.git or {}).get("commit"), (b.git or {}).get("commit")
    if commit_a and commit_b and commit_a != commit_b:
        return f"git commit {commit_a[:7]} → {commit_b[:7]}"
    return None


def _datasets_note(a, b) -> str | None:
    hashes_a = {d.get("name"): d.get("sha256") for d in a.datasets}
    hashes_b = {d.get("name"): d.get("sha256") for d in b.datasets}
    changed = [str(name) for name in dict.fromkeys([*hashes_a, *hashes_b])
               if hashes_a.get(name, MISSING) != hashes_b.get(name, MISSING)]
    return _count_note("dataset", changed) if changed else None


def _packages_note(a, b) -> str | None:
    packages_a = (a.environment or {}).get("packages") or {}
    packages_b = (b.environment or {}).get("packages") or {}
    if not packages_a or not packages_b:
        return None  # one side did not capture its environment: every package would "differ"
    changed = [f"{name} {packages_a.get(name, MISSING_CELL)} → {packages_b.get(name, MISSING_CELL)}"
               for name in sorted(set(packages_a) | set(packages_b)) if packages_a.get(name) != packages_b.get(name)]
    return _count_note("package", changed) if changed else None


def _count_note(noun: str, items: list[str]) -> str:
    shown = ", ".join(items[:NOTE_EXAMPLES]) + (", …" if len(items) > NOTE_EXAMPLES else "")
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''} ({shown})"


def _metric_cells(row: MetricChange) -> list[str]:
    change = MISSING_CELL if row.change is None else _signed(row.change)
    relative = MISSING_CELL if row.relative_pct is None else f"{row.relative_pct:+.1f}%"
    return [_cell(row.a), _cell(row.b), change, relative]


def _signed(value: float) -> str:
    text = format_value(value)
    return text if text.startswith("-") or text == "NaN" else "+" + text


def _cell(value) -> str:
    return MISSING_CELL if value is MISSING else format_value(value)


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _text_run(run: RunHeader) -> str:
    return f"{run.name} ({run.short_id}, {run.status}, {run.revision})"


def _md_run(run: RunHeader) -> str:
    return f"{_md_code(run.name)} ({_md_code(run.short_id)}, {_md(run.status)}, {_md(run.revision)})"


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers), *("| " + " | ".join(row) + " |" for row in rows)]


def _md(text: str) -> str:
    """Table-cell safe text: a `|` would end the cell, a newline the row, `<` would start HTML."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _md_code(text: str) -> str:
    if "`" in text:
        return _md(text)
    # Inside a code span GitHub still splits table cells at "|", so the escape stays.
    return "`" + text.replace("|", "\\|").replace("\n", " ") + "`"
