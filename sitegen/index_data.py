"""The index's data files: every run's index row and the build's unreadable folders, as data/index.js."""
from __future__ import annotations

from tracker.rundiff import LOWER_IS_BETTER_WORDS

from .render import data_script_text, script_json

MAX_COMPARE_RUNS = 50


def index_files(row_texts: list[str], errors: list[tuple[str, str]]) -> dict[str, str]:
    """Site path -> text of the index's data files, given every run's index row (script-safe JSON
    text, oldest first) and the folders the build could not read."""
    return {"data/index.js": data_script_text("index", None, index_data_json(row_texts, errors))}


def index_data_json(row_texts: list[str], errors: list[tuple[str, str]]) -> str:
    """data/index.js as JSON text: every run's index_row() as script-safe JSON text, given in order
    (joined, not re-encoded: ten thousand rows cost a string join). The browser works out the
    config keys, metrics and default columns from the rows (TrackerFields, run-fields.js)."""
    rest = script_json({"unreadable": [{"path": path, "reason": reason} for path, reason in errors],
                        # the compare view: how many runs at most, and tracker diff's rule for which value is best
                        "maxCompareRuns": MAX_COMPARE_RUNS, "lowerIsBetter": list(LOWER_IS_BETTER_WORDS)})
    return '{"runs":[' + ",".join(row_texts) + "]," + rest[1:]
