"""W&B's media classes (``wandb.Image``, ``Table``, ``Histogram``, ``Audio``, ``Video``) as tracker media.

Each takes W&B's arguments and gives a tracker media object (tracker.Image, tracker.Table...),
which ``wandb.log`` passes on to ``run.log``. ``Table`` stays a W&B-shaped builder
(``add_data``) until it is logged, since W&B scripts fill a table after making it.
"""
from __future__ import annotations

from .unmapped import warn_once


def Image(data_or_path, mode: str | None = None, caption: str | None = None, **unmapped):
    """``wandb.Image``: a NumPy array, PIL image or image file, with its caption (tracker.Image)."""
    from ..media.image import Image as TrackerImage

    if mode is not None:
        warn_once("wandb.Image(mode=...)", "the image is stored in the mode of its data; mode is ignored")
    _warn_unmapped("wandb.Image", unmapped, "boxes, masks and classes are not drawn; the image is stored alone")
    return TrackerImage(data_or_path, caption=caption)


def Histogram(sequence=None, np_histogram=None, num_bins: int = 64):
    """``wandb.Histogram``: values binned into ``num_bins``, or ``np_histogram=(counts, edges)``."""
    from ..media.histogram import Histogram as TrackerHistogram

    if np_histogram is not None:
        counts, edges = np_histogram
        return TrackerHistogram(counts=counts, edges=edges)
    return TrackerHistogram(values=sequence, bins=num_bins)


def Audio(data_or_path, sample_rate: int | None = None, caption: str | None = None):
    """``wandb.Audio``: samples with their rate, or a sound file (tracker.Audio)."""
    from ..media.audio import Audio as TrackerAudio

    return TrackerAudio(data_or_path, sample_rate=sample_rate, caption=caption)


def Video(data_or_path, caption: str | None = None, fps: int | None = None, format: str | None = None):
    """``wandb.Video`` of a video file (tracker.Video); an array of frames is not encoded here."""
    from ..media.video import Video as TrackerVideo

    if fps is not None or format is not None:
        warn_once("wandb.Video(fps=..., format=...)", "the file is stored as given; fps and format are ignored")
    return TrackerVideo(data_or_path, caption=caption)


class Table:
    """``wandb.Table``: ``columns`` and ``data`` (rows), or a pandas ``dataframe``; ``add_data(*row)``
    appends a row. Logged, it becomes a tracker.Table of the rows it holds then."""

    def __init__(self, columns=None, data=None, rows=None, dataframe=None, **unmapped):
        _warn_unmapped("wandb.Table", unmapped, "the table is stored with its columns and rows only")
        self.dataframe = dataframe
        self.columns = list(columns) if columns is not None else None
        given = data if data is not None else rows
        self.data = [list(row) for row in given] if given is not None else []

    def add_data(self, *row) -> None:
        """Append one row (one value per column)."""
        self.data.append(list(row))

    def to_media(self):
        """The tracker.Table of this table's rows as they are now."""
        from ..media.table import Table as TrackerTable

        if self.dataframe is not None:
            return TrackerTable(dataframe=self.dataframe)
        columns = self.columns
        if columns is None:  # W&B names unnamed columns by position too
            columns = [f"column_{index}" for index in range(max((len(row) for row in self.data), default=0))]
        return TrackerTable(rows=self.data, columns=columns)


def _warn_unmapped(call: str, unmapped: dict, consequence: str) -> None:
    for name in sorted(key for key, value in unmapped.items() if value is not None):
        warn_once(f"{call}({name}=...)", consequence, stacklevel=4)
