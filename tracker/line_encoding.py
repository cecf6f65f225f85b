"""Records to JSON-lines bytes for the writer thread: a whole batch at once, record by record only
when the batch fails.

A batch is encoded with one list comprehension and one ``encode``: the fast path. Something in a
record can still defeat it (the caller sanitises values, but the writer must not trust that):
a lone surrogate (what Python makes of a non-UTF-8 file name) cannot be encoded as UTF-8, and an
int of over 4,300 digits cannot be turned into text at all. Then the batch is encoded again one
record at a time, so only the record at fault is affected: a surrogate is written escaped as the
text ``\\udcXX`` (as ``values.safe_text`` does at the call) and the record kept; any other record
that cannot be encoded is dropped. Either way a warning names the record type and the key.

The writer's encoder also folds every batch into the file's state (end_state.py) and writes that
state into the ``end`` record, so readers of a finished run need not read the lines before it.
"""
from __future__ import annotations

import re
from math import isfinite
from typing import Callable

from .end_state import FileState
from .values import compact_json, encode_line

METRICS_PREFIX = '{"type":"metrics","step":'
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_FAULT_DEPTH = 20  # how deep the search for the key at fault goes into nested values


def queued_metrics(step: int, wall_time: float, values: dict) -> tuple:
    """A metrics record as the writer queues it: ``(step, time, *numbers, keys)``, the values as
    their numbers and a tuple of their keys, not a dict. A tuple holding a dict stays tracked by the
    cycle collector however long it waits in the queue, and tens of thousands waiting made each full
    collection of the training process walk them (a tenth of what log() cost); a tuple of numbers
    and strs is untracked by the first collection that sees it. One tuple a record (the writer
    reuses the keys tuple while the keys stay the same) also makes the collections themselves
    rarer: each counts the objects made and still alive. RecordWriter.put_metrics makes the same
    tuple inline (the hot path)."""
    return (step, wall_time, *values.values(), tuple(values))


def queued_values(item: tuple) -> dict:
    """The values of a queued metrics record, as logged."""
    return dict(zip(item[-1], item[2:-1]))


class BatchEncoder:
    """Encodes batches of queued items: metrics tuples (``queued_metrics``) and record dicts.

    ``warn(cause, message)`` is called once per record that is escaped or dropped; the caller
    decides how often a cause is shown.
    """

    def __init__(self, warn: Callable[[str, str], None], file_state: FileState | None = None):
        self._warn = warn
        self._metrics_line = MetricsLineEncoder().line
        self.file_state = file_state

    def encode(self, items: list) -> bytes:
        """The items as UTF-8 JSON lines, dropping (with a warning) only what cannot be encoded.
        With a ``file_state``, the items are folded into it and an ``end`` record gets its state."""
        state = self.file_state
        if state is None or not state.valid:
            return self._encode_items(items)
        parts = []
        while items:
            try:
                end_at = state.fold(items)
            except Exception:  # a record not shaped as the client makes them: no state can stand for it
                state.invalidate()
                end_at = None
            before = items if end_at is None else items[:end_at]
            if before:
                parts.append(self._encode_items(before))
                state.wrote(len(parts[-1]))
            if end_at is None:
                break
            parts.append(self._encode_items([state.end_record(items[end_at])]))
            state.wrote(len(parts[-1]))
            items = items[end_at + 1:]
        return b"".join(parts)

    def _encode_items(self, items: list) -> bytes:
        metrics_line = self._metrics_line
        try:
            return "".join([metrics_line(item) if type(item) is tuple else encode_line(item) + "\n"
                            for item in items]).encode("utf-8")
        except Exception:  # anything a value's own __repr__ or json raises: find the record at fault
            if self.file_state is not None:
                self.file_state.invalidate()  # a record dropped or escaped: the state would not match the file
            return b"".join(self._encode_one(item) for item in items)

    def _encode_one(self, item) -> bytes:
        try:
            line = self._metrics_line(item) if type(item) is tuple else encode_line(item) + "\n"
        except Exception as exc:
            kind, where = _describe(item)
            self._warn(f"drop:{kind}:{where}",
                       f"tracker: dropped a {kind} record that cannot be written ({where}: {_reason(exc)}); "
                       "the records around it are kept")
            return b""
        try:
            return line.encode("utf-8")
        except UnicodeEncodeError:
            kind, where = _describe(item)
            self._warn(f"escape:{kind}:{where}",
                       f"tracker: a {kind} record has text that is not valid Unicode ({where}); "
                       "it is written with the bad characters escaped as \\udcXX")
            return _SURROGATE.sub(_escaped, line).encode("utf-8")


