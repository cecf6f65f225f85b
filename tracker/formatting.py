"""Plain-text formatting of values, times and tables, shared by the CLI, run diffs and the site.

What the site's scripts compute too (format.js, run-fields.js) follows the same cases: the JSON
files under tests/contracts/ that a pytest test and a Chromium test both run (docs/site-data.md).
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter

from .values import NON_FINITE_TO_TEXT

MISSING = "-"  # the text of a value or time that is not there (format.js's MISSING too)
WHOLE_NUMBER_DIGITS_BELOW = 1e21  # JavaScript writes whole numbers from here on as 1e+21
DEFAULT_PARAM_COLUMNS = 4  # the first config keys whose value differs between runs
DEFAULT_METRIC_COLUMNS = 4


def format_time(unix_s: float | None) -> str:
    if not unix_s:
        return MISSING
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(unix_s))


def format_duration(seconds: float | str | None) -> str:
    """"1h05m", "4m07s", "9s": whole seconds, halves rounded up (as JavaScript's Math.round), a
    negative duration with a minus sign; none, or a non-finite one (a float or its text marker), is
    MISSING. tests/contracts/text.json pins it with format.js's formatDuration."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return MISSING
    total = math.floor(seconds)
    if seconds - total >= 0.5:  # exact, where floor(seconds + 0.5) rounds 0.49999999999999994 up
        total += 1
    if total < 0:
        return "-" + format_duration(-total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_value(value) -> str:
    """A config or metric value as text: 6 significant digits ("%g"), a float that is a whole number
    as an int (JSON, and so the site, cannot tell 1.0 from 1), NaN and ±Infinity as their markers,
    lists and dicts as compact JSON. format.js's formatValue gives the same text for the cases in
    tests/contracts/text.json."""
    kind = type(value)
    if kind is float:  # the usual value first: tracker ls formats one per run and column
        if value - value == 0.0:  # finite (NaN - NaN and inf - inf are NaN)
            if value.is_integer() and -WHOLE_NUMBER_DIGITS_BELOW < value < WHOLE_NUMBER_DIGITS_BELOW:
                return str(int(value))
            return f"{value:.6g}"
        return "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
    if kind is str:
        return value
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= WHOLE_NUMBER_DIGITS_BELOW:
        value = _as_double(value)  # as JSON.parse reads it
    if isinstance(value, float):
        return format_value(float(value))  # a float subclass, or an int past 1e21 read as a double
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def format_column(values: list) -> list[str]:
    """[format_value(value) for value in values], for a column of a table: a column whose values
    repeat (a batch size, a dropout) formats each distinct value once; a column of floats (every
    metric, most config values) is formatted by one map in C, then only the cells that "%g" writes
    otherwise than format_value are formatted again: whole numbers from 1e6 on (an exponent), NaN
    and the infinities ("nan", "inf") and -0; a column of ints in range is str of each."""
    if not values:
        return []
    kinds = set(map(type, values))
    repeated = _formatted_once_each(values, kinds, format_column)
    if repeated is not None:
        return repeated
    if kinds == {float}:
        texts = list(map(format, values, repeat(".6g")))
        joined = "\n".join(texts)
        if "e+" in joined or "n" in joined or "-0\n" in joined + "\n":
            return [format_value(value) if "e+" in text or "n" in text or text == "-0" else text
                    for value, text in zip(values, texts)]
        return texts
    if kinds == {int} and -WHOLE_NUMBER_DIGITS_BELOW < min(values) and max(values) < WHOLE_NUMBER_DIGITS_BELOW:
        return list(map(str, values))
    return [format_value(value) for value in values]


def format_durations(values: list) -> list[str]:
    """[format_duration(value) for value in values], each distinct value formatted once where
    they repeat (runs of a sweep that ran for as long)."""
    repeated = _formatted_once_each(values, set(map(type, values)), format_durations)
    return [format_duration(value) for value in values] if repeated is None else repeated


DISTINCT_SAMPLE = 1_000  # values looked at first to tell a column of distinct values (see below)
# Types whose equal values format alike, and hash alike: 1 and 1.0 are both "1" ("1s"), -0.0 and
# 0 both "0". Not bool, though True == 1: "true" is not "1".
_ALIKE_WHEN_EQUAL = frozenset({int, float, str, type(None)})


def _formatted_once_each(values: list, kinds: set, format_all) -> list[str] | None:
    """format_all(values) by format_all of each distinct value once, when at most half the values
    are distinct and ``kinds`` (their types) are _ALIKE_WHEN_EQUAL; else None. A NaN is its own
    key (it equals nothing), found again as the same object."""
    if len(values) < 2 or not kinds <= _ALIKE_WHEN_EQUAL:
        return None
    if len(values) > 2 * DISTINCT_SAMPLE:
        # a column of distinct values (a metric, a learning rate) is told from its first values,
        # not by a dict of all of them thrown away: 100,000 floats hashed took 0.06 s a column
        sample = values[:DISTINCT_SAMPLE]
        if len(dict.fromkeys(sample)) * 2 > len(sample):
            return None
    distinct = dict.fromkeys(values)
    if len(distinct) * 2 > len(values):
        return None
    texts = dict(zip(distinct, format_all(list(distinct))))
    return list(map(texts.__getitem__, values))


def format_bytes(size: float | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def table(headers: list[str], rows: list[list[str]], max_width: int = 40) -> str:
    """A left-aligned text table; long cells are cut with an ellipsis."""
    return column_table(headers, [list(column) for column in zip(*rows)] if rows else [[] for _ in headers],
                        max_width)


def column_table(headers: list[str], columns: list[list[str]], max_width: int = 40) -> str:
    """``table`` of the cells given column by column (each column a list of one cell per row): the
    widths and the cuts come from each column at once, and each line is one %-format, so a table
    of 100,000 runs costs about a tenth of a second."""
    return "\n".join(column_table_lines(headers, columns, max_width)[0])


def column_table_lines(headers: list[str], columns: list[list[str]],
                       max_width: int = 40) -> tuple[list[str], list[list[str]], list[int]]:
    """column_table's lines (the headers, the rule, a line a row), with the columns as cut and
    each column's width: what tracker ls keeps to print the table again with a few rows changed
    (tracker/ls_table_cache.py)."""
    cut = [cut_column(column, max_width) for column in columns]
    headers = [_cut(header, max_width) for header in headers]
    widths = [max(len(header), max(map(len, column), default=0)) for header, column in zip(headers, cut)]
    line = row_format(widths)
    lines = [(line % tuple(headers)).rstrip(), "  ".join("-" * width for width in widths)]
    lines += [(line % cells).rstrip() for cells in zip(*cut)]
    return lines, cut, widths


def cut_column(column: list[str], max_width: int = 40) -> list[str]:
    """A table's column with each cell longer than ``max_width`` cut with an ellipsis."""
    if column and max(map(len, column)) > max_width:
        return [_cut(cell, max_width) for cell in column]
    return column


def row_format(widths: list[int]) -> str:
    """The %-format of a table's line: every column but the last padded to its width, the last
    unpadded (the line is then rstrip()ed, as column_table does)."""
    return "  ".join([*(f"%-{width}s" for width in widths[:-1]), "%s"])


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def flatten(mapping: dict, prefix: str = "") -> dict:
    """Nested dicts as dotted keys: {"opt": {"lr": 1}} -> {"opt.lr": 1}; an empty dict is a value.
    run-fields.js's flatten follows the same cases (tests/contracts/flatten.json)."""
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[key if not prefix and type(key) is str else f"{prefix}{key}"] = value
    return flat


@dataclass
class RunFields:
    """The config keys and metrics of a list of runs, and the columns a table of them shows by default."""

    params: list   # dotted config keys, in the order they first appear
    metrics: list  # summary names, in the order they first appear
    varying: list  # the params whose value is not the same in every run

    @property
    def default_columns(self) -> list:
        """The first config keys that vary, then the first metrics: ["config.lr", "summary.acc", ...]."""
        return ([f"config.{key}" for key in self.varying[:DEFAULT_PARAM_COLUMNS]]
                + [f"summary.{name}" for name in self.metrics[:DEFAULT_METRIC_COLUMNS]])


def run_fields(runs: list[dict], columns: Mapping[str, list] | None = None) -> RunFields:
    """What ``tracker ls`` and the site's index (run-fields.js TrackerFields.of) show of ``runs``,
    dicts shaped like index rows ({config, summary, ...}). A config key varies when some run's value
    is not the same as another's: see same_as_json(); a run without the key has it as None.
    ``columns``: config_columns of the runs' configs, where the caller has them already.
    tests/contracts/columns.json pins it on both sides."""
    if columns is None:
        columns = config_columns([run.get("config") or {} for run in runs])
    params = list(columns)
    metrics = list(dict.fromkeys(chain.from_iterable(run.get("summary") or {} for run in runs)))
    varying = [key for key in params if _varies(columns[key])]
    return RunFields(params, metrics, varying)


def flat_config(config: dict) -> dict:
    """flatten(config), or ``config`` itself (no copy) when none of its values is a dict."""
    return flatten(config) if dict in map(type, config.values()) else config


def config_columns(configs: list[dict]) -> Mapping[str, list]:
    """The configs flattened (flatten) column by column: {dotted key: [its value in each config,
    None where a config lacks it]}, the keys in the order they first appear. A sweep's configs
    have the same keys in the same order: then each column is one list comprehension (100,000
    configs in a few tens of ms, where flattening each took 0.3 s); otherwise each config is
    flattened, and a column made when it is asked for."""
    if set(map(type, configs)) == {dict}:
        columns = _same_shape_columns(configs, "")
        if columns is None:
            columns = _columns_of_a_few_odd_shapes(configs)
        if columns is not None:
            return columns
    return _FlattenedConfigs(configs)


MAX_ODD_CONFIGS = 64  # configs of another shape than the most common one, flattened one by one


class ColumnsOfSeveralShapes(dict):
    """config_columns of a sweep beside a few configs of other shapes: a dict, but not the plain
    dict that says every config has one shape, with the flattened keys of the common shape and
    of each odd config by its place (ls_table_cache.column_basis keeps them)."""

    common_keys: list[str]
    odd_keys: dict[int, list[str]]


def _columns_of_a_few_odd_shapes(configs: list[dict]) -> dict[str, list] | None:
    """config_columns of a sweep's configs beside a few of other shapes (a run of another script
    in the same runs folder): the most common shape column by column (_same_shape_columns), each
    of the others flattened, its values put in the columns at its place. None when more than
    MAX_ODD_CONFIGS configs are of other shapes, or the common shape's nested dicts differ."""
    shapes = list(map(tuple, configs))
    counts = Counter(shapes)
    if len(counts) < 2 or len(counts) > MAX_ODD_CONFIGS + 1:
        return None
    common = max(counts, key=counts.__getitem__)  # the first of the most common, as dicts keep order
    odd = [index for index, shape in enumerate(shapes) if shape != common]
    if len(odd) > MAX_ODD_CONFIGS:
        return None
    odd_set = set(odd)
    columns = _same_shape_columns([config for index, config in enumerate(configs) if index not in odd_set], "")
    if columns is None:
        return None
    flat_odd = {index: flat_config(configs[index]) for index in odd}
    # A key's place is where it first appears, row by row: the common shape's keys at its first row.
    first_common = next(index for index, shape in enumerate(shapes) if shape == common)
    key_lists = sorted([(first_common, list(columns)), *((index, list(flat_odd[index])) for index in odd)],
                       key=itemgetter(0))
    keys = dict.fromkeys(chain.from_iterable(keys for _, keys in key_lists))
    common_rows = len(configs) - len(odd)
    made = ColumnsOfSeveralShapes()
    for key in keys:
        column = list(columns[key]) if key in columns else [None] * common_rows
        for index in odd:  # in increasing order: each insert lands at its row's place
            column.insert(index, flat_odd[index].get(key))
        made[key] = column
    made.common_keys = list(columns)
    made.odd_keys = {index: list(flat_odd[index]) for index in odd}
    return made


def _same_shape_columns(configs: list[dict], prefix: str) -> dict[str, list] | None:
    """config_columns of dicts that all have the same keys in the same order, as do their nested
    dicts, key by key; None when they do not. flatten takes the keys in the same order, so a
    dotted key met twice ("a.b" and {"a": {"b"}}) keeps its first place and its last value here too."""
    shapes = dict.fromkeys(map(tuple, configs))
    if len(shapes) != 1:
        return None
    columns = {}
    for key in next(iter(shapes)):
        column = list(map(itemgetter(key), configs))
        kinds = set(map(type, column))
        if any(issubclass(kind, dict) for kind in kinds):
            if kinds != {dict} or not all(column):
                # a dict in some configs only, an empty one (a value), or a dict subclass (which
                # flat_config leaves unflattened at the top): each config flattened as before
                return None
            inner = _same_shape_columns(column, f"{prefix}{key}.")
            if inner is None:
                return None
            columns.update(inner)
        else:
            columns[key if not prefix and type(key) is str else f"{prefix}{key}"] = column
    return columns


class _FlattenedConfigs(Mapping):
    """config_columns of configs of different shapes: each flattened, a column built when asked."""

    def __init__(self, configs: list[dict]):
        self._configs = [flat_config(config) for config in configs]
        self._keys = dict.fromkeys(chain.from_iterable(self._configs))

    def __getitem__(self, key: str) -> list:
        if key not in self._keys:
            raise KeyError(key)
        return [config.get(key) for config in self._configs]

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


# Values that are the same as JSON reads them when they are equal and of one type (not so lists:
# [1] == [True]; nor NaN, which equals nothing).
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def _varies(values: list) -> bool:
    """Whether two of ``values`` are not the same as JSON reads them (same_as_json)."""
    return first_difference(values) is not None


def first_difference(values: list) -> int | None:
    """The place of the first of ``values`` not the same as JSON reads it (same_as_json) as the
    first one; None when none is. A column of one repeated value, the usual kind that does not
    vary, is told in C: 100,000 runs in a few ms."""
    first = values[0]
    if type(first) in _PLAIN_TYPES and values.count(first) == len(values) and len(set(map(type, values))) == 1:
        return None
    seen = same_as_json(first)
    return next((place for place, value in enumerate(values) if same_as_json(value) != seen), None)


def same_as_json(value) -> object:
    """A hashable stand-in for a config value, equal for values that JSON (and so the site's
    JavaScript) reads as the same: numbers by their value as a double (1 and 1.0 alike), True apart
    from 1 and "1" apart from 1, objects whatever their key order, non-finite floats as the text
    markers the site's data holds ("NaN" the float and "NaN" the text alike)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        number = _as_double(value)
        return ("number", number) if math.isfinite(number) else ("string", NON_FINITE_TO_TEXT[repr(number)])
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, (list, tuple)):
        return ("array", tuple(same_as_json(item) for item in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted(((str(key), same_as_json(item)) for key, item in value.items()),
                                       key=lambda item: item[0])))
    return ("string", str(value))


def _as_double(number: int | float) -> float:
    """The number as JSON.parse reads it: a double, ±Infinity past the largest."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf
