"""A run's data file: its metric histories, columnar, as JSON text (the shape run-data.js reads).

Pure: RunSource -> str. Written by hand rather than through json.dumps because it is most of a
cold build's work and most of the site's bytes: values are formatted once with
SIGNIFICANT_DIGITS, and the wall-time axis, which the metrics logged by one log() call share,
is stored once per distinct axis ("timeAxes") and named by index from each series.

    {"id", "name", "created", "timeAxes": [[s since created, ...], ...],
     "metrics": {name: {"values": [number | "NaN" | "Infinity" | "-Infinity"], "times": <axis index>,
                        "stepRange": [first, count]  or  "steps": [int],
                        "count": <points logged>  (only when the series was reduced while reading)}},
     "system": {...same...}}
"""
from __future__ import annotations

from .load import RunSource
from .render import script_json

SIGNIFICANT_DIGITS = 10  # float32 has ~7; 10 keeps float64 values readable in the CSV
TIME_DECIMALS = 3        # milliseconds


def run_data_json(source: RunSource) -> str:
    """The JSON text of one run's data file."""
    run = source.run
    origin = run.created
    axes: dict[tuple, int] = {}
    axis_texts: list[str] = []

    def axis_index(times: list) -> int:
        key = tuple(times)
        index = axes.get(key)
        if index is None:
            index = axes[key] = len(axis_texts)
            axis_texts.append(_times_json(times, origin))
        return index

    def series_group(histories: dict) -> str:
        parts = []
        for name, history in histories.items():
            steps = [step if type(step) is int else index for index, step in enumerate(history.steps)]
            if steps and steps == list(range(steps[0], steps[0] + len(steps))):
                step_part = f'"stepRange":[{steps[0]},{len(steps)}]'  # consecutive: two numbers instead of n
            else:
                step_part = '"steps":[' + ",".join(map(str, steps)) + "]"
            if history.count > len(history):
                step_part += f',"count":{history.count}'
            parts.append(f'{script_json(name)}:{{"values":{numbers_json(history.values)},'
                         f'"times":{axis_index(history.times)},{step_part}}}')
        return "{" + ",".join(parts) + "}"

    metrics = series_group(run.histories)
    system = series_group(run.system)
    head = script_json({"id": run.id, "name": run.name, "created": run.created})[:-1]
    return f'{head},"timeAxes":[{",".join(axis_texts)}],"metrics":{metrics},"system":{system}}}'


def numbers_json(values: list) -> str:
    """A JSON array of metric values; non-finite floats as marker strings, anything else logged as "NaN"."""
    return "[" + ",".join(map(_number_json, values)) + "]"


def _number_json(value) -> str:
    kind = type(value)
    if kind is float:
        if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            return format(value, f".{SIGNIFICANT_DIGITS}g")
        return '"NaN"' if value != value else ('"Infinity"' if value > 0 else '"-Infinity"')
    if kind is int:
        return str(value)
    return '"NaN"'  # something that is not a number was logged: shown, never dropped


def _times_json(times: list, origin: float | None) -> str:
    """Seconds since the run was created (or since its first timed point), to the millisecond."""
    if origin is None:
        origin = next((t for t in times if type(t) in (int, float)), 0.0)
    return "[" + ",".join(repr(round(t - origin, TIME_DECIMALS)) if type(t) in (int, float) else "null"
                          for t in times) + "]"
