"""Report files: a Markdown file cut into its text and its fenced view blocks, each block's options read.

Pure: text in, parts out. A fence whose info string is a block kind (```chart, ```runs, ```compare,
```media, ```importance) is a view the build fills from the runs; any other fence stays code.
Inside a block, one ``key: value`` per line in a YAML subset that needs no YAML library (the site's
packages have none): values are numbers, true/false/null, "double-quoted" or 'single-quoted'
strings, flow lists ``[a, b]``, ``- item`` lines under a key with no value, or plain text to the end
of the line (so ``filter: group:sweep-42 status:finished`` needs no quotes); ``#`` after a space
starts a comment. docs/reports.md is the user's reference.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from .errors import SiteError

BLOCK_KINDS = ("chart", "runs", "compare", "media", "importance")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)[^`]*$")
_KEY = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s+(?P<value>.*)|\s*)$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_HEADING = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")


class ReportBlockError(SiteError):
    """A report's block the build cannot fill: bad options, an unknown metric, run or key, or a
    filter that selects no run. Names the report file and the block's first line (its fence)."""

    def __init__(self, path: str, line: int, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}:{line}: {problem}")


@dataclass
class Block:
    """One fenced view block: its kind, the line of its opening fence (1-based) and its options."""

    kind: str
    line: int
    options: dict
    source: str  # the text inside the fence
    problem: str | None = None  # why its options could not be read (the build reports it, the page says so)


@dataclass
class ReportText:
    """A report file cut into parts: Markdown text (str) and Blocks, in the file's order."""

    path: str
    slug: str
    title: str
    parts: list = field(default_factory=list)


def report_slug(path: str) -> str:
    """The page name of a report file: its stem, lowercased, anything but letters, digits, '-', '_' as '-'."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-") or "report"


def parse_report(path: str, text: str) -> ReportText:
    """Cut ``text`` (the file at ``path``) into Markdown parts and view blocks. A block whose
    options cannot be read, or that is never closed, keeps the ReportBlockError as its problem."""
    lines = text.splitlines()
    report = ReportText(path, report_slug(path), "")
    markdown: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            heading = None if report.title else _HEADING.match(lines[index])  # the first '# ' outside code
            report.title = heading.group("title") if heading else report.title
            markdown.append(lines[index])
            index += 1
            continue
        closing = _closing_fence(lines, index + 1, opening.group("fence"))
        kind = opening.group("info").lower()
        if kind not in BLOCK_KINDS:  # a code block: kept whole, so a fence inside it is not read as a block
            end = len(lines) if closing is None else closing + 1
            markdown.extend(lines[index:end])
            index = end
            continue
        body = lines[index + 1:len(lines) if closing is None else closing]
        if markdown:
            report.parts.append("\n".join(markdown))
            markdown = []
        block = Block(kind, index + 1, {}, "\n".join(body))
        try:
            if closing is None:
                raise ReportBlockError(path, index + 1, f"the ```{kind} block is never closed "
                                                        f"(a line of {opening.group('fence')})")
            block.options = read_options(body, path, index + 2)
        except ReportBlockError as exc:
            block.problem = str(exc)
        report.parts.append(block)
        index = len(lines) if closing is None else closing + 1
    if markdown:
        report.parts.append("\n".join(markdown))
    report.title = report.title or os.path.splitext(os.path.basename(path))[0]
    return report


def _closing_fence(lines: list[str], start: int, fence: str) -> int | None:
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return index
    return None


def read_options(body: list[str], path: str, first_line: int) -> dict:
    """A block's ``key: value`` lines as a dict; ``first_line`` is the file line of body[0]."""
    options: dict = {}
    open_list: str | None = None  # a key written with no value, whose "- item" lines follow
    for offset, raw in enumerate(body):
        line = _strip_comment(raw).rstrip()
        number = first_line + offset
        if not line.strip():
            continue
        if line.lstrip().startswith("- ") or line.strip() == "-":
            if open_list is None:
                raise ReportBlockError(path, number, f"a list item outside a list: {raw.strip()!r}")
            options[open_list].append(_scalar(line.lstrip()[1:].strip(), path, number))
            continue
        match = _KEY.match(line)
        if not match or line[0].isspace():
            raise ReportBlockError(path, number, f"expected 'key: value', got {raw.strip()!r}")
        key, value = match.group("key"), match.group("value")
        if key in options:
            raise ReportBlockError(path, number, f"{key!r} is given twice")
        if value is None or not value.strip():
            options[key] = []
            open_list = key
        else:
            options[key] = _value(value.strip(), path, number)
            open_list = None
    return options


def _strip_comment(line: str) -> str:
    """The line without a ' #...' comment outside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == "\\" and quote == '"':
                continue
            if char == quote:
                quote = None
        elif char in "\"'" and (index == 0 or line[index - 1] in " [,:"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _value(text: str, path: str, line: int):
    if text.startswith("["):
        if not text.endswith("]"):
            raise ReportBlockError(path, line, f"a list must end with ']': {text!r}")
        inner = text[1:-1].strip()
        return [_scalar(item.strip(), path, line) for item in _split_items(inner, path, line)] if inner else []
    if text.startswith("{"):
        raise ReportBlockError(path, line, f"a nested mapping is not supported here: {text!r}")
    return _scalar(text, path, line)


def _split_items(text: str, path: str, line: int) -> list[str]:
    """A flow list's items, split on commas outside quotes."""
    items, start, quote = [], 0, None
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = None
        elif char in "\"'":
            quote = char
        elif char == ",":
            items.append(text[start:index])
            start = index + 1
        elif char in "[]{}":
            raise ReportBlockError(path, line, f"nested lists are not supported: [{text}]")
    if quote:
        raise ReportBlockError(path, line, f"a quote is never closed in [{text}]")
    items.append(text[start:])
    return items


def _scalar(text: str, path: str, line: int):
    if text.startswith('"'):
        try:
            return json.loads(text)  # a YAML double-quoted string is read as JSON's, for the escapes used
        except ValueError:
            raise ReportBlockError(path, line, f"a bad double-quoted string: {text}") from None
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise ReportBlockError(path, line, f"a single-quoted string is never closed: {text}")
        return text[1:-1].replace("''", "'")
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in ("null", "~", ""):
        return None
    if _NUMBER.match(text):
        number = float(text)
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else number
    return text
