"""pandas DataFrames of runs and metric series, for analysis in a notebook.

pandas is optional: it is imported when a frame is asked for, never by ``import tracker`` (the
logger starts in every training script and pandas costs a few hundred milliseconds to import).

Shapes (one row per run, like ``mlflow.search_runs()``; times are UTC pandas Timestamps):

- runs: ``id, name, project, group, status, tags, user, host, created, ended, duration_s, error``,
  then ``config.<key>`` for each config value and ``summary.<key>`` for each summary value, nested
  tables flattened with dots (``config.optimizer.lr``): the names the filter language takes.
- one metric: ``step, time, value``, ordered by step.
- a whole run: ``step, time`` and one column per metric, one row per step; ``time`` is the earliest
  time logged at that step, and a metric not logged at a step is NaN there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .formatting import flatten

if TYPE_CHECKING:
    from .reader import RunRecord
    from .series import History

PANDAS_INSTALL = "pip install pandas"
RUN_COLUMNS = ("id", "name", "project", "group", "status", "tags", "user", "host", "created", "ended",
               "duration_s", "error")
_TIME_COLUMNS = ("created", "ended")


class PandasMissingError(ImportError):
    """Raised by a ``to_pandas()``/``history_frame()`` call when pandas is not installed."""

    def __init__(self, wanted: str):
        self.wanted = wanted
        super().__init__(f"{wanted} needs pandas, which is not installed; install it with: {PANDAS_INSTALL}")


def _pandas(wanted: str):
    try:
        import pandas
    except ImportError as exc:
        raise PandasMissingError(wanted) from exc
    return pandas


def _utc(pandas, seconds):
    return pandas.to_datetime(seconds, unit="s", utc=True)


def runs_frame(runs: list[RunRecord]):
    """One row per run: run fields, ``config.*`` and ``summary.*`` columns (see the module docstring)."""
    pandas = _pandas("runs.to_pandas()")
    rows = []
    for run in runs:
        row = {name: getattr(run, name) for name in RUN_COLUMNS}
        row["tags"] = list(run.tags)
        row.update(flatten(run.config, "config."))
        row.update(flatten(run.summary, "summary."))
        rows.append(row)
    frame = pandas.DataFrame(rows, columns=_run_columns(rows))
    for name in _TIME_COLUMNS:
        frame[name] = _utc(pandas, frame[name].astype("float64"))
    return frame


def _run_columns(rows: list[dict]) -> list[str]:
    """Run fields first, then config and summary columns in the order they were first seen."""
    seen = dict.fromkeys(RUN_COLUMNS)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def history_frame(history: History):
    """``step, time, value`` of one metric's series, ordered by step."""
    pandas = _pandas("history.to_pandas()")
    return pandas.DataFrame({"step": pandas.Series(history.steps, dtype="int64"),
                             "time": _utc(pandas, pandas.Series(history.times, dtype="float64")),
                             "value": pandas.Series(history.values, dtype="float64")})


def run_history_frame(run: RunRecord):
    """``step, time`` and one column per metric of ``run`` (system metrics are not included: their
    step is a per-process sample count, not the training step)."""
    pandas = _pandas("run.history_frame()")
    times: dict[int, float] = {}
    columns: dict[str, dict[int, float]] = {}
    for name, series in run.histories.items():
        # a step logged twice (a resumed run) keeps its later value, as the series is ordered
        columns[name] = dict(zip(series.steps, series.values))
        for step, wall_time in zip(series.steps, series.times):
            if wall_time < times.get(step, float("inf")):
                times[step] = wall_time
    steps = sorted(times)
    frame = pandas.DataFrame({"step": pandas.Series(steps, dtype="int64"),
                              "time": _utc(pandas, pandas.Series([times[step] for step in steps], dtype="float64"))})
    for name, values in columns.items():
        frame[name] = pandas.Series([values.get(step) for step in steps], dtype="float64")
    return frame
