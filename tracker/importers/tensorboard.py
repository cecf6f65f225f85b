"""TensorBoard: a log dir's event files imported as runs, one per folder holding event files, read with TensorBoard's own EventAccumulator.

``tracker import tensorboard LOGDIR`` makes a run of each folder at or under ``LOGDIR`` that
holds event files (``*tfevents*``), as TensorBoard itself does: its name is the folder's path
relative to ``LOGDIR`` (``exp1/train``; the log dir's own name for event files at its top), its
project the log dir's name unless ``--project`` says otherwise. Each folder is read with
TensorBoard's ``plugin_event_accumulator`` with nothing sampled away, which turns TF1 and TF2
summaries (and PyTorch's ``SummaryWriter``) alike into plugin tensors:

- ``scalars``: a metric per tag, with each value's step and wall time;
- ``images``: a ``tracker.media.Image`` per encoded image, stored as its bytes (PNG as written);
- ``text``: a ``Text`` (a list of strings one per line; a 2-D array as a ``Table``);
- ``audio``: an ``Audio`` per clip, stored as its bytes (WAV as written), its label the caption;
- ``histograms``: a ``Histogram`` of the buckets' counts over their edges (adjacent buckets
  merged, a few at a time, past the 512 bins a Histogram holds);
- ``hparams``: the session start info's hyper-parameters become the config (numbers that are
  whole as ints: the plugin stores every number as a double), its group name the group; the
  session end info's status and end time the run's (else ``finished`` at its last event).

Everything else (PR curves, meshes, graphs, run metadata) is counted in the report as
skipped. A TensorBoard run has no id of its own: the source id kept is the name of the folder's
first event file (``events.out.tfevents.<time>.<host>.<pid>.<n>``), which its writer made unique; the host in
that name is the run's host.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

from . import NotASourceError, require_library
from .imported_run import ImportedRun, ImportReport
from ..media import Audio, Histogram, Image, Table, Text
from ..media.histogram import MAX_HISTOGRAM_BINS

require_library("tensorboard", "tensorboard", "tensorboard")  # missing: the CLI exits 2 naming the extra

from tensorboard.backend.event_processing import io_wrapper  # noqa: E402 (after the check above)
from tensorboard.backend.event_processing import plugin_event_accumulator as accumulator  # noqa: E402
from tensorboard.plugins.hparams import api_pb2 as hparams_api  # noqa: E402
from tensorboard.plugins.hparams import metadata as hparams_metadata  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

SOURCE = "tensorboard"
# 0: no reservoir sampling (the accumulator keeps 500 values a tag by default, the dashboard 10 images)
KEEP_EVERY_EVENT = {accumulator.TENSORS: 0}
EVENT_FILE_NAME = re.compile(r"events\.out\.tfevents\.\d+\.(?P<host>.+?)(?:\.\d+)*(?:\.v2)?")
SESSION_STATUSES = {hparams_api.STATUS_SUCCESS: "finished", hparams_api.STATUS_FAILURE: "failed",
                    hparams_api.STATUS_RUNNING: "running"}  # STATUS_UNKNOWN: finished at the last event


def import_runs(path, runs_dir, *, project: str | None = None) -> ImportReport:
    """Import every run folder of the log dir ``path`` into ``runs_dir``."""
    log_dir = Path(path)
    report = ImportReport(SOURCE, str(path), Path(runs_dir), project=project)
    for folder in find_run_folders(log_dir):
        try:
            run = read_run(folder, log_dir)
        except (OSError, ValueError) as exc:  # ValueError: a folder whose event files hold no event
            report.skip(f"{folder}: not read ({type(exc).__name__}: {exc})")
            continue
        report.write(run)
    return report


def find_run_folders(log_dir: Path) -> list[Path]:
    """Each folder at or under ``log_dir`` holding event files, in path order."""
    if not log_dir.is_dir():
        raise NotASourceError(SOURCE, str(log_dir), "a TensorBoard log dir (a folder of event files)")
    folders = sorted(Path(folder) for folder in io_wrapper.GetLogdirSubdirectories(str(log_dir)))
    if not folders:
        raise NotASourceError(SOURCE, str(log_dir), "a TensorBoard log dir: event files (*tfevents*) at or below "
                                                    "it; found none")
    return folders


def read_run(folder: Path, log_dir: Path) -> ImportedRun:
    """The run of one folder's event files, as TensorBoard's EventAccumulator reads them."""
    events = accumulator.EventAccumulator(str(folder), size_guidance=KEEP_EVERY_EVENT)
    events.Reload()
    relative = folder.relative_to(log_dir).as_posix()
    event_files = sorted(name for name in os.listdir(folder) if io_wrapper.IsSummaryEventsFile(name))
    run = ImportedRun(source=SOURCE, source_id=event_files[0], source_path=str(folder.resolve()),
                      start_time=events.FirstEventTimestamp(),
                      name=log_dir.resolve().name if relative == "." else relative,
                      project=log_dir.resolve().name, host=_writer_host(event_files[0]))
    skipped: Counter = Counter()
    last_time = run.start_time
    for tag in events.Tags()[accumulator.TENSORS]:
        plugin = events.SummaryMetadata(tag).plugin_data.plugin_name
        values = events.Tensors(tag)
        last_time = max([last_time, *(value.wall_time for value in values)])
        if plugin == hparams_metadata.PLUGIN_NAME:
            continue  # read below from the plugin's own content, as its dashboard does
        reader = PLUGIN_READERS.get(plugin)
        if reader is None:
            skipped[f"{plugin or 'untyped tensor'} values under {tag!r}"] += len(values)
            continue
        for value in values:
            try:
                reader(run, tag, value.step, value.wall_time, tensor_util.make_ndarray(value.tensor_proto))
            except Exception as exc:  # a value the media class refuses: that value only
                skipped[f"{plugin} values under {tag!r} ({type(exc).__name__}: {exc})"] += 1
    run.end_time = last_time
    _read_hparams(run, events)
    if events.Tags().get(accumulator.GRAPH):
        skipped["model graph"] += 1
    for tag in events.Tags().get(accumulator.RUN_METADATA, []):
        skipped[f"run metadata under {tag!r}"] += 1
    run.skipped.extend(f"{what}: {count}" for what, count in sorted(skipped.items()))
    return run


def _scalar(run: ImportedRun, tag: str, step: int, wall_time: float, array) -> None:
    run.metrics.setdefault(tag, []).append((step, wall_time, array.item()))


def _audio(run: ImportedRun, tag: str, step: int, wall_time: float, array) -> None:
    """The audio plugin's tensor: one [encoded audio, label] row per clip (a TF1 summary's: [encoded])."""
    rows = array if array.ndim == 2 else array.reshape(-1, 1)
    for encoded, *label in rows:
        caption = _decoded(label[0]) if label and label[0] else None
        run.media.append((tag, step, wall_time, media_from_bytes(Audio, encoded, caption=caption)))


def _images(run: ImportedRun, tag: str, step: int, wall_time: float, array) -> None:
    """The images plugin's tensor: [width, height, encoded image, ...] as strings."""
    for encoded in array.ravel()[2:]:
        run.media.append((tag, step, wall_time, media_from_bytes(Image, encoded)))


