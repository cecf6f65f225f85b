"""Secret scanning: every logged string a page or data file shows is checked for token shapes.

A token-shaped string (``ghp_...``, ``AKIA...``, ``sk-...``; the shapes live in tracker.redact)
is replaced by ``[REDACTED]`` before anything is rendered, and each replacement is reported with
the run and the key, so the build can warn (or, with --strict, refuse to publish). Artifacts the
site copies are scanned too when they are text (UTF-8 without NUL bytes); binary files are copied
as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.reader import History
from tracker.redact import REDACTED, redact_token_shapes

from .load import RunSource, unique_file_name

# Record fields a page shows, each scanned as a whole (keys and values, nested).
SCANNED_FIELDS = ("name", "project", "group", "notes", "error", "tags", "config", "explicit_summary",
                  "datasets", "artifacts", "git", "code", "environment", "hardware", "node_hardware", "warnings",
                  "alerts", "imported_from")


@dataclass
class Finding:
    run: str        # run id (and name) for the message
    key: str        # where in the run, e.g. "config.optimizer.token"
    kinds: list[str]

    def __str__(self) -> str:
        return f"run {self.run}: {self.key}: token-shaped string redacted ({', '.join(self.kinds)})"


def run_label(source: RunSource) -> str:
    """How a finding names its run: the id, and the name when it differs (both redacted: the
    warning is printed, and --strict prints it too, into CI logs that are often public)."""
    run = source.run
    label = f"{run.id} ({run.name})" if run.name and run.name != run.id else run.id
    return redact_tokens(label)


def redact_text_file(path: str, run: str, key: str) -> tuple[str | None, Finding | None]:
    """A text file's content with token-shaped strings redacted, and its finding, when it holds
    any; (None, None) for a clean or binary file, which is copied as it is."""
    with open(path, "rb") as handle:
        data = handle.read()
    if b"\0" in data:
        return None, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    redacted, kinds = redact_token_shapes(text)
    return (redacted, Finding(run, key, sorted(set(kinds)))) if kinds else (None, None)


def redact_source(source: RunSource) -> list[Finding]:
    run = source.run
    label = run_label(source)
    found: list[Finding] = []

    def clean(value, key: str):
        return _clean(value, key, label, found)

    for name in SCANNED_FIELDS:
        setattr(run, name, clean(getattr(run, name), _field_label(name)))
    for attribute in ("histories", "system"):
        series: dict[str, History] = getattr(run, attribute)
        setattr(run, attribute, {clean(metric, "metric names"): history for metric, history in series.items()})
    for writer in run.writers:
        writer.user = clean(writer.user, "writer user")
        writer.host = clean(writer.host, "writer host")
        writer.node = clean(writer.node, "writer node")
    source.diff_text = clean(source.diff_text, "git diff")
    source.requirements_text = clean(source.requirements_text, "requirements")
    source.console_text = clean(source.console_text, "console output")
    used_names: set[str] = set()
    for plan in source.artifacts:
        plan.name = clean(plan.name, "artifact name")
        if plan.site_name:
            plan.site_name = _published_file_name(clean(plan.site_name, "artifact file name"), used_names)
    return found


def _clean(value, key: str, label: str, found: list[Finding]):
    """``value`` with token shapes redacted in its texts, keys included; a Finding per place in
    ``found``. Module-level, not nested in redact_source: a nested function that calls itself is a
    reference cycle, left for the cycle collector with every run."""
    if isinstance(value, str):
        text, kinds = _redacted_shapes(value)
        if kinds:
            found.append(Finding(label, key, sorted(set(kinds))))
        return text
    if isinstance(value, dict):
        cleaned = {}
        for name, item in value.items():
            # the cleaned key names the place, so a warning never repeats a secret
            name = _clean(name, f"{key} (a key)", label, found) if isinstance(name, str) else name
            cleaned[name] = _clean(item, f"{key}.{name}", label, found)
        return cleaned
    if isinstance(value, list):
        return [_clean(item, f"{key}[{index}]", label, found) for index, item in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(_clean(item, f"{key}[{index}]", label, found) for index, item in enumerate(value))
    return value


# Short texts a build scans again and again (metric names, config keys, package names, hosts):
# each scan is a few dozen str.find calls, and a run's record holds some fifty such texts, most of
# them the same as the previous run's. The scan is a pure function of the text.
MEMO_MAX_CHARS = 256
MEMO_MAX_TEXTS = 50_000  # about 10 MB at most; forgotten all at once when full
_memo: dict[str, tuple[str, list[str]]] = {}


def _redacted_shapes(text: str) -> tuple[str, list[str]]:
    """redact_token_shapes(text), remembered for short texts."""
    if len(text) > MEMO_MAX_CHARS:
        return redact_token_shapes(text)
    known = _memo.get(text)
    if known is None:
        if len(_memo) >= MEMO_MAX_TEXTS:
            _memo.clear()
        known = _memo[text] = redact_token_shapes(text)
    return known


def redact_tokens(text: str) -> str:
    """One string with its token shapes redacted, for messages the site shows that come from
    outside a run (paths, read errors). Token shapes only, unlike tracker.redact.redact_text, which
    also strips URL credentials from what a run logs."""
    return _redacted_shapes(text)[0]


def _published_file_name(name: str, used: set[str]) -> str:
    """An artifact's file name in the site with any redaction made file-name safe ("[REDACTED]"
    -> "REDACTED"), unique among the run's artifacts (two names may redact alike)."""
    return unique_file_name(name.replace(REDACTED, REDACTED.strip("[]")), used)


def _field_label(name: str) -> str:
    return {"explicit_summary": "summary", "error": "traceback"}.get(name, name)
