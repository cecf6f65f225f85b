"""Media records folded into a RunRecord: per key, its kind and the items logged at each step.

A `media` record (docs/format.md, "Media") references a content-addressed file of the run folder.
record_schema.py has already checked the writer's fields; here a file name is held to the
format's extensions too, since the site copies what it names: a record naming anything else is a
problem naming its file and line, and its file is never opened. The kind's own fields (caption,
width, auc...) are kept as the record has them, for the site to show as text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# The extensions docs/format.md lists; "plotly.json" before "json" so the longer one matches.
MEDIA_EXTENSIONS = ("png", "jpg", "webp", "gif", "plotly.json", "json", "svg", "txt", "wav", "mp3", "ogg",
                    "flac", "mp4", "webm")
MEDIA_FILE = re.compile(r"media/([0-9a-f]{2})/\1[0-9a-f]{62}\.(?:"
                        + "|".join(re.escape(extension) for extension in MEDIA_EXTENSIONS) + ")")
# the writer's fields: every other field of a record is the kind's own
WRITER_FIELDS = frozenset({"type", "key", "step", "time", "index", "file", "size_bytes", "attachments", "kind"})


def is_known_media_file(value) -> bool:
    """Whether ``value`` is ``media/<aa>/<sha256>.<ext>`` with one of the format's extensions."""
    return type(value) is str and MEDIA_FILE.fullmatch(value) is not None


@dataclass
class MediaItem:
    """One logged media object: its file and the fields its page shows."""

    step: int
    index: int
    file: str
    time: float | None = None
    size_bytes: int | None = None
    attachments: list[str] = field(default_factory=list)  # a table's image cells
    fields: dict = field(default_factory=dict)            # the kind's own (caption, width, auc...)


@dataclass
class MediaSeries:
    """Everything logged under one media key: one kind, items per step in logged order."""

    key: str
    kind: str
    items: dict[int, list[MediaItem]] = field(default_factory=dict)  # step -> items by index

    @property
    def steps(self) -> list[int]:
        return sorted(self.items)

    @property
    def last_step(self) -> int:
        return max(self.items)

    def add(self, item: MediaItem) -> None:
        """Add ``item`` at its step; an item of the same step and index replaces the earlier one
        (a resumed run logging a step again)."""
        at_step = self.items.setdefault(item.step, [])
        for position, existing in enumerate(at_step):
            if existing.index == item.index:
                at_step[position] = item
                return
        at_step.append(item)
        if len(at_step) > 1 and at_step[-2].index > item.index:
            at_step.sort(key=lambda one: one.index)


def add_media_record(media: dict[str, MediaSeries], record: dict, where: str, problems) -> None:
    """Fold one checked ``media`` record into ``media`` (key -> MediaSeries); a record naming a
    file the format does not name, or logging a key under a second kind, is a problem at ``where``."""
    key, kind, file = record["key"], record["kind"], record["file"]
    if not is_known_media_file(file):
        problems.add(f"{where}: media.file {file!r} is not media/<aa>/<sha256>.<ext> with a known extension "
                     f"({', '.join(MEDIA_EXTENSIONS)}); record skipped")
        return
    attachments = record.get("attachments") or []
    bad = [name for name in attachments if not is_known_media_file(name)]
    if bad:
        problems.add(f"{where}: media.attachments names {bad[0]!r}, not a media file with a known extension; "
                     "record skipped")
        return
    series = media.get(key)
    if series is None:
        series = media[key] = MediaSeries(key, kind)
    elif series.kind != kind:
        problems.add(f"{where}: media key {key!r} is {kind}, but was logged as {series.kind} before; record skipped")
        return
    series.add(MediaItem(step=record["step"], index=record.get("index") or 0, file=file, time=record.get("time"),
                         size_bytes=record.get("size_bytes"), attachments=list(attachments),
                         fields={name: value for name, value in record.items() if name not in WRITER_FIELDS}))