def _text(run: ImportedRun, tag: str, step: int, wall_time: float, array) -> None:
    strings = [_decoded(item) for item in array.ravel()]
    if array.ndim == 2 and array.size > 1:
        media = Table(rows=[[_decoded(item) for item in row] for row in array],
                      columns=[f"column {index}" for index in range(array.shape[1])])
    else:
        media = Text("\n".join(strings))
    run.media.append((tag, step, wall_time, media))


def _histogram(run: ImportedRun, tag: str, step: int, wall_time: float, array) -> None:
    """The histograms plugin's tensor: one [left edge, right edge, count] row per bucket."""
    if array.size == 0:
        raise ValueError("no buckets")
    lefts, rights, counts = array[:, 0].tolist(), array[:, 1].tolist(), array[:, 2].tolist()
    if any(right != left for right, left in zip(rights, lefts[1:])):
        raise ValueError("buckets that are not contiguous")
    merged = -(-len(counts) // MAX_HISTOGRAM_BINS)  # PyTorch's writer makes hundreds of narrow buckets
    counts = [sum(counts[start:start + merged]) for start in range(0, len(counts), merged)]
    run.media.append((tag, step, wall_time, Histogram(counts=counts, edges=[*lefts[::merged], rights[-1]])))


PLUGIN_READERS = {"scalars": _scalar, "images": _images, "audio": _audio, "text": _text, "histograms": _histogram}


def _read_hparams(run: ImportedRun, events) -> None:
    """Config, group, status and end time from the HParams plugin's session records, where written."""
    try:
        content = events.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    except KeyError:  # no hparams in this run
        return
    if hparams_metadata.SESSION_START_INFO_TAG in content:
        start = hparams_metadata.parse_session_start_info_plugin_data(
            content[hparams_metadata.SESSION_START_INFO_TAG])
        run.config = {name: _hparam_value(value) for name, value in sorted(start.hparams.items())}
        run.group = start.group_name or run.group
    if hparams_metadata.SESSION_END_INFO_TAG in content:
        end = hparams_metadata.parse_session_end_info_plugin_data(content[hparams_metadata.SESSION_END_INFO_TAG])
        run.status = SESSION_STATUSES.get(end.status, run.status)
        if end.end_time_secs:
            run.end_time = max(run.end_time, end.end_time_secs)


def _hparam_value(value):
    """A google.protobuf Value as a Python value; whole numbers as ints (the plugin stores doubles)."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind in ("string_value", "bool_value"):
        return getattr(value, kind)
    return None  # null_value, or a list or struct the HParams dashboard does not show either


def media_from_bytes(media_class, encoded: bytes, **options):
    """An ``Image`` or ``Audio`` of an encoded file's bytes, stored as those bytes: both read a file
    at the call (and tell its format from its first bytes), so the bytes pass through a temporary one."""
    with tempfile.TemporaryDirectory(prefix="tracker-import-") as folder:
        path = Path(folder, "media")
        path.write_bytes(encoded)
        return media_class(path, **options)


def _writer_host(event_file: str) -> str | None:
    """The host in an event file's name, as TensorFlow and PyTorch name them:
    ``events.out.tfevents.<time>.<host>[.<pid>.<n>][.v2]``."""
    named = EVENT_FILE_NAME.fullmatch(event_file)
    return named["host"] if named else None


def _decoded(item) -> str:
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
