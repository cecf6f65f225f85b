"""The run filter language: ``status:failed lr>=1e-3 -tag:debug`` and sort keys like ``-summary.loss``.

Used by ``tracker ls --filter/--sort``. ``themes/default/static/js/query.js`` implements the same
rules for the site's search box, and ``tests/query_cases.json`` holds the cases both must pass,
so change the two together. docs/query.md is the user's reference.

Grammar::

    query  := term*                        whitespace-separated; every term must match
    term   := ["-"] (phrase | word | field OP value)        a leading "-" negates
    OP     := "=" | ":" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    value  := a bare word, or a "double-quoted string" where \\ escapes the next character

- ``:`` is ``=``. ``=`` and ``!=`` compare whole values, with ``*`` as a wildcard (``name:resnet*``);
  ``~`` is a substring test. A word or phrase with no operator is free text: a substring of the
  id, name, project, group, tags, notes, user or host. All text matching ignores case.
- Fields: id, name, project, group, status, tag (tags), user, host, notes, created, duration
  (duration_s). Any other name is a dotted path into config, then summary; ``config.``/``params.``
  and ``summary.``/``metrics.`` pick one side.
- When the field's value and VALUE both read as numbers (``1e-3``, ``-5``, ``inf``, ``nan``, and the
  stored strings "NaN", "Infinity", "-Infinity") they compare as numbers, otherwise as text;
  booleans read as ``true``/``false``. ``created`` also takes a UTC date, ``2025-11-23[THH:MM[:SS]]``.
  NaN fails every ordering but ``=nan`` finds it, so diverged runs can be found.
- A field that is absent, null, an empty list or a nested table is missing: the term is false and
  its negation true. A list matches when any element does (``!=``: when none equals VALUE).

A bad query raises QueryError with the 0-based position of the first problem.
"""
import datetime
import functools
import math
import operator
import re

__all__ = ["Query", "QueryError", "filter_runs", "matches", "parse", "resolve_field", "sort_key"]

# Two-character operators first, so ">=" is not read as ">" followed by a value "=...".
OPERATORS = (">=", "<=", "!=", "=", ":", ">", "<", "~")
OPERATOR_CHARS = frozenset("=:!<>~")
WHITESPACE = frozenset(" \t\r\n")
RUN_FIELDS = {
    "id": "id", "name": "name", "project": "project", "group": "group", "status": "status",
    "tag": "tags", "tags": "tags", "user": "user", "host": "host", "notes": "notes",
    "created": "created", "duration": "duration_s", "duration_s": "duration_s",
}
SECTION_PREFIXES = {"config": "config", "params": "config", "summary": "summary", "metrics": "summary"}
FREE_TEXT_FIELDS = ("id", "name", "project", "group", "tags", "notes", "user", "host")

