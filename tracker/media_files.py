"""Media files in a run folder: encoded on the writer thread, stored once per content, within the run's budget.

For each queued media object the writer asks ``MediaStore.record`` for its ``media`` record:
the object is encoded (``Media.encode()``), each of its files (a table's image cells first, then
its own) is written to ``media/<aa>/<sha256>.<ext>`` unless a file of that name is there already
(the same image logged 100 times is one file), through a temporary file renamed over the name
(atomic_file.py), and only then is the record returned, so a record never names a file not yet
written. Nothing here raises into the writer: an object that cannot be encoded or stored costs
only itself, with a warning naming its key and step.

The budget counts stored bytes: files this run folder holds (those of earlier processes of a
resumed run included, counted at the first media object) plus those written since. A file
already stored costs nothing. The first object whose new files would take the run past the
budget is skipped, and so is every media object after it (``spent``), with one warning;
metrics go on.
"""
from __future__ import annotations

import errno
import os
from typing import Callable

from .atomic_file import replace_file
from .record_schema import is_media_file

MEDIA_FOLDER = "media"  # as tracker/media/base.py names it; not imported: this module loads with the writer
DEFAULT_MEDIA_BUDGET_MB = 200.0
BYTES_PER_MB = 1_000_000
TEMPORARY_MARK = ".tmp-"  # atomic_file's temporary files: a killed write's leftovers, not stored media


class MediaStore:
    """The media files of one run folder, as one writer thread stores them."""

    def __init__(self, run_path: str, budget_bytes: int, warn: Callable[[str, str], None]):
        self.run_path = run_path
        self.budget_bytes = budget_bytes
        self._warn = warn  # warn(cause, message): shown once per cause
        self._stored: set[str] | None = None  # names known to be in the folder; None until the first object
        self.stored_bytes = 0
        self.spent = False  # the budget was reached: no media object is stored any more

    def record(self, item) -> dict | None:
        """The ``media`` record of ``item`` (a QueuedMedia) once its files are stored; None when it is
        skipped (encoding failed, the budget is spent, the disk refused), with a warning."""
        if self.spent:
            return None
        try:
            encoded = item.media.encode()
            files = {part.file_name: part for part in (*encoded.attachments, encoded)}  # attachments first
            fields = dict(encoded.fields)
            for name in files:
                if not is_media_file(name):  # a Media subclass's own extension: "../x" must not leave media/
                    raise ValueError(f"{name!r} is not a media file name, media/<aa>/<sha256>.<ext>")
        except Exception as exc:  # whatever the object or its library raises: the run goes on
            self._warn(f"media-encode:{item.key}",
                       f"tracker: could not encode media {item.key!r} at step {item.step} ({_reason(exc)}); "
                       "it is not stored, and training continues")
            return None
        if self._stored is None:
            self._count_stored()
        new = {name: part for name, part in files.items() if not self._is_stored(name)}
        new_bytes = sum(len(part.data) for part in new.values())
        if self.stored_bytes + new_bytes > self.budget_bytes:
            self.spent = True
            self._warn("media-budget",
                       f"tracker: media {item.key!r} at step {item.step} would take the run's media past its budget "
                       f"of {self.budget_bytes / BYTES_PER_MB:,g} MB ({self.stored_bytes:,} bytes stored): it "
                       "and all later media are not stored; metrics are still logged. Raise the budget with "
                       "tracker.init(media_budget_mb=...) or TRACKER_MEDIA_BUDGET_MB.")
            return None
        for name, part in new.items():
            try:
                self._write(name, part.data)
            except OSError as exc:
                self._warn(f"media-io:{exc.errno}",
                           f"tracker: cannot write media files into {self.run_path} ({_io_cause(exc)}): media "
                           f"{item.key!r} at step {item.step} and others like it are not stored; training continues")
                return None
        record = {"type": "media", "key": item.key, "step": item.step, "time": item.time, "index": item.index,
                  "file": encoded.file_name, "size_bytes": len(encoded.data)}
        record.update((field, value) for field, value in fields.items() if field not in record)
        if encoded.attachments:
            record["attachments"] = [name for name in files if name != encoded.file_name]
        return record

    def _is_stored(self, name: str) -> bool:
        if name in self._stored:
            return True
        if os.path.exists(os.path.join(self.run_path, name)):  # written by another process of the run
            self._stored.add(name)
            return True
        return False

    def _write(self, name: str, data: bytes) -> None:
        path = os.path.join(self.run_path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        replace_file(path, data)  # a reader, or a kill, never sees half a media file under its name
        self._stored.add(name)
        self.stored_bytes += len(data)

    def _count_stored(self) -> None:
        """What the run folder already holds (a resumed run's earlier media), names and bytes."""
        self._stored = set()
        try:
            with os.scandir(os.path.join(self.run_path, MEDIA_FOLDER)) as fan_out:
                folders = [entry.name for entry in fan_out if entry.is_dir(follow_symlinks=False)]
            for folder in folders:
                with os.scandir(os.path.join(self.run_path, MEDIA_FOLDER, folder)) as files:
                    for entry in files:
                        if entry.is_file(follow_symlinks=False) and TEMPORARY_MARK not in entry.name:
                            self._stored.add(f"{MEDIA_FOLDER}/{folder}/{entry.name}")
                            self.stored_bytes += entry.stat(follow_symlinks=False).st_size
        except OSError:
            pass  # no media folder yet (the usual case), or one that cannot be listed: nothing counted


def _io_cause(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "the disk is full"
    return exc.strerror or type(exc).__name__


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
