"""Turning Python values into what a record can hold.

Metrics are numbers only. Config values of any common type are stored faithfully as JSON;
anything else is stored as its repr, with a warning. Text is made encodable (``safe_text``) and
ints too long to read back are refused, so that one bad value never reaches the writer. Non-finite floats have no JSON literal,
so records carry them as the strings "NaN", "Infinity" and "-Infinity" (see docs/format.md).
"""
from __future__ import annotations

import json
import math
import warnings

from .config_sources import NOT_A_SOURCE, plain_source
from .errors import ConfigValueError, MetricNameError, MetricValueError, NumberTooLargeError

NON_FINITE_TO_TEXT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
TEXT_TO_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
MAX_CONFIG_ARRAY_ITEMS = 10_000  # a larger array in a config is stored as its summary, not its data
MAX_CONFIG_DEPTH = 63  # a config nested deeper is refused: readers drop what is nested past 64 levels of a record
MAX_INT_DIGITS = 4300  # Python's default int_max_str_digits: a longer int in a record cannot be read back
TOO_LONG_INT = 10 ** MAX_INT_DIGITS  # the smallest int with more than MAX_INT_DIGITS digits

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
        raise MetricNameError(key)
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return check_int_size(value, f"metric {key!r}")
    if kind is bool:
        return int(value)
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (str, bytes)):
        try:
            number = item()
        except Exception:  # a non-scalar array or tensor: .item() refuses
            raise MetricValueError(key, value) from None
        if type(number) is float:
            return number
        if type(number) is int:
            return check_int_size(number, f"metric {key!r}")
        if type(number) is bool:
            return int(number)
        raise MetricValueError(key, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # int/float subclasses
        return float(value) if isinstance(value, float) else check_int_size(int(value), f"metric {key!r}")
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
    Anything else becomes its repr with a warning naming the key. Text with lone surrogates
    is escaped (see ``safe_text``). A circular or too deep value (over MAX_CONFIG_DEPTH), an
    int too long to read back and an object whose repr raises are refused with a UsageError
    naming the key, before anything is written.
    """
    return _Converter().convert(value, _path, 0)


def safe_text(text: str) -> str:
    """``text`` made encodable as UTF-8: each lone surrogate becomes the six characters ``\\udcXX``.

    Python decodes a file name or argument that is not UTF-8 into lone surrogates
    (``os.fsdecode(b"caf\\xe9.csv")`` is ``"caf\\udce9.csv"``); no UTF-8 file can hold those, so
    records keep them as visible escapes, and the rest of the text as it was.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def safe_strings(value):
    """A copy of a JSON-like ``value`` with every str in it (keys too) passed through ``safe_text``."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(key) if isinstance(key, str) else key: safe_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_strings(item) for item in value]
    return value


def check_int_size(value: int, key: str) -> int:
    """``value``, or NumberTooLargeError when it has more digits than JSON readers accept."""
    if -TOO_LONG_INT < value < TOO_LONG_INT:
        return value
    raise NumberTooLargeError(key, _digits(value), MAX_INT_DIGITS)


def _digits(value: int) -> int:
    # str(value) is what is refused; the bit length gives the digit count to within one.
    return int(abs(value).bit_length() * 0.30103) + 1


class _Converter:
    """One ``to_jsonable`` call: remembers the containers on the current path to catch cycles."""

    def __init__(self):
        self._open: set[int] = set()

    def convert(self, value, path: str, depth: int):
        kind = type(value)
        if kind is str:
            return safe_text(value)
        if value is None or kind is bool:
            return value
        if kind is float:
            return value if math.isfinite(value) else NON_FINITE_TO_TEXT[repr(value)]
        if kind is int:
            return check_int_size(value, path)
        if isinstance(value, (bool, int, float, str)):  # subclasses: IntEnum, numpy.float64 ...
            return self.convert(_builtin_of(value), path, depth)
        if depth >= MAX_CONFIG_DEPTH:
            raise ConfigValueError(path, value, f"nested more than {MAX_CONFIG_DEPTH} levels deep")
        if id(value) in self._open:
            raise ConfigValueError(path, value, "it contains itself (a circular reference)")
        self._open.add(id(value))
        try:
            return self._container(value, path, depth + 1)
        finally:
            self._open.discard(id(value))

    def _container(self, value, path: str, depth: int):
        if isinstance(value, dict):
            converted = {}
            for key, item in value.items():
                name = safe_text(key if isinstance(key, str) else _key_text(key, path))
                converted[name] = self.convert(item, f"{path}.{name}", depth)
            return converted
        if isinstance(value, (list, tuple)):
            return [self.convert(item, f"{path}[{index}]", depth) for index, item in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            items = [self.convert(item, path, depth) for item in value]
            return sorted(items, key=repr)
        return self._other(value, path, depth)

    def _other(self, value, path: str, depth: int):
        import dataclasses
        import datetime
        import enum
        import os

        if isinstance(value, enum.Enum):
            return self.convert(value.value, path, depth)
        if isinstance(value, os.PathLike):
            path_text = os.fspath(value)
            return safe_text(path_text) if isinstance(path_text, str) else _bytes_text(path_text)
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return value.total_seconds()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: self.convert(getattr(value, f.name), f"{path}.{f.name}", depth)
                    for f in dataclasses.fields(value)}
        if type(value).__name__ == "Namespace" and hasattr(value, "__dict__"):  # argparse.Namespace
            return self._container(vars(value), path, depth)
        plain = plain_source(value, path)  # OmegaConf, click, pydantic: recognised without importing them
        if plain is not NOT_A_SOURCE:
            return self.convert(plain, path, depth)
        if hasattr(value, "tolist") and hasattr(value, "shape"):  # NumPy arrays and scalars
            size = getattr(value, "size", 0)
            if size <= MAX_CONFIG_ARRAY_ITEMS:
                return self.convert(value.tolist(), path, depth)
            return f"<array shape={tuple(value.shape)} dtype={getattr(value, 'dtype', '?')}>"
        if hasattr(value, "item"):
            try:
                item = value.item()
            except Exception:
                pass
            else:
                return self.convert(item, path, depth)
        if isinstance(value, bytes):
            return _bytes_text(value)
        return safe_text(_repr_with_warning(value, path))


def _key_text(key, path: str) -> str:
    """A dict key that is not a str, as text (``str()``, as before: 1 -> "1", True -> "True")."""
    if type(key) is int:
        check_int_size(key, path)
    try:
        return str(key)
    except Exception as exc:
        raise ConfigValueError(path, key, f"a key of type {type(key).__name__} whose str() raised "
                                          f"{type(exc).__name__}") from None


def _bytes_text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _builtin_of(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _repr_with_warning(value, path: str) -> str:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    try:
        text = repr(value)
    except Exception as exc:
        raise ConfigValueError(path, value, f"it is a {kind} whose repr() raised {type(exc).__name__}: {exc}; "
                                            "pass a str, number, list or dict instead") from None
    if not isinstance(text, str):
        raise ConfigValueError(path, value, f"it is a {kind} whose repr() returned a {type(text).__name__}")
    if kind not in _warned_types:
        _warned_types.add(kind)
        warnings.warn(f"tracker: {path} is a {kind}; stored as its repr", stacklevel=5)
    return text
