"""Media from run.log() and the run's media methods to files and records: what lands in the run folder,
read back as a reader would (the JSON lines, the files' bytes, their SHA-256), and that training goes
on whatever a media object or the disk does."""
from __future__ import annotations

import hashlib
import json
import pathlib
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

import tracker
import tracker.writer
from tracker.errors import ArgumentTypeError, MetricValueError, RunFinishedError
from tracker.media import Media
from tracker.media.base import Encoded
from tracker.reader import load_run
from tracker.tail_reading import load_from_ends
from tests.scripts import read_lines, script_env, start_script

RNG = np.random.default_rng(14)


def records(run, kind: str | None = None) -> list[dict]:
    lines = []
    for file in sorted(pathlib.Path(run.path).glob("events*.jsonl")):
        lines += [json.loads(line) for line in read_lines(file)]
    return [line for line in lines if kind is None or line["type"] == kind]


def media_files(run) -> list[pathlib.Path]:
    return sorted(path for path in pathlib.Path(run.path, "media").glob("*/*"))


def stored(run, record: dict) -> bytes:
    return pathlib.Path(run.path, record["file"]).read_bytes()


def noise(height: int = 32, width: int = 32) -> np.ndarray:
    return RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)


class Unencodable(Media):
    """A media object whose encoding fails on the writer thread, as a library's bug would."""

    kind = "image"

    def encode(self) -> Encoded:
        raise ValueError("the codec gave up")


# --- log() with media beside numbers -----------------------------------------------------------

def test_an_image_beside_numbers_is_a_media_record_at_the_metrics_step(tmp_path):
    pixels = noise(4, 6)
    as_logged = pixels.copy()
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"loss": 0.5})
        run.log({"loss": 0.3, "val/samples": tracker.Image(pixels, caption="3 → 8")})
        pixels[:] = 0  # the script reuses its array: the logged image is the one at the call
        run.log({"loss": 0.2})
    [metrics_1] = [record for record in records(run, "metrics") if record["step"] == 1]
    assert metrics_1["values"] == {"loss": 0.3}
    [media] = records(run, "media")
    assert {key: media[key] for key in ("key", "step", "time", "index", "kind", "format", "width", "height",
                                        "caption")} == {
        "key": "val/samples", "step": 1, "time": metrics_1["time"], "index": 0, "kind": "image", "format": "png",
        "width": 6, "height": 4, "caption": "3 → 8"}
    data = stored(run, media)
    digest = hashlib.sha256(data).hexdigest()
    assert media["file"] == f"media/{digest[:2]}/{digest}.png" and media["size_bytes"] == len(data)
    from PIL import Image as PILImage

    assert (np.asarray(PILImage.open(pathlib.Path(run.path, media["file"]))) == as_logged).all()
    assert load_run(run.path).history("loss").values == [0.5, 0.3, 0.2]


def test_a_list_of_media_under_one_key_is_one_record_each_in_order(tmp_path):
    texts = [tracker.Text(f"sample {index}") for index in range(3)]
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"generated": texts}, step=7)
        run.log({"generated": (tracker.Text("only"),)})
    media = records(run, "media")
    assert [(record["key"], record["step"], record["index"]) for record in media] == [
        ("generated", 7, 0), ("generated", 7, 1), ("generated", 7, 2), ("generated", 8, 0)]
    assert [stored(run, record).decode() for record in media] == ["sample 0", "sample 1", "sample 2", "only"]
    assert records(run, "metrics") == []  # nothing but media: no empty metrics record


