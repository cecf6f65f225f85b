"""W&B scripts through ``import tracker.compat.wandb as wandb``, each run as a real script and its
run read back with tracker.reader.load_run: a typical script, W&B's step and commit rules, media,
summary, statuses, resuming, and what does not map."""
from __future__ import annotations

import json
import pathlib

import pytest

from tests.scripts import run_script
from tracker.reader import load_run


def only_run(folder):
    [path] = [path for path in pathlib.Path(folder).iterdir() if path.is_dir() and not path.name.startswith(".")]
    return load_run(str(path))


def media_records(run) -> list[dict]:
    lines = pathlib.Path(run.path, "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["type"] == "media"]


def test_a_wandb_script_changes_only_its_import_line(tmp_path):
    done = run_script(tmp_path, """
        import argparse
        import numpy as np
        import tracker.compat.wandb as wandb

        args = argparse.Namespace(epochs=3, batch_size=32)
        run = wandb.init(project="mnist", name="baseline", config={"lr": 1e-3}, tags=["cnn"],
                         notes="first try", group="sweep-1", dir="runs")
        wandb.config.update(args)
        wandb.config.dropout = 0.1
        wandb.config["momentum"] = 0.9
        assert wandb.config.lr == 1e-3 and wandb.config["batch_size"] == 32
        for epoch in range(wandb.config.epochs):
            wandb.log({"train": {"loss": 1.0 / (epoch + 1)}, "acc": 0.5 + epoch / 10})
        table = wandb.Table(columns=["input", "label"])
        table.add_data("a cat", 1)
        table.add_data("a dog", 0)
        wandb.log({"samples": wandb.Image(np.zeros((8, 8, 3), dtype=np.uint8), caption="blank"),
                   "weights": wandb.Histogram(np.arange(100.0), num_bins=10), "predictions": table})
        wandb.summary["best_acc"] = 0.93
        assert wandb.run.summary["acc"] == 0.7  # the last logged value until one is set
        wandb.finish()
        assert wandb.run is None
        print(run.id)
    """)
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path / "runs")
    assert run.id == done.stdout.strip()
    assert (run.project, run.name, run.group, run.notes, run.tags) == ("mnist", "baseline", "sweep-1",
                                                                        "first try", ["cnn"])
    assert run.config == {"lr": 1e-3, "epochs": 3, "batch_size": 32, "dropout": 0.1, "momentum": 0.9}
    assert run.history("train.loss").steps == [0, 1, 2]
    assert run.history("acc").values == [0.5, 0.6, 0.7]
    assert run.status == "finished"
    assert run.explicit_summary == {"best_acc": 0.93}
    media = media_records(run)
    assert sorted((record["key"], record["step"], record["kind"]) for record in media) == [
        ("predictions", 3, "table"), ("samples", 3, "image"), ("weights", 3, "histogram")]
    [image] = [record for record in media if record["key"] == "samples"]
    assert image["caption"] == "blank"


def test_steps_follow_wandbs_commit_rules(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.wandb as wandb

        wandb.init(dir="runs")
        wandb.log({"a": 1.0}, commit=False)   # held at step 0
        wandb.log({"b": 2.0})                 # step 0 written with a and b; now step 1
        wandb.log({"c": 3.0}, step=5)         # held at step 5
        wandb.log({"d": 4.0}, step=5)         # still step 5
        wandb.log({"e": 5.0}, step=7)         # step 5 written; e held at 7
        wandb.log({"late": 6.0}, step=2)      # below the current step: W&B drops it, tracker records it
        assert wandb.run.step == 7
        wandb.finish()                        # step 7 written
    """)
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path / "runs")
    steps = {name: (history.steps, history.values) for name, history in run.histories.items()}
    assert steps == {"a": ([0], [1.0]), "b": ([0], [2.0]), "c": ([5], [3.0]), "d": ([5], [4.0]),
                     "e": ([7], [5.0]), "late": ([2], [6.0])}


def test_define_metric_summaries_and_a_nonzero_exit_code(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.wandb as wandb

        with wandb.init(dir="runs") as run:
            run.define_metric("val_loss", summary="min,mean")
            wandb.define_metric("acc", summary="max")
            for value in (0.5, 0.2, 0.5):
                wandb.log({"val_loss": value, "acc": 1 - value})
            run.finish(exit_code=3)
    """)
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path / "runs")
    assert run.explicit_summary == pytest.approx({"val_loss.min": 0.2, "val_loss.mean": 0.4, "acc.max": 0.8})
    assert run.summary["val_loss"] == 0.5
    assert (run.status, run.error) == ("failed", "exit code 3")


