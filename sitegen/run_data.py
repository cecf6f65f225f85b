"""A run's data file: its metric histories, columnar, as JSON text (the shape run-data.js reads).

Pure: RunSource -> str. Written by hand rather than through json.dumps because it is a large
part of a cold build's work and most of the site's bytes: values are formatted once with
SIGNIFICANT_DIGITS, and the wall-time axis, which the metrics logged by one log() call share,
is stored once per distinct axis ("timeAxes") and named by index from each series. A column of
plain finite floats (the usual one) is formatted by one %-format of the whole column, in C; a
Python call per point made this file a third of a cold build.

    {"id", "name", "created", "timeAxes": [[s since created, ...], ...],
     "metrics": {name: {"values": [number | "NaN" | "Infinity" | "-Infinity"], "times": <axis index>,
                        "stepRange": [first, count]  or  "steps": [int],
                        "count": <points logged>  (only when the series was reduced while reading)}},
     "system": {...same...}}
"""
from __future__ import annotations

import re
from itertools import repeat
from operator import sub

from .load import RunSource
from .render import script_json

SIGNIFICANT_DIGITS = 10  # float32 has ~7; 10 keeps float64 values readable in the CSV
TIME_DECIMALS = 3        # milliseconds
MAX_FIXED_SECONDS = 2.0 ** 31  # below it, repr(round(x, 3)) is x's "%.3f" text, trimmed (_millisecond_texts)
_FLOAT_FORMAT = f"%.{SIGNIFICANT_DIGITS}g,"  # what format(value, ".10g") makes, then a comma
_TIME_FORMAT = f"%.{TIME_DECIMALS}f,"
_TRAILING_ZEROS = re.compile("0+(?=,)")
_INTS, _FLOATS, _NUMBERS = {int}, {float}, {int, float}


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
            steps = history.steps
            if set(map(type, steps)) != _INTS:  # a step that is not an int is drawn at its position
                steps = [step if type(step) is int else index for index, step in enumerate(steps)]
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
    if set(map(type, values)) == _FLOATS and _finite(sum(values)):  # a NaN or an infinity makes the sum one
        return "[" + (_FLOAT_FORMAT * len(values))[:-1] % tuple(values) + "]"
    return "[" + ",".join(map(_number_json, values)) + "]"


def _finite(value: float) -> bool:
    return value - value == 0.0  # inf - inf and nan - nan are nan


def _number_json(value) -> str:
    kind = type(value)
    if kind is float:
        if _finite(value):
            return format(value, f".{SIGNIFICANT_DIGITS}g")
        return '"NaN"' if value != value else ('"Infinity"' if value > 0 else '"-Infinity"')
    if kind is int:
        return str(value)
    return '"NaN"'  # something that is not a number was logged: shown, never dropped


def _times_json(times: list, origin: float | None) -> str:
    """Seconds since the run was created (or since its first timed point), to the millisecond."""
    if origin is None:
        origin = next((t for t in times if type(t) in (int, float)), 0.0)
    if type(origin) is float and set(map(type, times)) <= _NUMBERS:
        seconds = list(map(sub, times, repeat(origin)))  # floats, as origin is
        if seconds and -MAX_FIXED_SECONDS < min(seconds) and max(seconds) < MAX_FIXED_SECONDS:
            return "[" + _millisecond_texts(seconds) + "]"
    return "[" + ",".join(repr(round(t - origin, TIME_DECIMALS)) if type(t) in (int, float) else "null"
                          for t in times) + "]"


def _millisecond_texts(seconds: list) -> str:
    """``",".join(repr(round(x, 3)) for x in seconds)``, in C: round() and "%.3f" both round x to
    the nearest millisecond with the same correctly rounded decimal conversion; repr() then writes
    the shortest text that reads back as that float, which (another millisecond being far further
    off than a float's precision below MAX_FIXED_SECONDS) is the "%.3f" text without its trailing
    zeros, keeping a zero after the point (and the sign of -0.0)."""
    text = _TRAILING_ZEROS.sub("", _TIME_FORMAT * len(seconds) % tuple(seconds))
    return text.replace(".,", ".0,")[:-1]
