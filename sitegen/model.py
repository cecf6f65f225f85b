"""Page contexts and page data: a (redacted) RunSource -> plain dicts the templates and scripts read.

Pure: no file access. Display text is formatted here so templates stay simple; numbers a script
needs go into the data dicts, non-finite floats as the strings "NaN", "Infinity", "-Infinity"
(the same markers as the run records and TrackerQuery).
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import time
from dataclasses import dataclass

from tracker.formatting import flatten, format_bytes, format_duration, format_value
from tracker.notify.event import LEVELS
from tracker.reproduction import DIFF_DOWNLOAD, REQUIREMENTS_DOWNLOAD, plan_reproduction, shell_script
from tracker.values import replace_non_finite

from .environments import SharedEnvironment, shared_environment
from .errors import SiteError
from .load import RunSource, is_reduced, run_slug
from .notes_html import render_markdown
from .run_nodes import nodes_context, run_nodes, system_groups
from .metrics_csv import METRICS_CSV_FILE
from .theme import Theme

NOSCRIPT_RUNS = 1000  # runs the index lists for readers without JavaScript (newest first)
SHORT_COMMIT_CHARS = 7
PACKAGES_FINGERPRINT_CHARS = 16  # enough to tell environments apart, small in an index of many runs
HEX_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
REMOTE = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?(github\.com|gitlab\.com)[:/](.+?)(?:\.git)?/?$")


def run_folder(slug: str) -> str:
    """The site folder of a run's page and downloads."""
    return f"runs/{slug}"


def run_data_file(slug: str) -> str:
    """The site file of a run's chart data."""
    return f"data/runs/{slug}.js"


def run_url(source: RunSource) -> str:
    """The run page, relative to the site root (explicit index.html: file:// lists folders)."""
    return f"{run_folder(source.slug)}/index.html"


def index_row(source: RunSource) -> dict:
    """One run in the index data: the as_filterable() shape, where its page is, and what the compare
    view needs to say whether code, data and environment differ (kept small: no package lists).
    Its keys and types are docs/site-data.md's table, pinned by tests/contracts/index_row.json."""
    run = source.run
    fields = replace_non_finite(run.as_filterable())
    git = run.git if isinstance(run.git, dict) else {}
    commit = git.get("commit") if isinstance(git.get("commit"), str) else None
    return fields | {"url": run_url(source), "slug": source.slug, "last_seen": run.last_seen,
                     "commit": commit[:SHORT_COMMIT_CHARS] if commit else None,
                     "datasets": {str(record.get("name")): record.get("sha256") for record in run.datasets
                                  if isinstance(record, dict)},
                     "packages": packages_fingerprint(run.environment),
                     # the compare view loads data/media/<slug>.js only for a run that has one
                     "media": len(run.media),
                     "alerts": len(run.alerts)}  # a badge on the index links to the run page's alerts