_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")
_COMPARE = {"=": operator.eq, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class QueryError(ValueError):
    """Raised by parse() for a query outside the grammar; `position` is a 0-based index into `query`."""

    def __init__(self, query: str, position: int, problem: str):
        self.query = query
        self.position = position
        self.problem = problem
        super().__init__(f"invalid filter '{query}': {problem} at position {position}")


class Query:
    """A parsed filter; `matches(run)` is true when every term matches."""

    __slots__ = ("text", "terms")

    def __init__(self, text, terms):
        self.text = text
        self.terms = tuple(terms)

    def matches(self, run: dict) -> bool:
        """True when `run` (a run record dict) satisfies every term."""
        return all(term.matches(run) != term.negated for term in self.terms)

    def __repr__(self):
        return f"Query({self.text!r})"


class _FreeText:
    __slots__ = ("needle", "negated")

    def __init__(self, needle, negated):
        self.needle = needle.lower()
        self.negated = negated

    def matches(self, run):
        return any(
            self.needle in _text(item).lower()
            for name in FREE_TEXT_FIELDS
            for item in _items(run.get(name))
        )


class _Comparison:
    __slots__ = ("field", "op", "value", "number", "glob", "negated")

    def __init__(self, field, op, value, number, negated):
        self.field = field
        self.op = "=" if op == ":" else op
        self.value = value.lower()
        self.number = number
        self.glob = self.value.split("*") if self.op in ("=", "!=") and "*" in value else None
        self.negated = negated

    def matches(self, run):
        items = _items(resolve_field(run, self.field))
        if self.op == "!=":
            return bool(items) and not any(self._test(item, "=") for item in items)
        return any(self._test(item, self.op) for item in items)

    def _test(self, actual, op):
        if op == "~":
            return self.value in _text(actual).lower()
        actual_number = _as_number(actual) if self.number is not None else None
        if actual_number is not None:
            if op == "=" and math.isnan(self.number):
                return math.isnan(actual_number)
            return _COMPARE[op](actual_number, self.number)
        if self.glob is not None:
            return _glob_matches(self.glob, _text(actual).lower())
        return _COMPARE[op](_text(actual).lower(), self.value)


def parse(text: str) -> Query:
    """Parse a filter query into a Query; raise QueryError at the first problem."""
    terms = []
    position = _skip_whitespace(text, 0)
    while position < len(text):
        term, position = _parse_term(text, position)
        terms.append(term)
        position = _skip_whitespace(text, position)
    return Query(text, terms)


def matches(text: str, run: dict) -> bool:
    """True when `run` satisfies the query `text`."""
    return parse(text).matches(run)


def filter_runs(text: str, runs: list[dict]) -> list[dict]:
    """The runs that satisfy the query `text`, in their original order."""
    query = parse(text)
    return [run for run in runs if query.matches(run)]


def resolve_field(run: dict, field: str) -> object:
    """The value `field` names in `run` by the filter's rules, or None when it is missing.

    Run fields first (``tag`` -> tags, ``duration`` -> duration_s), then ``config.``/``params.`` or
    ``summary.``/``metrics.`` prefixed paths, then a dotted path into config and, failing that, summary.
    """
    if field in RUN_FIELDS:
        return run.get(RUN_FIELDS[field])
    prefix, dot, path = field.partition(".")
    if dot and prefix in SECTION_PREFIXES:
        return _lookup(run.get(SECTION_PREFIXES[prefix]), path)
    found = _lookup(run.get("config"), field)
    return found if found is not None else _lookup(run.get("summary"), field)


def sort_key(field: str):
    """A key for sorted(): numbers numerically, text ignoring case, missing and NaN last.

    A leading "-" sorts descending; missing values stay last either way.
    Example: ``sorted(runs, key=sort_key("-summary.acc"))``.
    """
    descending = field.startswith("-")
    name = field[1:] if descending else field

    def compare(a, b):
        left, right = _sort_value(resolve_field(a, name)), _sort_value(resolve_field(b, name))
        if left is None or right is None:
            return (left is None) - (right is None)
        order = (left > right) - (left < right)
        return -order if descending else order

    return functools.cmp_to_key(compare)


def _parse_term(text, start):
    negated = text[start] == "-"
    position = start + 1 if negated else start
    if negated and (_at_boundary(text, position) or text[position] == "-"):
        raise QueryError(text, position, "expected a term after '-'")
    if text[position] == '"':
        phrase, end = _read_quoted(text, position)
        return _FreeText(phrase, negated), end
    field_end = _scan_word(text, position, OPERATOR_CHARS | {'"'})
    field = text[position:field_end]
    if _at_boundary(text, field_end):
        return _FreeText(field, negated), field_end
    if text[field_end] == '"':
        raise QueryError(text, field_end, "unexpected '\"' inside a word; quote the whole word")
    op, value_start = _read_operator(text, field_end)
    if not field:
        raise QueryError(text, position, f"missing field before '{op}'")
    if _at_boundary(text, value_start):
        raise QueryError(text, value_start, f"missing value after '{op}'")
    if text[value_start] in OPERATOR_CHARS:
        raise QueryError(text, value_start, f"unexpected '{text[value_start]}' after '{op}'")
    if text[value_start] == '"':
        value, end = _read_quoted(text, value_start)
    else:
        end = _scan_word(text, value_start, {'"'})
        if not _at_boundary(text, end):
            raise QueryError(text, end, "unexpected '\"' inside a value; quote the whole value")
        value = text[value_start:end]
    number = _as_number(value)
    date = _DATE.fullmatch(value) if number is None and RUN_FIELDS.get(field) == "created" else None
    if date:
        number = _utc_timestamp(date)
        if number is None:
            raise QueryError(text, value_start, f"invalid date '{value}'")
    return _Comparison(field, op, value, number, negated), end


def _read_operator(text, position):
    for op in OPERATORS:
        if text.startswith(op, position):
            return op, position + len(op)
    raise QueryError(text, position, f"unknown operator '{text[position]}'")


def _read_quoted(text, start):
    """The unescaped content of the quoted string opening at `start`, and the index after it."""
    chars = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            chars.append(text[position + 1])
            position += 2
        elif char == '"':
            if not _at_boundary(text, position + 1):
                raise QueryError(text, position + 1, "expected a space after the closing quote")
            return "".join(chars), position + 1
        else:
            chars.append(char)
            position += 1
    raise QueryError(text, start, "unterminated quote")


def _scan_word(text, position, stop_chars):
    while not _at_boundary(text, position) and text[position] not in stop_chars:
        position += 1
    return position


def _skip_whitespace(text, position):
    while position < len(text) and text[position] in WHITESPACE:
        position += 1
    return position


def _at_boundary(text, position):
    return position >= len(text) or text[position] in WHITESPACE


def _glob_matches(parts, text):
    """Whether ``text`` matches the pattern whose pieces between ``*`` are ``parts``.

    Linear time, where a regular expression backtracks: ``*a*a*c`` against a long run of "a"s
    took seconds (one more ``*a``, minutes). The first piece must start the text and the last end
    it; each piece between must occur after the one before, and its leftmost occurrence is always
    the best choice (leaving the most text to the rest), so one ``find`` per piece decides.
    """
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for part in middle:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _utc_timestamp(match):
    # UTC, not the local zone, so the CLI and every visitor's browser keep the same runs.
    parts = [int(part) for part in match.groups(default="0")]
    try:
        return datetime.datetime(*parts, tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:  # 2025-13-01, 2025-02-30
        return None


def _lookup(table, path):
    """Follow a dotted path through nested dicts; a key that itself holds dots ("data.aug") also works."""
    if not isinstance(table, dict):
        return None
    if path in table:
        return table[path]
    for index, char in enumerate(path):
        if char == "." and path[:index] in table:
            found = _lookup(table[path[:index]], path[index + 1:])
            if found is not None:
                return found
    return None


def _items(value):
    """The comparable scalars in a field value: a list's elements, or the value itself."""
    values = value if isinstance(value, list) else [value]
    return [item for item in values if item is not None and not isinstance(item, (dict, list))]


def _as_number(value):
    """A number, or a string spelled as one ("1e-3", "NaN", "-Infinity"), as a float; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return float(value) if isinstance(value, str) and _NUMBER.fullmatch(value) else None


def _text(value):
    """A scalar as text; booleans, whole floats and non-finite floats as JavaScript's String() spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _sort_value(value):
    """(rank, key) with numbers before text, or None for a missing value or NaN."""
    items = _items(value)
    if not items:
        return None
    number = _as_number(items[0]) if len(items) == 1 else None
    if number is not None:
        return None if math.isnan(number) else (0, number)
    return (1, ", ".join(_text(item).lower() for item in items))
