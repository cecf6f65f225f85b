"""The public logging API used in-process: values, config, summary, datasets, artifacts."""
import argparse
import dataclasses
import datetime
import enum
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tracker
from tracker.errors import ArtifactNameError, MetricValueError, NoActiveRunError, RunDirError, RunFinishedError
from tracker.reader import load_run


def events(run):
    with open(pathlib.Path(run.path) / "events.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_public_api_is_pinned():
    assert sorted(tracker.__all__) == sorted(
        ["Audio", "Figure", "Histogram", "Image", "Run", "Table", "Text", "TrackerError", "UsageError", "Video",
         "alert", "autolog", "finish", "init", "log", "runs", "seed_everything", "__version__"])
    assert all(getattr(tracker, name) is not None for name in tracker.__all__)
    assert tracker.Image is __import__("tracker.media", fromlist=["Image"]).Image


def test_import_tracker_and_init_load_neither_numpy_nor_a_media_module():
    script = ("import sys, tracker\nrun = tracker.init\n"
              "print(' '.join(m for m in sys.modules if m in ('numpy', 'tracker.media') or m.startswith('tracker.media.')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_log_auto_increments_and_reads_back(tmp_path):
    with tracker.init(project="mnist", name="baseline", config={"lr": 1e-3, "layers": [64, 64]},
                      tags=["baseline"], notes="first try", dir=tmp_path, capture=False) as run:
        run.log({"loss": 0.5, "acc": 0.8})
        run.log({"loss": 0.4, "acc": 0.85})
        run.log({"loss": 0.3}, step=10)
        run.log({"loss": 0.2})
        run.config.update({"batch": 32})
        run.log_params(epochs=3)
        run.summary["best_acc"] = 0.93
    [record] = tracker.runs(tmp_path)
    assert (record.id, record.name, record.project, record.status) == (run.id, "baseline", "mnist", "finished")
    assert record.config == {"lr": 1e-3, "layers": [64, 64], "batch": 32, "epochs": 3}
    assert record.tags == ["baseline"] and record.notes == "first try"
    loss = record.history("loss")
    assert loss.steps == [0, 1, 10, 11] and loss.values == [0.5, 0.4, 0.3, 0.2]
    assert all(isinstance(t, float) for t in loss.times)
    assert record.summary == {"loss": 0.2, "acc": 0.85, "best_acc": 0.93}


def test_module_level_helpers_act_on_active_run(tmp_path):
    run = tracker.init(project="p", dir=tmp_path, capture=False)
    tracker.log({"x": 1})
    tracker.finish()
    assert load_run(run.path).history("x").values == [1]
    with pytest.raises(NoActiveRunError, match=r"Call tracker.init\(\) before tracker.log\(\)"):
        tracker.log({"x": 2})


def test_numpy_and_item_values_are_numbers(tmp_path):
    class FakeGpuTensor:  # anything with .item(), as torch/jax/tf 0-d tensors have
        def item(self):
            return 2.5

    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"f32": np.float32(0.5), "i64": np.int64(3), "zero_d": np.array(1.5), "bool": True,
                 "tensor": FakeGpuTensor()})
    record = load_run(run.path)
    assert {name: record.history(name).values for name in record.metric_names} == {
        "f32": [0.5], "i64": [3], "zero_d": [1.5], "bool": [1], "tensor": [2.5]}


@pytest.mark.parametrize("bad", ["0.5", None, [1, 2], np.array([1.0, 2.0])])
def test_non_numeric_metric_is_refused_naming_the_key(tmp_path, bad):
    with tracker.init(dir=tmp_path, capture=False) as run:
        with pytest.raises(MetricValueError, match="metric 'loss'") as caught:
            run.log({"loss": bad})
        assert caught.value.key == "loss"
        run.log({"loss": 1.0})  # the run is still usable
    assert load_run(run.path).history("loss").values == [1.0]


def test_nan_and_infinity_round_trip(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"loss": math.nan, "up": math.inf, "down": -math.inf, "ok": 1.0})
        run.summary["worst"] = math.inf
    lines = pathlib.Path(run.path, "events.jsonl").read_text().splitlines()
    for line in lines:
        json.loads(line, parse_constant=lambda token: pytest.fail(f"non-JSON literal {token} in {line}"))
    record = load_run(run.path)
    assert math.isnan(record.history("loss").values[0])
    assert record.history("up").values == [math.inf] and record.history("down").values == [-math.inf]
    assert record.summary["worst"] == math.inf


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Optimizer:
    name: str
    betas: tuple


def test_config_values_of_common_types_are_stored_faithfully(tmp_path):
    config = {
        "path": pathlib.Path("/data/train.csv"), "color": Color.RED, "opt": Optimizer("adam", (0.9, 0.999)),
        "args": argparse.Namespace(lr=0.1, layers=[1, 2]), "np_float": np.float64(0.25), "np_array": np.arange(3),
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5), "nested": {"a": [1, {"b": None}]}, "nan": math.nan,
    }
    with tracker.init(dir=tmp_path, config=config, capture=False) as run:
        pass
    stored = load_run(run.path).config
    assert stored == {
        "path": "/data/train.csv", "color": "red", "opt": {"name": "adam", "betas": [0.9, 0.999]},
        "args": {"lr": 0.1, "layers": [1, 2]}, "np_float": 0.25, "np_array": [0, 1, 2],
        "when": "2026-01-02T03:04:05", "nested": {"a": [1, {"b": None}]}, "nan": "NaN"}


