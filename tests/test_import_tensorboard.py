"""tracker import tensorboard: event files written by a real writer (PyTorch's SummaryWriter, which
writes through the tensorboard package), imported and read back, compared field by field with
what TensorBoard's own (legacy) EventAccumulator reads from the same files."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

import tracker
from frameworks import require_framework
from tracker.reader import load_run

require_framework("tensorboard", extra="tensorboard")
# The writer: torch comes with the lightning, transformers and keras extras (CI installs them all).
tensorboard_writer = require_framework("torch.utils.tensorboard", extra="lightning")

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402 (after the skip)
from tensorboard.plugins.hparams import metadata as hparams_metadata  # noqa: E402

from tracker.importers.tensorboard import import_runs  # noqa: E402

EVERYTHING = {event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0, event_accumulator.AUDIO: 0,
              event_accumulator.HISTOGRAMS: 0, event_accumulator.TENSORS: 0}
HPARAMS = {"lr": 0.01, "batch_size": 32, "optimizer": "adam"}


def write_train_run(log_dir, steps=range(5)):
    """A training run as a script writes one: scalars, text, an image, a histogram, audio, hparams."""
    with tensorboard_writer.SummaryWriter(str(log_dir / "exp" / "train")) as writer:
        for step in steps:
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("acc/top1", step / 10, step)
        writer.add_text("notes", "first **try**", 0)
        image = np.linspace(0, 1, 3 * 6 * 8).reshape(3, 6, 8)  # CHW, as torch writes images
        writer.add_image("samples", image, 2)
        writer.add_histogram("weights", np.random.default_rng(0).normal(size=100), 3)
        writer.add_audio("clip", np.sin(np.linspace(0, 100, 800)), 4, sample_rate=8000)
        writer.add_hparams(HPARAMS, {"hp/final_loss": 0.2}, run_name=".")  # "." : into this run's folder


@pytest.fixture
def log_dir(tmp_path):
    logs = tmp_path / "logs"
    write_train_run(logs)
    with tensorboard_writer.SummaryWriter(str(logs / "exp" / "eval")) as writer:
        for step in (0, 2, 4):
            writer.add_scalar("loss", 2.0 / (step + 1), step)
    return logs


def run_record_of(folder) -> dict:
    [record] = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()
                if json.loads(line)["type"] == "run"]
    return record


def read_by_tensorboard(folder):
    events = event_accumulator.EventAccumulator(str(folder), size_guidance=EVERYTHING)
    events.Reload()
    return events


def test_each_run_folder_is_a_run_with_what_tensorboard_reads_from_it(log_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    report = import_runs(log_dir, runs_dir)

    assert (len(report.created), report.skipped) == (2, [])
    runs = {run.name: run for run in tracker.runs(runs_dir)}
    assert sorted(runs) == ["exp/eval", "exp/train"]
    for name, run in runs.items():
        folder = log_dir / name
        tensorboard = read_by_tensorboard(folder)
        run = load_run(run.path)
        assert (run.project, run.status, run.error) == ("logs", "finished", None)
        assert run.created == tensorboard.FirstEventTimestamp()
        for tag in tensorboard.Tags()["scalars"]:
            expected = tensorboard.Scalars(tag)
            history = run.histories[tag]
            assert history.steps == [event.step for event in expected]
            assert history.times == [event.wall_time for event in expected]
            assert history.values == [event.value for event in expected]
        assert set(run.histories) == set(tensorboard.Tags()["scalars"])
        first_event_file = sorted(path.name for path in folder.iterdir() if "tfevents" in path.name)[0]
        assert run_record_of(runs_dir / run.id)["imported_from"] == \
            {"source": "tensorboard", "id": first_event_file, "path": str(folder.resolve())}
        assert run.host == socket.gethostname()  # from the event file's name, as the writer named it

    train = load_run(runs["exp/train"].path)
    tensorboard = read_by_tensorboard(log_dir / "exp" / "train")
    assert set(train.histories) == {"loss", "acc/top1", "hp/final_loss"}
    [image] = tensorboard.Images("samples")
    [item] = train.media["samples"].items[image.step]
    assert (train.media["samples"].kind, item.time) == ("image", image.wall_time)
    assert (item.fields["width"], item.fields["height"]) == (image.width, image.height) == (8, 6)
    assert (runs_dir / train.id / item.file).read_bytes() == image.encoded_image_string
    [text] = tensorboard.Tensors("notes/text_summary")
    [item] = train.media["notes/text_summary"].items[text.step]
    assert (runs_dir / train.id / item.file).read_text() == text.tensor_proto.string_val[0].decode()
    [clip] = tensorboard.Audio("clip")
    [item] = train.media["clip"].items[clip.step]
    assert (runs_dir / train.id / item.file).read_bytes() == clip.encoded_audio_string
    assert item.fields["sample_rate"] == clip.sample_rate == 8000
    [histogram] = tensorboard.Histograms("weights")
    [item] = train.media["weights"].items[histogram.step]
    assert item.fields["count"] == histogram.histogram_value.num == 100
    assert (item.fields["min"], item.fields["max"]) == \
        pytest.approx((histogram.histogram_value.min, histogram.histogram_value.max))
    session = hparams_metadata.parse_session_start_info_plugin_data(
        tensorboard.PluginTagToContent("hparams")[hparams_metadata.SESSION_START_INFO_TAG])
    stored = {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
              for name, value in session.hparams.items()}
    assert train.config == stored == HPARAMS  # 32 was stored as 32.0; read back as the int it was
    assert type(train.config["batch_size"]) is int


def test_importing_again_is_the_same_runs_and_a_grown_run_is_replaced(log_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    first = import_runs(log_dir, runs_dir)
    again = import_runs(log_dir, runs_dir)
    write_train_run(log_dir, steps=range(5, 8))  # the script ran on: a second event file in the folder
    grown = import_runs(log_dir, runs_dir)

    assert sorted(again.unchanged) == sorted(first.created) and again.created == again.replaced == []
    [train] = [folder for folder in first.created if load_run(str(folder)).name == "exp/train"]
    assert (grown.replaced, len(grown.unchanged)) == ([train], 1)
    assert sorted(path.name for path in runs_dir.iterdir()) == sorted(folder.name for folder in first.created)
    assert load_run(str(train)).histories["loss"].steps == list(range(8))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True, text=True)


def test_tracker_import_tensorboard_prints_what_it_did(log_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    done = cli("import", "tensorboard", str(log_dir), "--runs", str(runs_dir), "--project", "legacy")

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"imported 2 tensorboard runs from {log_dir} into {runs_dir}: 2 created, 0 replaced, " \
                          "0 unchanged\n"
    assert sorted((run.project, run.name) for run in tracker.runs(runs_dir)) == \
        [("legacy", "exp/eval"), ("legacy", "exp/train")]

    empty = tmp_path / "no-logs"
    empty.mkdir()
    refused = cli("import", "tensorboard", str(empty), "--runs", str(runs_dir))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == f"tracker: error: {empty} is not a tensorboard source: expected a TensorBoard log " \
                             "dir: event files (*tfevents*) at or below it; found none\n"


def test_tracker_import_tensorboard_without_tensorboard_installed_names_the_extra(tmp_path):
    arguments = ["import", "tensorboard", str(tmp_path), "--runs", str(tmp_path / "runs")]
    script = f"import sys; sys.modules['tensorboard'] = None; from tracker.cli import main; " \
             f"sys.exit(main({arguments!r}))"
    hidden = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (hidden.returncode, hidden.stdout) == (2, "")
    assert hidden.stderr.startswith("tracker: error: importing from tensorboard needs the tensorboard package, "
                                    "not installed")
    assert hidden.stderr.endswith(": pip install 'serverless-ml-tracker[tensorboard]'\n")
    assert not (tmp_path / "runs").exists()