def packages_fingerprint(environment: object) -> str | None:
    """sha256 of the sorted name==version lines, short: equal for runs with the same packages."""
    packages = environment.get("packages") if isinstance(environment, dict) else None
    if not isinstance(packages, dict) or not packages:
        return None
    lines = "\n".join(sorted(f"{name}=={version}" for name, version in packages.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()[:PACKAGES_FINGERPRINT_CHARS]


ROW_HEAD_FIELDS = ("id", "slug", "url", "name", "project", "status", "created")


def row_head(row: dict) -> dict:
    """The fields of an index row that the site pages need from every run (order, noscript list,
    projects), kept apart so that a rebuild never parses the rows of unchanged runs."""
    return {name: row[name] for name in ROW_HEAD_FIELDS}


def compare_context(title: str) -> dict:
    """The compare page: one static page; which runs it shows comes from its URL's hash."""
    return {"title": title, "root": "", "page": "compare"}


def project_context(title: str) -> dict:
    """The project page: one static page; which project and metric it shows come from its URL's hash."""
    return {"title": title, "root": "", "page": "project"}


def index_context(title: str, heads: list[dict], errors: list[tuple[str, str]]) -> dict:
    """The index page; ``heads`` are row_head()s, oldest first (the newest are listed for readers
    without JavaScript)."""
    projects = sorted({head["project"] for head in heads})
    return {"title": title, "root": "", "page": "index", "errors": [{"path": p, "reason": r} for p, r in errors],
            "runs": [{"name": head["name"] or head["id"], "url": head["url"], "project": head["project"],
                      "status": head["status"]} for head in heads[-NOSCRIPT_RUNS:]],
            "run_count": len(heads), "projects": projects, "generated": _utc(build_time())}


def build_time() -> float:
    """When the site says it was built: now, or SOURCE_DATE_EPOCH's seconds where set (the
    reproducible-builds convention), so that two builds of the same runs are the same bytes."""
    pinned = os.environ.get("SOURCE_DATE_EPOCH")
    if pinned is None:
        return time.time()
    try:
        return float(int(pinned))
    except ValueError:
        raise SiteError(f"SOURCE_DATE_EPOCH={pinned!r} is not a whole number of seconds since 1970") from None


@dataclass
class PageSettings:
    """What every page of one build shares (picklable: the build's worker processes get a copy)."""

    title: str
    theme: Theme
    plotly: str                 # site-relative path of plotly.js
    generator: str              # "tracker <version>"
    base_url: str | None = None
    now: float | None = None    # the time a running run's heartbeat is judged at (None: each read's clock)

    def common(self, root: str, page_path: str, description: str) -> dict:
        """Context every template gets: where assets are, the canonical URL, the description."""
        canonical = f"{self.base_url.rstrip('/')}/{page_path}" if self.base_url else None
        return {"assets": f"{root}assets", "plotly": f"{root}{self.plotly}", "canonical": canonical,
                "generator": self.generator, "description": description}


PREVIEW_METRICS = 3  # summary values named in a run page's link preview


def run_description(run) -> str:
    """One line for link previews in chat tools: status, project, a few summary values."""
    values = ", ".join(f"{name} {format_value(value)}" for name, value in list(run.summary.items())[:PREVIEW_METRICS])
    return f"{run.status.capitalize()} run in {run.project}" + (f": {values}" if values else "")


def run_context(title: str, source: RunSource) -> dict:
    run = source.run
    shared = shared_environment(source)
    code = run.code if isinstance(run.code, dict) else {}
    environment = run.environment if isinstance(run.environment, dict) else {}
    git = git_context(run.git, source)
    nodes = run_nodes(run)
    summary = [{"name": name, "text": format_value(value),
                "special": isinstance(value, float) and not math.isfinite(value)}
               for name, value in sorted(run.summary.items())]
    return {
        "title": title, "root": "../../", "page": "run", "slug": source.slug,
        "run": {"id": run.id, "name": run.name or run.id, "project": run.project, "group": run.group,
                "status": run.status, "created": _utc(run.created), "created_iso": _iso(run.created),
                "duration": format_duration(run.duration_s), "user": run.user, "host": run.host,
                "last_seen": _utc(run.last_seen, seconds=True) if run.last_seen else None,
                "last_seen_iso": _iso(run.last_seen) if run.last_seen else None,
                "error": run.error, "tags": list(run.tags),
                # the source and its run id; not the path it was read from, a path of some machine
                "imported_from": {key: run.imported_from.get(key) for key in ("source", "id")}
                if run.imported_from else None,
                "warnings": [relative_to_runs_folder(warning, run.path) for warning in run.warnings]},
        "command_line": _command_line(code),
        "notes_html": render_markdown(run.notes),
        "config": [{"key": key, "text": format_value(value)} for key, value in flatten(run.config).items()],
        "summary": summary,
        "metric_names": list(run.histories), "system_names": list(run.system),
        "system_groups": system_groups(run, nodes), "nodes": nodes_context(run, nodes),
        "reduced_notes": {"metrics": reduced_notes(run.histories, "; the CSV has all"), "system": reduced_notes(run.system)},
        "csv_file": METRICS_CSV_FILE if is_reduced(run) else None,
        "datasets": [described(record, first=("name", "kind", "path", "rows", "size_bytes", "sha256"))
                     for record in run.datasets if isinstance(record, dict)],
        "git": git, "code": described(code, skip=("command", "command_line", "files", "env_files")),
        "environment": described(environment, skip=("packages", "env", "package_sources")),  # sources: in requirements.txt
        "shared_environment": shared_environment_context(shared, environment),
        "env_vars": sorted((str(k), str(v)) for k, v in (environment.get("env") or {}).items())
        if isinstance(environment.get("env"), dict) else [],
        "hardware": described(run.hardware if isinstance(run.hardware, dict) else {}, skip=("gpus",)),
        "gpus": [described(gpu) if isinstance(gpu, dict) else [("device", str(gpu))]
                 for gpu in (run.hardware or {}).get("gpus") or []] if isinstance(run.hardware, dict) else [],
        "artifacts": [{"name": plan.name, "size": format_bytes(plan.size_bytes), "sha256": plan.sha256,
                       "href": f"artifacts/{plan.site_name}" if plan.site_name else None,
                       "skipped": plan.skipped, "image": plan.is_image} for plan in source.artifacts],
        "console": {"segments": console_segments(source), "cut": source.console_cut} if source.console_text else None,
        "reproduce": reproduce_context(source, shared),
        "alerts": alerts_context(run.alerts),
    }


def alerts_context(records: list) -> list[dict]:
    """The run page's alerts (partials/alerts.html), newest first; a level the client does not
    write is shown as it is, styled as none of the three."""
    return [{"title": record["title"], "text": record.get("text") or "", "level": record.get("level") or "warn",
             "known_level": (record.get("level") or "warn") in LEVELS, "step": record.get("step"),
             "time": _utc(record.get("time"), seconds=True), "time_iso": _iso(record.get("time"))}
            for record in reversed(records)]


def shared_environment_context(shared: SharedEnvironment | None, environment: dict) -> dict | None:
    """The run page's line for its shared environment files: Python, how many packages, the links."""
    if shared is None:
        return None
    python = environment.get("python")
    return {"href": f"../../{shared.page}", "packages": len(shared.packages),
            "python": str(python) if python else None,
            "requirements_href": f"../../{shared.requirements}" if shared.requirements else None}


def reduced_notes(histories: dict, suffix: str = "") -> dict[str, str]:
    """{series name: "showing 5,000 of 1,000,000 points"} for the series reduced while reading."""
    return {name: f"showing {len(history):,} of {history.count:,} points{suffix}"
            for name, history in histories.items() if history.count > len(history)}


def relative_to_runs_folder(text: str, run_path: str) -> str:
    """A read warning with the runs folder left out of the paths it names ("<run id>/events.jsonl:3: ..."):
    the folder the build read is a path on the build machine, which no page shows."""
    runs_folder = os.path.dirname(os.path.normpath(run_path))
    for prefix in {runs_folder, os.path.realpath(runs_folder)} - {"", os.sep}:
        text = text.replace(prefix + os.sep, "")
    return text


def console_segments(source: RunSource) -> list[tuple[str, str]]:
    """The console text as (CSS classes, text) pieces; lines that redaction changed are plain."""
    if source.console_styles is None:
        return [("", source.console_text or "")]
    return source.console_styles.segments(source.console_text)


def git_context(git: dict | None, source: RunSource) -> dict | None:
    if not isinstance(git, dict) or not (git.get("commit") or git.get("in_repo")):
        return None
    commit = git.get("commit") if isinstance(git.get("commit"), str) else None
    lines = [(_diff_class(line), line) for line in (source.diff_text or "").splitlines()]
    return {"commit": commit, "short": commit[:10] if commit else None, "branch": git.get("branch"),
            "remote": git.get("remote_url"), "commit_url": commit_url(git.get("remote_url"), commit),
            "dirty": bool(git.get("dirty")), "untracked": git.get("untracked_files") or [],
            "diff_lines": lines, "diff_cut": source.diff_cut, "has_diff": bool(lines)}


def commit_url(remote: object, commit: str | None) -> str | None:
    """A browsable commit link for GitHub and GitLab remotes (ssh or https); None otherwise."""
    if not isinstance(remote, str) or not commit or not HEX_SHA.match(commit):
        return None
    match = REMOTE.match(remote.strip())
    if not match or not re.match(r"^[\w.-]+(/[\w.-]+)+$", match.group(2)):
        return None
    host, repo = match.groups()
    return f"https://{host}/{repo}/{'-/' if host == 'gitlab.com' else ''}commit/{commit}"


def reproduce_context(source: RunSource, shared: SharedEnvironment | None) -> dict:
    """The Reproduce block: the shell lines (tracker/reproduction.py, the plan `tracker reproduce`
    runs too), the downloads they read (the requirements from the run's shared environment files,
    saved under the name the lines read), the environment files' copies, and the reruns made so far."""
    plan = plan_reproduction(source.run, source.env_file_texts)
    downloads = []
    if plan.patch and source.diff_text:
        downloads.append({"name": DIFF_DOWNLOAD, "href": DIFF_DOWNLOAD,
                          "what": "the uncommitted changes, for git apply"})
    if plan.requirements_text and shared is not None and shared.requirements:
        downloads.append({"name": REQUIREMENTS_DOWNLOAD, "href": f"../../{shared.requirements}",
                          "what": "the run's packages, for pip install -r"})
    return {"script": shell_script(plan), "downloads": downloads, "blocker": plan.blocker,
            "local_only": plan.local_only, "no_seed": not plan.seed_recorded,
            "missing_diff": plan.patch and not source.diff_text,
            "env_files": [{"name": item.name, "href": f"{ENV_FILES_FOLDER}/{item.site_name}" if item.site_name else None,
                           "skipped": item.skipped} for item in source.env_files],
            "reproduced_by": [reproduction_line(record, "rerun") for record in source.reproductions],
            "reproduces": reproduction_line(source.reproduces, "original") if source.reproduces else None}


ENV_FILES_FOLDER = "env"  # runs/<slug>/env/<file>: the copies of a run's environment files


def reproduction_line(record: dict, other: str) -> dict:
    """One `tracker reproduce` comparison as a page states it: the other run, when, how many matched."""
    other_id = str(record.get(other) or "?")
    metrics = [item for item in record.get("metrics") or [] if isinstance(item, dict)]
    return {"run": other_id, "url": f"../{run_slug(other_id)}/index.html", "date": _utc(_number(record.get("time"))),
            "matched": sum(1 for item in metrics if item.get("within")), "total": len(metrics),
            "rtol": format_value(record.get("rtol")),
            "differing": [{"name": str(item.get("name")), "original": format_value(item.get("original")),
                           "rerun": format_value(item.get("rerun"))} for item in metrics if not item.get("within")],
            "datasets_differing": [str(name) for name in record.get("datasets_differing") or []]}


def _number(value) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def described(record: dict, *, first: tuple = (), skip: tuple = ()) -> list[tuple[str, str]]:
    """Any capture dict as (label, text) pairs: known keys first, then whatever else is present."""
    keys = [key for key in first if key in record] + [key for key in record if key not in first]
    rows = []
    for key in keys:
        value = record[key]
        if key in skip or key == "type" or key == "time" or value is None or value == "" or value == []:
            continue
        text = format_bytes(value) if str(key).endswith("_bytes") and isinstance(value, (int, float)) \
            else format_value(value)
        rows.append((str(key).replace("_", " "), text))
    return rows


def _command_line(code: dict) -> str | None:
    if isinstance(code.get("command_line"), str):
        return code["command_line"]
    if isinstance(code.get("command"), list):
        import shlex

        return shlex.join(str(part) for part in code["command"])
    return None


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "diff ", "index ")):
        return "meta"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")


def _utc(unix_s: float | None, seconds: bool = False) -> str:
    pattern = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return time.strftime(pattern, time.gmtime(unix_s)) if unix_s else "-"


def _iso(unix_s: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s)) if unix_s else ""
