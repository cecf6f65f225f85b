"""Turning Python values into what a record can hold.

Metrics are numbers only. Config values of any common type are stored faithfully as JSON;
anything else is stored as its repr, with a warning. Non-finite floats have no JSON literal,
so records carry them as the strings "NaN", "Infinity" and "-Infinity" (see docs/format.md).
"""
from __future__ import annotations

import json
import math
import warnings

from .errors import MetricValueError

NON_FINITE_TO_TEXT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
TEXT_TO_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
MAX_CONFIG_ARRAY_ITEMS = 10_000  # a larger array in a config is stored as its summary, not its data

_warned_types: set[str] = set()
# One encoder, built once: json.dumps with non-default arguments builds a new one per call.
compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def metric_number(key: object, value: object) -> int | float:
    """Return ``value`` as an int or float, or raise MetricValueError naming ``key``.

    Anything with ``.item()`` (NumPy scalars, 0-d arrays, 0-d tensors of PyTorch, JAX or
    TensorFlow) is read through it, so no array library is imported here. For a GPU tensor
    ``.item()`` is the one synchronisation the caller would pay anyway.
    """
    if not isinstance(key, str):
        raise MetricValueError(repr(key), value) from None
    kind = type(value)
    if kind is float or kind is int:
        return value
    if kind is bool:
        return int(value)
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (str, bytes)):
        try:
            number = item()
        except Exception:  # a non-scalar array or tensor: .item() refuses
            raise MetricValueError(key, value) from None
        if type(number) in (float, int):
            return number
        if type(number) is bool:
            return int(number)
        raise MetricValueError(key, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # int/float subclasses
        return float(value) if isinstance(value, float) else int(value)
    raise MetricValueError(key, value)


def encode_line(record: dict) -> str:
    """One JSON line for ``record``; non-finite floats become their text markers."""
    line = compact_json(record)
    # json emits the bare tokens NaN/Infinity that JSON forbids; the substring test is a
    # cheap filter, the re-encode only happens for the rare record that has one.
    if "NaN" in line or "Infinity" in line:
        line = compact_json(replace_non_finite(record))
    return line


def replace_non_finite(value):
    """A copy of ``value`` with non-finite floats replaced by their text markers."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return NON_FINITE_TO_TEXT[repr(value)]
    if isinstance(value, dict):
        return {key: replace_non_finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [replace_non_finite(item) for item in value]
    return value


def decode_number(value):
    """A metric or summary value read from a record: text markers back to floats."""
    if type(value) is str:
        return TEXT_TO_NON_FINITE.get(value, value)
    return value


def to_jsonable(value, *, _path: str = "config"):
    """A faithful JSON-compatible copy of a config value.

    Handles nested dicts/lists/tuples/sets, Path, Enum, dataclasses, argparse.Namespace,
    NumPy scalars and arrays, datetime/date/time and anything with ``.item()``.
    Anything else becomes its repr with a warning naming the key.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return NON_FINITE_TO_TEXT[repr(value)]
        if type(value) not in (bool, int, float, str) and value is not None:
            return to_jsonable(_builtin_of(value), _path=_path)
        return value
    if isinstance(value, dict):
        return {str(key): to_jsonable(item, _path=f"{_path}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, _path=f"{_path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item, _path=_path) for item in value]
        return sorted(items, key=repr)
    return _convert_other(value, _path)


def _builtin_of(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _convert_other(value, path: str):
    import dataclasses
    import datetime
    import enum
    import os

    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _path=path)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), _path=f"{path}.{f.name}") for f in dataclasses.fields(value)}
    if type(value).__name__ == "Namespace" and hasattr(value, "__dict__"):  # argparse.Namespace
        return to_jsonable(vars(value), _path=path)
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # NumPy arrays and scalars
        size = getattr(value, "size", 0)
        if size <= MAX_CONFIG_ARRAY_ITEMS:
            return to_jsonable(value.tolist(), _path=path)
        return f"<array shape={tuple(value.shape)} dtype={getattr(value, 'dtype', '?')}>"
    if hasattr(value, "item"):
        try:
            return to_jsonable(value.item(), _path=path)
        except Exception:
            pass
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if kind not in _warned_types:
        _warned_types.add(kind)
        warnings.warn(f"tracker: {path} is a {kind}; stored as its repr", stacklevel=4)
    return repr(value)