def test_unknown_config_value_is_stored_as_repr_with_a_warning(tmp_path):
    class Opaque:
        def __repr__(self):
            return "<Opaque thing>"

    with pytest.warns(UserWarning, match=r"config\.model is a .*Opaque; stored as its repr"):
        with tracker.init(dir=tmp_path, config={"model": Opaque()}, capture=False) as run:
            pass
    assert load_run(run.path).config == {"model": "<Opaque thing>"}


def test_dataset_hash_size_and_rows(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n5,6\n")
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"abc")
    (folder / "b.bin").write_bytes(b"defg")
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        run.log_dataset(data, name="train")
        run.log_dataset(folder)
    datasets = {d["name"]: d for d in load_run(run.path).datasets}
    import hashlib

    assert datasets["train"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert datasets["train"]["size_bytes"] == data.stat().st_size
    assert datasets["train"]["rows"] == 3 and datasets["train"]["columns"] == ["x", "y"]
    assert datasets["images"]["kind"] == "folder" and datasets["images"]["files"] == 2
    assert datasets["images"]["size_bytes"] == 7


def test_dataset_hash_cache_is_keyed_by_size_and_mtime(tmp_path):
    from tracker.datasets import describe_dataset

    data = tmp_path / "d.bin"
    data.write_bytes(b"one")
    cache = str(tmp_path / "cache.json")
    first = describe_dataset(str(data), "d", cache_path=cache)
    assert json.loads(pathlib.Path(cache).read_text())  # the hash is cached
    data.write_bytes(b"two!")
    second = describe_dataset(str(data), "d", cache_path=cache)
    assert first["sha256"] != second["sha256"]


def test_artifact_is_copied_and_escaping_names_are_refused(tmp_path):
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights")
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        stored = run.log_artifact(model)
        run.log_artifact(model, name="checkpoints/best.pt")
        for bad in ["../escape.pt", "a/../../b", "/etc/passwd", "..", ""]:
            with pytest.raises(ArtifactNameError):
                run.log_artifact(model, name=bad)
    assert pathlib.Path(stored).read_bytes() == b"weights"
    assert pathlib.Path(run.path, "artifacts/checkpoints/best.pt").exists()
    assert not (tmp_path / "runs" / "escape.pt").exists() and not (tmp_path / "escape.pt").exists()
    names = [a["name"] for a in load_run(run.path).artifacts]
    assert names == ["model.pt", "checkpoints/best.pt"]


def test_log_after_finish_is_a_clear_error(tmp_path):
    run = tracker.init(dir=tmp_path, capture=False)
    run.finish()
    run.finish()  # twice is fine
    with pytest.raises(RunFinishedError, match="is finished"):
        run.log({"x": 1})


def test_unwritable_runs_folder_is_a_clear_error_at_init(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RunDirError, match=f"cannot write runs folder {blocker}/runs"):
        tracker.init(dir=blocker / "runs", capture=False)


def test_exception_inside_with_marks_run_failed_with_traceback(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with tracker.init(dir=tmp_path, capture=False) as run:
            run.log({"x": 1})
            1 / 0
    record = load_run(run.path)
    assert record.status == "failed"
    assert "ZeroDivisionError: division by zero" in record.error


def test_keyboard_interrupt_inside_with_marks_run_interrupted(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with tracker.init(dir=tmp_path, capture=False) as run:
            raise KeyboardInterrupt
    assert load_run(run.path).status == "interrupted"


def test_resume_appends_to_the_same_run(tmp_path):
    with tracker.init(project="p", name="long", dir=tmp_path, config={"lr": 0.1}, capture=False) as run:
        for _ in range(5):
            run.log({"loss": 1.0})
    with tracker.init(id=run.id, resume=True, dir=tmp_path, capture=False) as resumed:
        assert resumed.config == {"lr": 0.1} and resumed.name == "long" and resumed.project == "p"
        for _ in range(5):
            resumed.log({"loss": 0.5})
    record = load_run(run.path)
    assert record.history("loss").steps == list(range(10))
    assert record.status == "finished" and len(record.writers) == 2


def test_reusing_an_id_without_resume_is_refused(tmp_path):
    run = tracker.init(dir=tmp_path, capture=False)
    run.finish()
    with pytest.raises(tracker.UsageError, match="pass resume=True"):
        tracker.init(id=run.id, dir=tmp_path, capture=False)


def test_default_dir_comes_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DIR", str(tmp_path / "from-env"))
    with tracker.init(capture=False) as run:
        pass
    assert pathlib.Path(run.path).parent == tmp_path / "from-env"


def test_unknown_capture_part_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(tracker.UsageError, match=r"unknown capture part\(s\) 'gti'; choose from git, code"):
        tracker.init(dir=tmp_path, capture={"gti": False})
    assert list(tmp_path.iterdir()) == []