def _escaped(match: re.Match) -> str:
    # JSON writes a backslash as two: the text read back is the six characters \udce9, the escape
    # values.safe_text makes at the call.
    return "\\\\u%04x" % ord(match.group())


def _describe(item) -> tuple[str, str]:
    """The record type and where in it the fault is, e.g. ("metrics", "step 3, key 'x'")."""
    if type(item) is tuple:
        return "metrics", f"step {item[0]}, " + (_fault_in(queued_values(item), "key") or "values")
    kind = item.get("type") if isinstance(item, dict) else None
    return str(kind) if isinstance(kind, str) else "unknown", _fault_in(item, "field") or "the record"


def _fault_in(value: dict, label: str) -> str | None:
    """``label 'a.b'``: the deepest entry of ``value`` that fails to encode on its own."""
    path = _fault_path(value, [])
    return f"{label} {'.'.join(path)!r}" if path else None


def _fault_path(value, path: list[str]) -> list[str]:
    if not isinstance(value, (dict, list, tuple)) or len(path) >= _MAX_FAULT_DEPTH:
        return path
    entries = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in entries:
        if not _encodes({key: item} if isinstance(value, dict) else [item]):
            return _fault_path(item, [*path, _printable(key)])
    return path


def _encodes(value) -> bool:
    try:
        encode_line(value).encode("utf-8")
        return True
    except Exception:
        return False


def _printable(key) -> str:
    return _SURROGATE.sub(lambda match: "\\u%04x" % ord(match.group()), str(key))


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


class MetricsLineEncoder:
    """Metrics records as JSON lines, through a %-format template per key set.

    Training loops log the same keys every step, so the JSON for the keys is built once and each
    line is one C-level format call: cheaper than json.dumps of a fresh dict. A line with a
    non-finite value (which the template would write as the invalid JSON ``nan``/``inf``) goes
    through the general encoder instead, which writes the value's text marker; so do key sets past
    MAX_TEMPLATES. Both paths give the same bytes for finite values.
    """

    MAX_TEMPLATES = 1_000

    def __init__(self):
        self._templates: dict[tuple, str | None] = {}

    def line(self, item: tuple) -> str:
        """The line of a metrics record as it is queued (queued_metrics)."""
        keys = item[-1]
        template = self._templates.get(keys, False)
        if template is False:
            template = self._template(keys) if len(self._templates) < self.MAX_TEMPLATES else None
            self._templates[keys] = template
        if template is not None:
            # The values are checked, not the line: a check of the text for 'nan'/'inf' had to turn the
            # template off for names such as 'inference_ms'. sum() adds the floats in C and is finite only
            # if every value is (a NaN or an infinity carries through); a sum that overflows, or an int too
            # large for a float, only sends the line to the general encoder, which is right for any value
            # (and, unlike '%r', writes valid JSON for a value that is not a number, should one get here).
            try:
                finite = isfinite(sum(item[2:-1]))
            except (OverflowError, TypeError):
                finite = False
            if finite:
                return template % item[:-1]
        return f'{METRICS_PREFIX}{item[0]},"time":{item[1]!r},"values":{encode_line(queued_values(item))}}}\n'

    @staticmethod
    def _template(keys: tuple) -> str:
        fields = ",".join(compact_json(key).replace("%", "%%") + ":%r" for key in keys)
        return METRICS_PREFIX + '%d,"time":%r,"values":{' + fields + "}}\n"
