"""A run's media in the site: what fits its share of the site's media budget, and its data file.

Media are the heaviest thing a site can hold, so each run gets a share of a site-wide budget
(docs/site.md, "Media"): min(per-run cap, site budget / runs). Within it the last step of every
key is kept first (what the page opens on), then the other steps newest first; an item that does
not fit is left out and says so where it would be. The plan is made from the reader's items and
the sizes of their files; media_output.py writes what it keeps, and media_data_json() then lists
keys, kinds, steps and items for run-media.js (the shape is docs/site-data.md's).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from tracker.media_reading import MediaItem, MediaSeries

MB = 1_000_000
DEFAULT_SITE_MEDIA_BUDGET_MB = 500.0  # GitHub Pages' 1 GB, half of it for media
DEFAULT_RUN_MEDIA_BUDGET_MB = 5.0
WRAPPED_EXTENSIONS = (".json", ".txt")  # the JSON kinds (".plotly.json" too) and text: loaded as scripts
SCRIPT_OVERHEAD_BYTES = 200             # what wrapping a file as a script adds, about
LEFT_OUT_BUDGET = "over the site's media budget"
LEFT_OUT_MISSING = "missing from the run folder"


def media_data_file(slug: str) -> str:
    """The site file listing a run's media (TrackerData.media[id])."""
    return f"data/media/{slug}.js"


def site_media_file(run_file: str) -> str:
    """Where a run's media file lands in the site: the same name, or the script that wraps it
    (``media/<aa>/<sha256>.js``) for the kinds a page loads as data."""
    if run_file.endswith(WRAPPED_EXTENSIONS):
        return run_file.split(".", 1)[0] + ".js"
    return run_file


def run_media_budget_bytes(runs: int, site_budget_mb: float = DEFAULT_SITE_MEDIA_BUDGET_MB,
                           run_budget_mb: float = DEFAULT_RUN_MEDIA_BUDGET_MB) -> int:
    """Each run's share: min(run cap, site budget / runs). The count is rounded up to two
    significant digits so that one more run changes the share (and re-renders every run's media)
    only when the count moves past such a step, not at every run."""
    if runs <= 0:
        return int(run_budget_mb * MB)
    digits = max(0, int(math.log10(runs)) - 1)
    rounded = -(-runs // 10 ** digits) * 10 ** digits
    return int(min(run_budget_mb * MB, site_budget_mb * MB / rounded))


@dataclass
class MediaCopy:
    """One file of the run folder to put in the site."""

    run_file: str    # media/<aa>/<sha256>.<ext>, relative to the run folder
    source: str      # its path
    site_file: str   # site_media_file(run_file)

    @property
    def wrapped(self) -> bool:
        return self.site_file != self.run_file


@dataclass
class MediaPlan:
    """What a run's media page shows and the files that needs."""

    budget_bytes: int
    copies: dict[str, MediaCopy] = field(default_factory=dict)  # run file -> copy, in keeping order
    kept_bytes: int = 0
    wanted_bytes: int = 0      # all its files would take: whether a new budget could change the plan
    left_out: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (key, step, index) -> why
    left_out_bytes: int = 0


def _site_size(run_path: str, run_file: str, sizes: dict) -> int | None:
    """What ``run_file`` takes in the site (None when it is missing), stat'ed once per file."""
    if run_file not in sizes:
        try:
            size = os.stat(os.path.join(run_path, run_file)).st_size
        except OSError:
            size = None
        if size is not None and run_file.endswith(WRAPPED_EXTENSIONS):
            size += SCRIPT_OVERHEAD_BYTES
        sizes[run_file] = size
    return sizes[run_file]


def keeping_order(media: dict[str, MediaSeries]) -> list[tuple[MediaSeries, int]]:
    """(series, step) in the order the budget keeps them: the last step of every key, in the order
    the keys were first logged, then every other step, newest first."""
    lasts = [(series, series.last_step) for series in media.values() if series.items]
    others = [(series, step) for series in media.values() for step in series.items if step != series.last_step]
    return lasts + sorted(others, key=lambda pair: -pair[1])  # sorted is stable: keys keep their order


def plan_media(run_path: str, media: dict[str, MediaSeries], budget_bytes: int) -> MediaPlan:
    """Which of a run's media files go into the site within ``budget_bytes``. An item is kept with
    its attachments (a table's image cells) or not at all; a file several items name costs once."""
    plan = MediaPlan(budget_bytes)
    sizes: dict[str, int | None] = {}
    for series, step in keeping_order(media):
        for item in series.items[step]:
            place = (series.key, step, item.index)
            if _site_size(run_path, item.file, sizes) is None:
                plan.left_out[place] = LEFT_OUT_MISSING
                continue
            files = [name for name in [item.file, *item.attachments] if _site_size(run_path, name, sizes) is not None]
            cost = sum(sizes[name] for name in dict.fromkeys(files) if name not in plan.copies)
            plan.wanted_bytes += cost
            if plan.kept_bytes + cost > budget_bytes:
                plan.left_out[place] = LEFT_OUT_BUDGET
                plan.left_out_bytes += cost
                continue
            plan.kept_bytes += cost
            for name in files:
                plan.copies.setdefault(name, MediaCopy(name, os.path.join(run_path, name), site_media_file(name)))
    # wanted counts a file shared by a kept and a left-out item twice; it only has to be an upper bound
    return plan


def _item_entry(item: MediaItem, why: str | None) -> dict:
    return {"index": item.index, "file": None if why else site_media_file(item.file), "leftOut": why,
            "size_bytes": item.size_bytes, "fields": item.fields}


def media_data(run_id: str, name: str, media: dict[str, MediaSeries], plan: MediaPlan,
               unwritten: dict[str, str] | None = None) -> dict:
    """TrackerData.media[run id] (docs/site-data.md): every key with its steps and items, each
    item naming its site file or why it has none. ``unwritten``: run file -> why the build could
    not put it in the site (media_output.py); its items are left out with that reason."""
    for series in media.values():
        for step, items in series.items.items():
            for item in items:
                if unwritten and item.file in unwritten and (series.key, step, item.index) not in plan.left_out:
                    plan.left_out[(series.key, step, item.index)] = unwritten[item.file]
    keys = []
    for series in media.values():
        steps = series.steps
        keys.append({"key": series.key, "kind": series.kind, "steps": steps,
                     "items": [[_item_entry(item, plan.left_out.get((series.key, step, item.index)))
                                for item in series.items[step]] for step in steps]})
    reasons = sorted(set(plan.left_out.values()))
    return {"id": run_id, "name": name,
            "steps": sorted({step for series in media.values() for step in series.items}),
            "budgetBytes": plan.budget_bytes, "keptBytes": plan.kept_bytes,
            "leftOut": {"items": len(plan.left_out), "bytes": plan.left_out_bytes,
                        "reason": "; ".join(reasons) if reasons else None},
            "keys": keys}
