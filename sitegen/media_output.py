"""Media files into the site: copied once per content hash, the JSON kinds and text wrapped as scripts.

A run folder's media/<aa>/<sha256>.<ext> keeps its name in the site, so runs and steps that
logged the same bytes share one file. Images, SVG, audio and video are copied as they are (pages
show them through <img>, <audio>, <video>: never inlined). Tables, histograms, charts, plotly
figures and text become media/<aa>/<sha256>.js, a script setting TrackerData.mediaFiles[sha256]
(docs/site-data.md), because a page opened from file:// may insert a script but not fetch a file.
A wrapped file is parsed first, so a run folder cannot slip script into the site under a .json
name, and redacted like every logged string.
"""
from __future__ import annotations

import json
import os

from tracker.redact import redact_token_shapes

from .media_plan import MediaCopy, MediaPlan, media_data, media_data_file, plan_media
from .output import copy_file, replace_text, site_path, write_text
from .redaction import Finding
from .render import data_script_text, script_json

MEDIA_DATA_KIND = "mediaFiles"  # TrackerData.mediaFiles[sha256]


def wrapped_script(copy: MediaCopy) -> tuple[str, list[str]]:
    """The script that holds ``copy``'s data and the token shapes redacted from it. Raises
    ValueError (or OSError) for a file that is not what its name says."""
    with open(copy.source, "rb") as handle:
        text = handle.read().decode("utf-8")
    value = text if copy.run_file.endswith(".txt") else json.loads(text)
    json_text, kinds = redact_token_shapes(script_json(value))  # script_json refuses NaN: the format has none
    sha = os.path.basename(copy.run_file).split(".", 1)[0]
    return data_script_text(MEDIA_DATA_KIND, sha, json_text), kinds


def write_media(staging: str, plan: MediaPlan, run_label: str) -> tuple[list[str], dict[str, str], list[Finding]]:
    """Put the plan's files into ``staging``; returns the site files written (or already there,
    from another run of this build), the run files that could not be written with why, and the
    redactions made. A file already staged is the same bytes (its name is their hash) and is not
    written twice."""
    written, unwritten, findings = [], {}, []
    for copy in plan.copies.values():
        target = site_path(staging, copy.site_file)
        try:
            if not os.path.exists(target):
                if copy.wrapped:
                    text, kinds = wrapped_script(copy)
                    replace_text(staging, copy.site_file, text)  # atomic: two workers may write one file
                    if kinds:
                        findings.append(Finding(run_label, f"media file {copy.run_file}", sorted(set(kinds))))
                else:
                    copy_file(staging, copy.site_file, copy.source)
        except (OSError, ValueError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            unwritten[copy.run_file] = f"unreadable ({reason})"
            continue
        written.append(copy.site_file)
    return written, unwritten, findings


def publish_run_media(source, budget_bytes: int, staging: str, label: str) -> tuple[dict | None, list[str], dict]:
    """Plan, write and list one run's media: (its page's media context, or None when it logged
    none; the site files written, its data file last; the manifest's record of them: budget,
    what all its media would take, files, and what was left out)."""
    run = source.run
    if not run.media:
        return None, [], {}
    plan = plan_media(run.path, run.media, budget_bytes)
    written, unwritten, findings = write_media(staging, plan, label)
    data = media_data(run.id, run.name or run.id, run.media, plan, unwritten)
    json_text, kinds = redact_token_shapes(script_json(data))
    if kinds:
        findings.append(Finding(label, "media keys and fields", sorted(set(kinds))))
    data_file = media_data_file(source.slug)
    write_text(staging, data_file, data_script_text("media", run.id, json_text))
    left_out = data["leftOut"]
    context = {"data_file": data_file, "keys": len(data["keys"]), "left_out": left_out,
               "budget_bytes": budget_bytes}
    record = {"budget": budget_bytes, "wanted": plan.wanted_bytes, "files": written + [data_file],
              "left_out": [left_out["items"], left_out["bytes"]]}
    return context, [str(finding) for finding in findings], record