def test_misuse_with_media_raises_naming_the_value_and_logs_nothing(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        with pytest.raises(ArgumentTypeError, match=r"log\(\) value 'samples'\[1\]"):
            run.log({"loss": 1.0, "samples": [tracker.Text("a"), 3]})
        with pytest.raises(MetricValueError, match="metric 'samples'"):
            run.log({"samples": [3, tracker.Text("a")]})
        with pytest.raises(ArgumentTypeError, match="log_media"):
            run.log_media("samples", [1, 2])
        with pytest.raises(ArgumentTypeError, match="log_media\\(\\) key"):
            run.log_media(3, tracker.Text("a"))
    assert records(run, "media") == [] and records(run, "metrics") == []
    with pytest.raises(RunFinishedError):
        run.log_image("late", noise())


def test_plain_numbers_stay_on_the_fast_path_after_media(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"loss": 1.0, "image": tracker.Image(noise())})
        for step in range(1, 100):
            run.log({"loss": 1.0 / step})
        assert "loss" in run._metric_names  # log()'s fast path takes {"loss": x} from now on
    assert load_run(run.path).history("loss").steps == list(range(100))


# --- content-addressed files -------------------------------------------------------------------

def test_the_same_image_logged_100_times_is_stored_once(tmp_path):
    pixels = noise()
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"loss": 0.0, "same": tracker.Image(pixels)})
        deadline = time.monotonic() + 10
        while not media_files(run) and time.monotonic() < deadline:  # the writer starts on it at once
            time.sleep(0.01)
        [first] = media_files(run)
        written = first.stat()
        for step in range(1, 100):
            run.log({"loss": float(step), "same": tracker.Image(pixels)})
    media = records(run, "media")
    assert len(media) == 100 and len({record["file"] for record in media}) == 1
    [only] = media_files(run)
    assert only.relative_to(run.path).as_posix() == media[0]["file"]
    # written once: each write is a new file renamed over the name, so a rewrite would change the inode
    assert (only.stat().st_ino, only.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert [path.name for path in pathlib.Path(run.path).rglob("*.tmp-*")] == []


def test_a_20000_row_table_keeps_10000_rows_and_records_the_dropped_count(tmp_path):
    rows = [[index, f"row {index}", index % 2 == 0] for index in range(20_000)]
    with tracker.init(dir=tmp_path, capture=False) as run:
        with pytest.warns(UserWarning, match="kept the first 10,000 rows"):
            run.log_table("predictions", rows=rows, columns=["id", "text", "even"])
    [record] = records(run, "media")
    assert (record["kind"], record["rows"], record["columns"], record["dropped_rows"], record["dropped_columns"]) == (
        "table", 10_000, 3, 10_000, 0)
    document = json.loads(stored(run, record))
    assert len(document["rows"]) == 10_000 and document["rows"][-1] == [9_999, "row 9999", False]


def test_a_tables_image_cells_are_stored_before_it_and_listed_in_its_record(tmp_path):
    cell = tracker.Image(noise(), caption="worst")
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"worst": tracker.Table(rows=[[cell, 0.1], [cell, 0.2]], columns=["input", "p"])})
    [record] = records(run, "media")
    document = json.loads(stored(run, record))
    image_file = document["rows"][0][0]["image"]
    assert record["attachments"] == [image_file]
    assert pathlib.Path(run.path, image_file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the explicit methods ----------------------------------------------------------------------

def test_each_explicit_method_logs_its_kind_at_the_current_step(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure()
    figure.add_subplot().plot([1, 2, 3])
    gif = tmp_path / "clip.gif"
    gif.write_bytes(b"GIF89a\x02\x00\x01\x00\x00\x00\x00;")
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        run.log_image("first", noise())  # before any log(): step 0
        run.log({"loss": 0.5}, step=4)
        run.log_image("image", noise(), caption="c")
        run.log_table("table", rows=[[1]], columns=["a"])
        run.log_figure("figure", figure)
        run.log_histogram("histogram", values=RNG.normal(size=1000), bins=16)
        run.log_text("text", "hello")
        run.log_audio("audio", np.zeros(800, dtype=np.float32), sample_rate=8000)
        run.log_video("video", gif)
        run.log_media("explicit", tracker.Text("at 9"), step=9)
        run.log({"loss": 0.4})  # the explicit step did not move the run's step
    media = {record["key"]: record for record in records(run, "media")}
    assert {key: (record["kind"], record["step"]) for key, record in media.items()} == {
        "first": ("image", 0), "image": ("image", 4), "table": ("table", 4), "figure": ("figure", 4),
        "histogram": ("histogram", 4), "text": ("text", 4), "audio": ("audio", 4), "video": ("video", 4),
        "explicit": ("text", 9)}
    assert media["figure"]["format"] == "svg" and stored(run, media["figure"]).lstrip().startswith(b"<?xml")
    assert media["histogram"]["bins"] == 16 and media["histogram"]["count"] == 1000
    assert media["audio"]["duration_s"] == 0.1 and stored(run, media["audio"])[:4] == b"RIFF"
    assert stored(run, media["video"]) == gif.read_bytes()
    assert load_run(run.path).history("loss").steps == [4, 5]


def test_module_level_log_takes_media_too(tmp_path):
    run = tracker.init(dir=tmp_path, capture=False)
    tracker.log({"loss": 1.0, "note": tracker.Text("from tracker.log")})
    tracker.finish()
    [record] = records(run, "media")
    assert record["step"] == 0 and stored(run, record) == b"from tracker.log"


# --- the evaluation helpers: the numbers are scikit-learn's --------------------------------------

def test_evaluation_helpers_record_scikit_learns_numbers(tmp_path):
    classes = ["cat", "dog", "emu"]
    y_true = RNG.choice(classes, 300)
    scores = RNG.random((300, 3))
    scores[np.arange(300), [classes.index(label) for label in y_true]] += 0.4  # better than chance
    scores /= scores.sum(axis=1, keepdims=True)
    y_pred = np.array(classes)[scores.argmax(axis=1)]
    binary_true = (y_true == "dog").astype(int)
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"accuracy": float((y_true == y_pred).mean())}, step=3)
        run.log_confusion_matrix("cm", y_true, y_pred)
        run.log_roc_curve("roc", y_true, scores, labels=classes)
        run.log_pr_curve("pr", y_true, scores, labels=classes)
        run.log_roc_curve("roc_binary", binary_true, scores[:, 1])
        run.log_pr_curve("pr_binary", binary_true, scores[:, 1])
        run.log_feature_importance("importance", ["a", "b", "c"], [0.1, -0.7, 0.3])
    media = {record["key"]: record for record in records(run, "media")}
    assert {record["step"] for record in media.values()} == {3}

    cm = media["cm"]
    document = json.loads(stored(run, cm))
    assert document["labels"] == classes
    assert document["matrix"] == sk.confusion_matrix(y_true, y_pred, labels=classes).tolist()
    assert cm["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-12)
    assert cm["samples"] == 300 and cm["classes"] == 3

    one_hot = np.array([[label == name for name in classes] for label in y_true])
    assert media["roc"]["auc"] == pytest.approx(sk.roc_auc_score(one_hot, scores, average="macro"), abs=1e-12)
    assert media["pr"]["average_precision"] == pytest.approx(
        sk.average_precision_score(one_hot, scores, average="macro"), abs=1e-12)
    curves = json.loads(stored(run, media["roc"]))["curves"]
    assert [curve["label"] for curve in curves] == classes
    for index, curve in enumerate(curves):
        assert curve["auc"] == pytest.approx(sk.roc_auc_score(one_hot[:, index], scores[:, index]), abs=1e-12)
    assert media["roc_binary"]["auc"] == pytest.approx(sk.roc_auc_score(binary_true, scores[:, 1]), abs=1e-12)
    assert media["pr_binary"]["average_precision"] == pytest.approx(
        sk.average_precision_score(binary_true, scores[:, 1]), abs=1e-12)

    importance = json.loads(stored(run, media["importance"]))
    assert [feature["name"] for feature in importance["features"]] == ["b", "c", "a"]


# --- trouble: a failing encoder, the budget, a slow writer, SIGKILL --------------------------------

def test_a_media_object_that_cannot_be_encoded_warns_once_naming_key_and_step_and_training_goes_on(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracker.init(dir=tmp_path, capture=False) as run:
            for step in range(5):
                run.log({"loss": float(step), "broken": Unencodable(), "fine": tracker.Text(f"t{step}")})
    shown = [str(warning.message) for warning in caught if "could not encode" in str(warning.message)]
    assert shown == ["tracker: could not encode media 'broken' at step 0 (ValueError: the codec gave up); "
                     "it is not stored, and training continues"]
    assert [record["key"] for record in records(run, "media")] == ["fine"] * 5
    assert load_run(run.path).history("loss").steps == [0, 1, 2, 3, 4]
    # media records do not spoil the end record's state: a listing from the file's ends reads the run as a full read
    fast, full = load_from_ends(run.path), load_run(run.path, last_only=True)
    assert fast is not None and fast.as_filterable() == full.as_filterable()


class Escaping(Media):
    """A media object of a script's own, whose extension would lead its file out of media/."""

    kind = "text"

    def encode(self) -> Encoded:
        return Encoded(b"x", "/../../escaped", {"kind": "text"})


def test_a_media_file_name_that_would_leave_media_is_refused_with_the_warning_of_a_failed_encode(tmp_path):
    with pytest.warns(RuntimeWarning, match=r"could not encode media 'bad' at step 0 .*not a media file name"):
        with tracker.init(dir=tmp_path, capture=False) as run:
            run.log({"loss": 1.0, "bad": Escaping()})
    assert records(run, "media") == [] and not pathlib.Path(run.path, "media").exists()
    assert sorted(path.name for path in tmp_path.rglob("*escaped*")) == []


def test_past_the_media_budget_media_are_skipped_with_one_warning_and_metrics_go_on(tmp_path):
    images = [noise() for _ in range(10)]  # about 3.1 KB each as PNG: noise does not compress
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracker.init(dir=tmp_path, capture=False, media_budget_mb=0.01) as run:  # 10,000 bytes
            for step, pixels in enumerate(images):
                run.log({"loss": float(step), "sample": tracker.Image(pixels)})
            run.log({"sample": tracker.Image(images[0])}, step=20)  # after the budget: skipped, stored or not
    shown = [str(warning.message) for warning in caught if "budget" in str(warning.message)]
    assert len(shown) == 1 and "media 'sample' at step 3" in shown[0] and "budget of 0.01 MB" in shown[0]
    media = records(run, "media")
    assert [record["step"] for record in media] == [0, 1, 2]
    assert sum(path.stat().st_size for path in media_files(run)) <= 10_000
    assert load_run(run.path).history("loss").steps == list(range(10))


def test_the_budget_comes_from_the_environment_and_counts_a_resumed_runs_earlier_media(tmp_path, monkeypatch):
    pixels = [noise() for _ in range(4)]
    with tracker.init(dir=tmp_path, id="resumed", capture=False) as run:
        run.log({"a": tracker.Image(pixels[0]), "b": tracker.Image(pixels[1])})
    before = sum(path.stat().st_size for path in media_files(run))
    monkeypatch.setenv("TRACKER_MEDIA_BUDGET_MB", str((before + 4_000) / 1e6))  # room for one more image
    with pytest.warns(RuntimeWarning, match="budget"):
        with tracker.init(dir=tmp_path, id="resumed", resume=True, capture=False) as run:
            run.log({"a": tracker.Image(pixels[0])})  # already stored: costs nothing
            run.log({"c": tracker.Image(pixels[2])})
            run.log({"d": tracker.Image(pixels[3])})
    assert sorted(record["key"] for record in records(run, "media")) == ["a", "a", "b", "c"]
    monkeypatch.setenv("TRACKER_MEDIA_BUDGET_MB", "lots")
    with pytest.raises(ArgumentTypeError, match="TRACKER_MEDIA_BUDGET_MB"):
        tracker.init(dir=tmp_path, capture=False)
    with pytest.raises(ArgumentTypeError, match="media_budget_mb"):
        tracker.init(dir=tmp_path, capture=False, media_budget_mb=-1)


class Blocking(Media):
    """A media object whose encoding waits for the test: a writer that has fallen behind."""

    kind = "text"

    def __init__(self, release: threading.Event, size: int):
        self._release = release
        self._data = b"x" * size  # what its copy holds while it waits

    def encode(self) -> Encoded:
        self._release.wait(10)
        return Encoded(self._data, "txt", {"kind": "text", "chars": len(self._data), "truncated": False})


def test_media_past_the_queue_bound_wait_for_the_writer_then_are_dropped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(tracker.writer, "BACKPRESSURE_MAX_WAIT_S", 0.3)
    release = threading.Event()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracker.init(dir=tmp_path, capture=False) as run:
            run._writer.max_queued_media_bytes = 1_000
            run.log({"first": Blocking(release, 900)})  # the writer is stuck encoding this one
            run._writer._wake.set()
            started = time.monotonic()
            run.log({"loss": 1.0, "second": Blocking(release, 900)})  # waits 0.3 s for room, then dropped
            waited = time.monotonic() - started
            release.set()
            run.log({"loss": 2.0, "third": Blocking(release, 900)})  # room again: queued
    assert 0.3 <= waited < 3
    shown = [str(warning.message) for warning in caught if "TRACKER_MAX_QUEUED_MEDIA_BYTES" in str(warning.message)]
    assert len(shown) == 1 and "media 'second' at step 1 is dropped" in shown[0]
    assert [record["key"] for record in records(run, "media")] == ["first", "third"]
    assert load_run(run.path).history("loss").values == [1.0, 2.0]


SIGKILLED_LOGGER = """
import sys, time
import numpy as np
import tracker
run = tracker.init(project="p", name="images", dir=sys.argv[1], capture=False)
print(run.path, flush=True)
step = 0
while True:
    pixels = np.full((16, 16, 3), step % 256, dtype=np.uint8)
    pixels[0, 0] = (step // 256, step % 7, 1)  # every step a different image
    run.log({"loss": 1.0 / (step + 1), "sample": tracker.Image(pixels, caption=str(step))})
    print(step, flush=True)
    step += 1
    time.sleep(0.01)
"""


def test_a_sigkilled_run_keeps_its_media_written_before_the_last_flush(tmp_path):
    process = start_script(tmp_path, SIGKILLED_LOGGER, str(tmp_path / "runs"), env=script_env())
    run_path = pathlib.Path(process.stdout.readline().strip())
    time.sleep(2.0)
    process.send_signal(signal.SIGKILL)
    last_logged = int(process.communicate()[0].split()[-1])
    lines = [json.loads(line) for line in read_lines(run_path / "events.jsonl")]
    media = [line for line in lines if line["type"] == "media"]
    assert [record["step"] for record in media] == list(range(len(media)))
    assert last_logged - media[-1]["step"] <= 60, (last_logged, media[-1]["step"])  # flush interval 0.2 s
    for record in media:  # every record names a whole file of its content
        data = (run_path / record["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["file"].rsplit("/", 1)[1].split(".")[0]
        assert len(data) == record["size_bytes"] and record["caption"] == str(record["step"])
    record = load_run(str(run_path))
    assert record.warnings == []
    assert record.history("loss").steps[-1] >= media[-1]["step"] - 1
    assert load_run(str(run_path), now=time.time() + 60).status == "crashed"


def test_a_media_record_naming_a_file_outside_media_is_skipped_by_the_reader(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"loss": 1.0, "text": tracker.Text("fine")})
    events = pathlib.Path(run.path, "events.jsonl")
    lines = read_lines(events)
    bad = {"type": "media", "key": "x", "step": 0, "time": 1.79e9, "file": "../../etc/passwd", "kind": "text"}
    events.write_text("\n".join(lines[:-1] + [json.dumps(bad), lines[-1]]) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="media.file"):
        problems = load_run(run.path).warnings
    assert len(problems) == 1 and "media.file is str, expected a media file name" in problems[0]