def test_an_exception_inside_the_run_fails_it_with_the_error_and_keeps_the_held_step(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.wandb as wandb

        with wandb.init(dir="runs", name="boom"):
            wandb.log({"loss": 1.0})
            wandb.log({"loss": 0.5}, step=4)
            raise ValueError("bad batch at step 4")
    """)
    assert done.returncode == 1
    run = only_run(tmp_path / "runs")
    assert run.status == "failed" and "ValueError: bad batch at step 4" in run.error
    assert run.history("loss").steps == [0, 4]


def test_init_with_an_id_and_resume_appends_to_the_run(tmp_path):
    code = """
        import sys
        import tracker.compat.wandb as wandb

        run = wandb.init(dir="runs", id="job-42", resume="allow", project="long")
        start = 0 if len(sys.argv) == 1 else 2
        assert run.step == start  # a resumed run goes on after its last step
        for step in range(start, start + 2):
            wandb.log({"loss": 1.0 / (step + 1)})
        wandb.finish()
    """
    assert run_script(tmp_path, code).returncode == 0
    again = run_script(tmp_path, code, "again")
    assert again.returncode == 0, again.stderr
    run = only_run(tmp_path / "runs")
    assert run.id == "job-42" and run.history("loss").steps == [0, 1, 2, 3]
    must = run_script(tmp_path, """
        import tracker.compat.wandb as wandb
        wandb.init(dir="runs", id="never-made", resume="must")
    """)
    assert must.returncode == 1
    assert "wandb.init(id='never-made', resume='must'): no such run in" in must.stderr


def test_what_does_not_map_is_an_error_or_one_warning_naming_the_call(tmp_path):
    done = run_script(tmp_path, """
        import warnings
        import tracker.compat.wandb as wandb

        warnings.simplefilter("always")
        try:
            wandb.log({"loss": 1.0})
        except Exception as exc:
            print("before init:", exc)
        with warnings.catch_warnings(record=True) as caught:
            run = wandb.init(dir="runs", entity="my-team")
            wandb.login()
            wandb.watch(object())
            for _ in range(2):
                run.alert(title="loss spiked", text="loss over 10")
            for _ in range(2):  # the second within wait_duration of the first: skipped, as W&B does
                wandb.alert(title="nan loss", text="at step 3", level=wandb.AlertLevel.ERROR, wait_duration=60)
        try:
            wandb.Artifact("model", type="model")
        except AttributeError as exc:
            print("artifact:", exc)
        wandb.finish()
        for message in sorted(str(w.message) for w in caught):
            print("warning:", message)
    """)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "before init: Call wandb.init() before wandb.log()"
    assert lines[1] == ("artifact: wandb.Artifact is not provided by tracker's drop-in API: pass file or "
                        "folder paths to run.log_artifact(path) or wandb.save(glob)")
    assert lines[2:] == [
        "warning: tracker.compat: wandb.init(entity=...): has no meaning without a W&B server; ignored",
        "warning: tracker.compat: wandb.login(): tracker writes runs to a folder; there is no server to log in to",
        "warning: tracker.compat: wandb.watch(): gradients and parameters are not recorded; log them with "
        "wandb.log({'grad_norm': ...}) or wandb.Histogram"]
    run = only_run(tmp_path / "runs")
    assert run.status == "finished"
    assert [(alert["title"], alert["text"], alert["level"]) for alert in run.alerts] == [
        ("loss spiked", "loss over 10", "warn"), ("loss spiked", "loss over 10", "warn"),
        ("nan loss", "at step 3", "error")]


def test_mode_disabled_runs_the_script_and_records_nothing(tmp_path):
    done = run_script(tmp_path, """
        import tracker.compat.wandb as wandb

        run = wandb.init(dir="runs", mode="disabled", config={"lr": 0.1})
        wandb.config.epochs = 2
        for epoch in range(wandb.config.epochs):
            wandb.log({"loss": 1.0 / (epoch + 1)})
        wandb.summary["best"] = 1.0
        wandb.finish()
        print(wandb.run, run.config.lr, run.step)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None 0.1 2"
    assert "tracker.compat: wandb.init(mode='disabled'): nothing is recorded, as asked" in done.stderr
    assert not (tmp_path / "runs").exists()
