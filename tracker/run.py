"""A run being logged: the object ``tracker.init()`` returns."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping

from . import active_run, lifecycle
from .errors import ArgumentTypeError, RunFinishedError
from .inputs import check_step, clean_tags, clean_text
from .media_logging import QueuedMedia, checked_media, loaded_media_class, media_objects
from .run_media import RunMediaMethods
from .values import TOO_LONG_INT, metric_number, safe_text, to_jsonable
from .writer import RecordWriter

BACKGROUND_JOIN_TIMEOUT_S = 30.0  # finish() waits this long at most for capture and hashing
NOTIFY_WAIT_S = 10.0  # finish() waits this long at most for alerts still being sent
MAX_KNOWN_METRIC_NAMES = 10_000  # names checked once and then trusted by log()'s fast path
_FLOATS = frozenset({float})
_PLAIN_NUMBERS = frozenset({float, int})


class _RecordedDict(dict):
    """A dict whose updates are also written as records (``config``/``summary``)."""

    def __init__(self, run: "Run", record_type: str, initial: dict | None = None):
        super().__init__(initial or {})
        self._run = run
        self._record_type = record_type

    def __setitem__(self, key, value):
        self.update({key: value})

    def update(self, other=(), **more):
        try:
            changes = dict(other, **more)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"{self._record_type}.update() argument", other, "a dict") from None
        clean = self._run._record_values(self._record_type, changes, existing=self)
        super().update(clean)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]


class Run(RunMediaMethods):
    """One run: log metrics, media, config, summary, datasets and artifacts into its folder.

    Created by ``tracker.init()``; use it as a context manager or call ``finish()``. The media
    methods (``log_image``, ``log_confusion_matrix``...) are in tracker/run_media.py.
    """

    def __init__(self, *, run_id: str, root: str, path: str, project: str, name: str, group: str | None,
                 writer: RecordWriter, config: dict, summary: dict, tags: list[str], last_step: int):
        self.id = run_id
        self.root = root
        self.path = path
        self.project = project
        self.name = name
        self.group = group
        self._writer = writer
        self._finished = False
        self._detached = False
        self._finish_lock = threading.Lock()
        self._step = last_step
        self._metric_names: set[str] = set()  # str, storable as they are: log()'s fast path trusts them
        self._background: list[threading.Thread] = []
        self._last_artifact_copy: threading.Thread | None = None  # copies run one after another
        self._console = None
        self._system_metrics = None
        self._notify = None  # a notify.sender.NotifySender when init() was given notifiers
        self._upload = None  # a store_upload.StoreUploader when the run goes to a store
        self.tags = list(tags)
        self._tag_set = set(self.tags)  # beside the list: adding 100,000 tags stays linear
        self.config = _RecordedDict(self, "config", config)
        self.summary = _RecordedDict(self, "summary", summary)

    def __repr__(self) -> str:
        state = "finished" if self._finished else "running"
        return f"<tracker.Run {self.id} {self.project}/{self.name} {state}>"

    # -- the hot path --------------------------------------------------------------------

    def log(self, values: dict, step: int | None = None) -> None:
        """Record metric values at ``step`` (default: one past the last step).

        Values are numbers (NaN and ±Inf included) or anything with ``.item()``; names are str.
        A value may also be a media object (``tracker.Image(...)``, ``tracker.Table(...)``...) or
        a list of them: each becomes a ``media`` record at the same step, encoded and stored by
        the writer thread (see ``log_media``).
        Buffered: returns without file I/O; written within the flush interval.
        Misuse (not a dict, a name that is not a str, a value that is not a number, a step that
        is not a whole number) raises a UsageError and logs nothing.
        """
        if self._finished:
            if self._detached:
                return
            raise RunFinishedError(self.id)
        try:  # type sets are built in C: much cheaper than a Python loop over the values
            kinds = set(map(type, values.values()))
        except (AttributeError, TypeError):
            kinds = None
        # Ints may be too long to write: min and max bound them in C (a NaN first only costs the slow path).
        if kinds is not None and kinds <= _PLAIN_NUMBERS and self._metric_names.issuperset(values) and (
                kinds <= _FLOATS or -TOO_LONG_INT < min(values.values()) and max(values.values()) < TOO_LONG_INT):
            clean = values  # put_metrics copies it: the caller may reuse and change its dict
        else:
            clean, media = self._checked_values(values)
            if media:
                self._log_with_media(clean, media, step)
                return
        if step is None:
            step = self._step + 1
        elif type(step) is not int or not -TOO_LONG_INT < step < TOO_LONG_INT:
            step = check_step(step)
        self._step = step
        self._writer.put_metrics(step, time.time(), clean)

    def _log_with_media(self, clean: dict, media: list, step) -> None:
        """log() of values holding media: the numbers as a metrics record (if any), each media
        object queued for the writer, all at one step and time."""
        step = self._step + 1 if step is None else check_step(step)
        self._step = step
        now = time.time()
        if clean:
            self._writer.put_metrics(step, now, clean)
        self._queue_media(media, step, now)

    def log_media(self, key: str, media, step: int | None = None) -> None:
        """Record a media object (``tracker.Image``, ``Table``, ``Figure``, ``Histogram``, ``Text``,
        ``Audio``, ``Video`` or an evaluation chart), or a list of them, under ``key`` at ``step``.

        ``step`` defaults to the run's current step (the last one ``log()`` used; 0 before any),
        so a chart logged after an epoch's metrics sits at their step; it does not move the step.
        The object has copied its data when it was made; the writer thread encodes it and stores
        its file once per content (docs/format.md, "Media"). Past the run's media budget, media are
        skipped with one warning; a media object that cannot be encoded is a warning naming the key
        and step. Misuse (a key that is not a str, a value that is no media object) raises.
        """
        if self._finished:
            if self._detached:
                return
            raise RunFinishedError(self.id)
        if not isinstance(key, str):
            raise ArgumentTypeError("log_media() key", key, "a str")
        objects = checked_media("log_media() media", media)
        step = max(self._step, 0) if step is None else check_step(step)
        self._queue_media([(key, objects)], step, time.time())

    # -- everything else -------------------------------------------------------------------

    def log_params(self, params: dict | None = None, **more) -> None:
        """Add to the run's config (same as ``run.config.update``)."""
        self.config.update(params or {}, **more)

    def add_tags(self, *tags: str) -> None:
        """Add tags (each a str, or a list of str); tags the run has already are skipped."""
        cleaned = [tag for index, given in enumerate(tags)
                   for tag in clean_tags(f"add_tags() argument {index + 1}", given)]
        seen = self._tag_set
        new = []
        for tag in cleaned:
            if tag not in seen:
                seen.add(tag)
                new.append(tag)
        if new:
            self.tags.extend(new)
            self._put({"type": "tags", "add": new})

    def alert(self, title: str, text: str = "", level: str = "warn") -> None:
        """Record an ``alert`` (shown on the run page and the index) and send it at once to the
        notifiers of ``init(notify=...)`` or ``$TRACKER_NOTIFY`` (docs/alerts.md).

        ``level`` is "info", "warn" or "error". Title and text are redacted and bounded. Sending
        happens on a background thread: this returns without waiting, and a notifier that fails
        is retried, then reported in one warning; training goes on.
        """
        if self._finished:
            if self._detached:
                return
            raise RunFinishedError(self.id)
        from .alerts import alert_event, alert_record

        record = alert_record(title, text, level, self._step)
        self._put(record)
        if self._notify is not None:
            self._notify.send(alert_event(self, record))

    def set_notes(self, text: str) -> None:
        """Replace the run's notes (Markdown)."""
        self._put({"type": "notes", "text": clean_text("set_notes() text", text)})

    def log_dataset(self, path, name: str | None = None, *, rows: int | None = None,
                    columns: list[str] | int | None = None) -> None:
        """Record a dataset file or folder: content hash, size, rows/columns when known.

        Hashing runs in a background thread (cached by path, size and mtime).
        """
        from .datasets import describe_dataset

        try:
            path = os.fsdecode(path)
        except TypeError:
            raise ArgumentTypeError("log_dataset() path", path, "a str or path") from None
        if name is not None and not isinstance(name, str):
            raise ArgumentTypeError("log_dataset() name", name, "a str or None")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
            raise ArgumentTypeError("log_dataset() rows", rows, "an int or None")
        if columns is not None and (isinstance(columns, bool) or not isinstance(columns, (int, list, tuple))):
            raise ArgumentTypeError("log_dataset() columns", columns, "a list of column names, an int or None")
        dataset_name = name or os.path.basename(os.path.normpath(path))
        self._in_background(lambda: self._put(describe_dataset(path, dataset_name, rows=rows, columns=columns)),
                            f"dataset {dataset_name}")

    def log_artifact(self, path, name: str | None = None) -> str:
        """Copy a file or folder into the run's ``artifacts/`` folder; returns the stored path.

        A file of up to 4 MiB is copied before this returns (a snapshot of the call); a larger
        file or a folder is copied in the background, one after another, and its record written
        when its copy is done; ``finish()`` waits for them like it waits for dataset hashing.
        Change a large file only after ``finish()`` (or save a new file) if the stored copy must
        be the file as it was at the call. Sparse files stay sparse. Token shapes in the name
        are redacted: ``AKIA....txt`` is stored as ``[REDACTED].txt``.
        """
        from .artifacts import ArtifactCopy

        copy = ArtifactCopy.plan(os.fspath(path), self.path, name)
        if copy.copies_at_call():
            self._put(copy.run())
            return copy.target
        previous = self._last_artifact_copy

        def copy_in_turn():
            if previous is not None:
                previous.join()
            self._put(copy.run())

        self._in_background(copy_in_turn, f"artifact {copy.name}")
        self._last_artifact_copy = self._background[-1]
        return copy.target

    def finish(self, status: str = "finished", error: str | None = None,
               wait_s: float = BACKGROUND_JOIN_TIMEOUT_S) -> None:
        """End the run: write everything pending and the final status. Safe to call twice.

        Waits up to ``wait_s`` for background capture, dataset hashing and artifact copies to complete.
        """
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        if self._detached:
            return
        if self._system_metrics is not None:
            self._system_metrics.stop()
        deadline = time.monotonic() + wait_s
        for thread in self._background:
            thread.join(max(0.0, deadline - time.monotonic()))
        if error is not None:  # a traceback quotes source lines and values: secrets and file names too
            from .redact import redact_text

            error = redact_text(safe_text(str(error)))
        self._put({"type": "end", "writer": self._writer.writer_id, "time": time.time(),
                   "status": status, "error": error})
        self._writer.close()
        if self._notify is not None and not self._notify.wait(NOTIFY_WAIT_S):
            import warnings

            warnings.warn(f"tracker: {self._notify.pending()} alert(s) not yet sent after {NOTIFY_WAIT_S:.0f} s; "
                          "the script ends without them", RuntimeWarning, stacklevel=2)
        if self._console is not None:  # last, so the writer's own warnings are captured too
            self._console.stop()
            if self._console.error:
                import warnings

                warnings.warn(f"tracker: console log incomplete: {self._console.error}", RuntimeWarning, stacklevel=2)
        if self._upload is not None:  # after the console: its last lines go to the store too
            self._upload.finish()
        lifecycle.unregister(self)
        active_run.forget(self)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.finish(status=lifecycle.status_for_exception(exc_type),
                        error=lifecycle.format_error(exc_type, exc, tb))

    # -- internals -----------------------------------------------------------------------

    def _put(self, record: dict) -> None:
        if self._detached:
            return
        self._writer.put(record)

    def _checked_values(self, values) -> tuple[dict, list | None]:
        """log()'s slow path: every name and value checked; names are remembered once they pass.
        Returns the numbers, and the media objects as ``[(key, [objects])]`` (None when there are none)."""
        if not isinstance(values, Mapping):
            raise ArgumentTypeError("log() values", values, "a dict of metric name -> number")
        clean = {}
        media = None
        media_class = loaded_media_class()
        for key, value in values.items():
            if media_class is not None and isinstance(key, str):
                objects = media_objects(f"log() value {key!r}", value, media_class)
                if objects is not None:
                    media = media or []
                    media.append((key, objects))
                    continue
            number = metric_number(key, value)  # raises for a name that is not a str, too
            name = safe_text(key)
            if name is key and type(key) is str and len(self._metric_names) < MAX_KNOWN_METRIC_NAMES:
                self._metric_names.add(key)
            clean[name] = number
        return clean, media

    def _queue_media(self, media: list, step: int, wall_time: float) -> None:
        put_media = self._writer.put_media
        for key, objects in media:
            name = safe_text(key)
            for index, obj in enumerate(objects):
                put_media(QueuedMedia(name, step, wall_time, index, obj))

    def _record_values(self, record_type: str, changes: dict, existing: dict) -> dict:
        from .redact import redact_mapping

        clean = redact_mapping(to_jsonable(changes, _path=record_type))
        if record_type == "config":
            clean = self._without_colliding_keys(existing, clean)
        self._put({"type": record_type, "time": time.time(), "values": clean})
        return clean

    @staticmethod
    def _without_colliding_keys(existing: dict, clean: dict) -> dict:
        from .config_keys import rename_colliding_keys

        clean, renames = rename_colliding_keys(existing, clean)
        if renames:
            import warnings

            shown = ", ".join(f"{old!r} as {new!r}" for old, new in renames)
            warnings.warn(f"tracker: config keys that flatten to a name already used are stored renamed: {shown}",
                          RuntimeWarning, stacklevel=5)
        return clean

    def _in_background(self, job, what: str) -> None:
        def guarded():
            try:
                job()
            except Exception as exc:
                import warnings

                warnings.warn(f"tracker: could not record {what}: {exc}", RuntimeWarning, stacklevel=1)

        thread = threading.Thread(target=guarded, name=f"tracker-{what}", daemon=True)
        thread.start()
        self._background.append(thread)

    def _start_console(self, path: str) -> None:
        from .console import ConsoleCapture

        console = ConsoleCapture(path)
        if console.start():
            self._console = console

    def _start_system_metrics(self, name_prefix: str = "") -> None:
        from .system_metrics import SystemMetricsSampler

        self._system_metrics = SystemMetricsSampler(self._put, name_prefix=name_prefix)
        self._system_metrics.start()

    def _detach_after_fork(self) -> None:
        self._detached = True
        self._finished = True
