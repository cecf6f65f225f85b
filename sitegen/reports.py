"""Reports: the Markdown files of a reports folder as pages of the site, their view blocks filled from the runs.

One build step, run after the run pages: each ``*.md`` of the folder (default: ``reports/`` beside
the first runs folder) becomes ``reports/<slug>.html`` and ``data/reports/<slug>.js`` (the data
its charts draw, a script: no fetch, so file:// works). Reports are rebuilt on every build, with
the data of the day, and a report removed from the folder leaves the site with the next build.
The text is Markdown with raw HTML off, sanitized with nh3 like run notes (notes_html.py), its
token shapes redacted like every logged string. A block that cannot be filled is a problem
naming the file and line: the build warns and shows the rest (--strict refuses to publish).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from tracker.errors import RunFormatError
from tracker.reader import failure_reason
from tracker.report_draft import reports_folder

from .notes_html import render_markdown
from .redaction import redact_tokens
from .render import Renderer, data_script_text, script_json
from .report_blocks import ReportRuns, fill_block
from .report_source import Block, ReportBlockError, parse_report

MAX_REPORT_BYTES = 2 * 1024 * 1024  # a report is a hand-written page; anything larger is a mistake
DRAWN_KINDS = ("chart", "importance", "media")  # the blocks report-blocks.js draws from the data file


@dataclass
class SiteReports:
    """What the reports add to a site: its files (site path -> text), the index's links to them and
    the problems found (each naming a report file and line)."""

    texts: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def default_reports_folder(runs: list[str] | None) -> str:
    """``reports/`` beside the (first) runs folder: ./reports for ./tracker-runs (where `tracker
    report new` writes by default)."""
    return reports_folder(runs[0] if runs else None)


def find_report_files(folder: str) -> list[str]:
    """The ``*.md`` files directly in ``folder``, by name; none when the folder does not exist."""
    try:
        names = sorted(name for name in os.listdir(folder) if name.lower().endswith(".md"))
    except FileNotFoundError:
        return []
    return [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]


def report_page(slug: str) -> str:
    return f"reports/{slug}.html"


def report_data_file(slug: str) -> str:
    return f"data/reports/{slug}.js"


def build_reports(files: list[str], runs: ReportRuns, renderer: Renderer, settings) -> SiteReports:
    """Every report of ``files`` as pages, with ``runs`` (the site's runs) filling their blocks."""
    made = SiteReports()
    used: set[str] = set()
    for path in files:
        shown = display_path(path)
        try:
            text = read_report_text(path)
        except (OSError, ValueError) as exc:
            made.problems.append(f"{shown}: cannot read the report: {exc}")
            continue
        report = parse_report(shown, redact_tokens(text))
        slug = _unique(report.slug, used)
        parts, drawn, media_slugs = [], {}, []
        for number, part in enumerate(report.parts):
            if not isinstance(part, Block):
                if part.strip():  # the blank lines between two blocks make no paragraph
                    parts.append({"html": render_markdown(part)})
                continue
            data, problem = _filled(part, runs, shown)
            problem = problem and redact_tokens(problem)  # it may quote a metric or key a run logged
            if problem:
                made.problems.append(problem)
            parts.append({"block": data, "number": number, "problem": problem, "kind": part.kind,
                          "source": part.source})
            if data and part.kind in DRAWN_KINDS:
                drawn[str(number)] = data
            if data and part.kind == "media" and data["run"]["slug"] not in media_slugs:
                media_slugs.append(data["run"]["slug"])
        context = ({"title": settings.title, "root": "../", "page": "report", "slug": slug, "parts": parts,
                    "report": {"title": report.title, "file": os.path.basename(path)},
                    "media_slugs": media_slugs}
                   | settings.common("../", report_page(slug), f"Report: {report.title}"))
        made.texts[report_page(slug)] = renderer.render("report.html", context, shown)
        made.texts[report_data_file(slug)] = data_script_text("reports", slug, script_json({"blocks": drawn}))
        made.links.append({"title": report.title, "url": report_page(slug)})
    return made


def _filled(block: Block, runs: ReportRuns, shown: str) -> tuple[dict | None, str | None]:
    """(the block's data, None), or (None, the problem naming the file and line)."""
    if block.problem:
        return None, block.problem
    try:
        return fill_block(block, runs, shown), None
    except ReportBlockError as exc:
        return None, str(exc)
    except (RunFormatError, OSError) as exc:  # a run changed or vanished since its page was made
        path = getattr(exc, "filename", None) or ""
        return None, f"{shown}:{block.line}: a run the block needs could not be read: {failure_reason(path, exc)}"


def read_report_text(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        raise ValueError(f"larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
    return data.decode("utf-8-sig")  # UnicodeDecodeError is a ValueError: named with the file


def display_path(path: str) -> str:
    """A report's path as messages name it: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _unique(slug: str, used: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in used:
        candidate, number = f"{slug}-{number}", number + 1
    used.add(candidate)
    return candidate
