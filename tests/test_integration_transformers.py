"""The Transformers callback on real (tiny) CPU trainings of a 1-layer GPT-2 built from a config (no
download, no tokenizer), the runs read back with load_run: one point per metric at each global step
although the Trainer logs training and evaluation in two calls, the TrainingArguments without the hub
token, the model's config, a training that raises (in the script and ending it), the main process
only, and the tracker failing inside the callback while training goes on."""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing here may reach the hub; set before transformers is imported

import importlib.util  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import warnings  # noqa: E402

import pytest  # noqa: E402

from tests.frameworks import require_framework  # noqa: E402

transformers = require_framework("transformers", extra="transformers")

import torch  # noqa: E402

import tracker  # noqa: E402
from tracker.integrations.transformers import TrackerCallback  # noqa: E402
from tracker.reader import load_run  # noqa: E402
from tracker.session import active_run  # noqa: E402

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parent.parent
HUB_TOKEN = "hf_" + "q" * 34  # the shape of a Hugging Face token
STEPS_PER_EPOCH = 3  # 24 sequences, batches of 8
EPOCHS = 2


def tiny_model():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=32, n_positions=16, n_embd=8, n_layer=1, n_head=2,
                                     bos_token_id=0, eos_token_id=0)
    return transformers.GPT2LMHeadModel(config)


class Sequences(torch.utils.data.Dataset):
    def __init__(self):
        self.ids = torch.randint(0, 32, (8 * STEPS_PER_EPOCH, 8), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        return {"input_ids": self.ids[index], "labels": self.ids[index]}


def trainer(tmp_path, callbacks, **arguments):
    arguments = {"save_strategy": "no", **arguments}
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=EPOCHS, per_device_train_batch_size=8,
        per_device_eval_batch_size=8, logging_steps=1, eval_strategy="epoch",
        report_to=[], use_cpu=True, disable_tqdm=True, learning_rate=1e-3, **arguments)
    return transformers.Trainer(model=tiny_model(), args=args, train_dataset=Sequences(), eval_dataset=Sequences(),
                                callbacks=callbacks)


def runs_in(folder) -> list:
    return sorted((load_run(str(path)) for path in pathlib.Path(folder).iterdir() if path.is_dir()),
                  key=lambda run: run.created)


def counts(run) -> dict:
    return {name: series.count for name, series in run.histories.items()}


def test_metrics_at_the_global_step_the_arguments_without_the_token_and_the_model_config(tmp_path):
    run_trainer = trainer(tmp_path, [TrackerCallback(dir=tmp_path / "runs", project="hf", capture=False)],
                          hub_token=HUB_TOKEN)
    result = run_trainer.train()
    [run] = runs_in(tmp_path / "runs")
    assert (run.project, run.status, run.tags) == ("hf", "finished", ["transformers"])
    steps = STEPS_PER_EPOCH * EPOCHS
    every_step = ("train/loss", "train/grad_norm", "train/learning_rate", "epoch")
    every_epoch = ("eval/loss", "eval/runtime", "eval/samples_per_second", "eval/steps_per_second")
    # epoch is logged with the training values and again with evaluation's: one point per step
    assert counts(run) == {**{name: steps for name in every_step}, **{name: EPOCHS for name in every_epoch}}
    assert run.history("train/loss").steps == list(range(1, steps + 1))
    assert run.history("eval/loss").steps == [STEPS_PER_EPOCH, steps]
    assert run.history("epoch").values == pytest.approx([step / STEPS_PER_EPOCH for step in range(1, steps + 1)])
    history = run_trainer.state.log_history
    assert run.history("eval/loss").values == pytest.approx([entry["eval_loss"] for entry in history
                                                             if "eval_loss" in entry])
    assert run.explicit_summary["train_loss"] == pytest.approx(result.training_loss)
    assert run.explicit_summary["global_step"] == steps and run.explicit_summary["train_runtime"] > 0
    assert (run.config["learning_rate"], run.config["num_train_epochs"]) == (1e-3, EPOCHS)
    assert "hub_token" not in run.config
    assert HUB_TOKEN not in "".join(path.read_text() for path in pathlib.Path(run.path).glob("*.jsonl"))
    assert (run.config["model"]["n_layer"], run.config["model"]["vocab_size"]) == (1, 32)
    assert run.config["model_class"] == "GPT2LMHeadModel"
    assert run.config["model_parameters"] == run_trainer.model.num_parameters()


@pytest.mark.parametrize("log_checkpoints", ["all", True, False])
def test_checkpoints_are_artifacts_when_asked(tmp_path, log_checkpoints):
    callback = TrackerCallback(dir=tmp_path / "runs", capture=False, log_checkpoints=log_checkpoints)
    trainer(tmp_path, [callback], save_strategy="epoch", load_best_model_at_end=True,
            metric_for_best_model="eval_loss", save_total_limit=None).train()
    [run] = runs_in(tmp_path / "runs")
    saved = sorted(path.name for path in (tmp_path / "out").iterdir() if path.name.startswith("checkpoint-"))
    assert saved == [f"checkpoint-{STEPS_PER_EPOCH * epoch}" for epoch in range(1, EPOCHS + 1)]
    stored = sorted(artifact["name"] for artifact in run.artifacts)
    best = os.path.basename(run.explicit_summary["best_model_checkpoint"])
    assert stored == {"all": saved, True: [best], False: []}[log_checkpoints]
    for name in stored:  # the folder as the Trainer wrote it: the weights a reload needs
        copied = pathlib.Path(run.path, "artifacts", name)
        assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in (tmp_path / "out" / name).iterdir())


def test_log_checkpoints_takes_false_true_or_all():
    with pytest.raises(ValueError, match="log_checkpoints='best'"):
        TrackerCallback(log_checkpoints="best")


def test_an_evaluate_after_training_is_recorded_into_the_same_run(tmp_path):
    run_trainer = trainer(tmp_path, [TrackerCallback(dir=tmp_path / "runs", capture=False)])
    run_trainer.train()
    metrics = run_trainer.evaluate()
    [run] = runs_in(tmp_path / "runs")
    assert run.status == "finished" and len(run.writers) == 2
    eval_loss = run.history("eval/loss")
    assert eval_loss.steps == [STEPS_PER_EPOCH, STEPS_PER_EPOCH * EPOCHS, STEPS_PER_EPOCH * EPOCHS]
    assert eval_loss.values[-1] == pytest.approx(metrics["eval_loss"])


class Raises(transformers.TrainerCallback):
    """The script's own callback, failing at a step."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 4:
            raise RuntimeError("a bug in the script's own callback")


def test_a_training_that_raises_is_failed_when_the_callback_trains_again(tmp_path):
    callback = TrackerCallback(dir=tmp_path / "runs", capture=False)
    with pytest.raises(RuntimeError, match="a bug in the script's own callback"):
        trainer(tmp_path, [callback, Raises()]).train()
    trainer(tmp_path, [callback]).train()
    first, second = runs_in(tmp_path / "runs")
    # the script's callback raises at step 4's on_step_end, before the Trainer logs step 4
    assert (first.status, first.history("train/loss").count) == ("failed", 3)
    assert first.error == "Transformers training stopped before its end"
    assert (second.status, second.history("train/loss").count) == ("finished", STEPS_PER_EPOCH * EPOCHS)


def test_a_training_that_raises_out_of_the_script_is_failed_with_its_traceback(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path[:0] = [{str(ROOT)!r}]
        from tests.test_integration_transformers import Raises, TrackerCallback, trainer
        import pathlib
        trainer(pathlib.Path({str(tmp_path)!r}), [TrackerCallback(dir={str(tmp_path / "runs")!r}, capture=False),
                                                  Raises()]).train()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 1 and "a bug in the script's own callback" in done.stderr
    [run] = runs_in(tmp_path / "runs")
    assert run.status == "failed" and run.history("train/loss").count == 3
    assert "RuntimeError: a bug in the script's own callback" in run.error and "on_step_end" in run.error


def test_inside_the_scripts_run_the_run_is_used_and_left_open(tmp_path):
    run = tracker.init(dir=tmp_path / "runs", name="mine", capture=False)
    trainer(tmp_path, [TrackerCallback()]).train()
    assert active_run() is run
    run.finish()
    [read] = runs_in(tmp_path / "runs")
    assert read.name == "mine" and read.history("eval/loss").count == EPOCHS and read.config["learning_rate"] == 1e-3


def test_only_the_main_process_records_unless_all_ranks(tmp_path):
    # Another process of a distributed training: the same callback events, with is_world_process_zero false.
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[], use_cpu=True)
    state = transformers.TrainerState(is_world_process_zero=False, global_step=1)
    control = transformers.TrainerControl()
    quiet = TrackerCallback(dir=tmp_path / "quiet", capture=False)
    every = TrackerCallback(dir=tmp_path / "every", capture=False, all_ranks=True)
    for callback in (quiet, every):
        callback.on_train_begin(args, state, control, model=tiny_model())
        callback.on_log(args, state, control, logs={"loss": 2.5, "epoch": 0.5})
        callback.on_train_end(args, state, control)
    assert not (tmp_path / "quiet").exists()
    [run] = runs_in(tmp_path / "every")
    assert run.tags == ["transformers", "rank=0"] and run.history("train/loss").values == [2.5]


def test_a_runs_folder_that_cannot_be_made_is_one_warning_and_training_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_trainer = trainer(tmp_path, [TrackerCallback(dir=blocker / "runs", capture=False)])
        run_trainer.train()
        run_trainer.evaluate()
    ours = [str(w.message) for w in caught if "tracker.integrations" in str(w.message)]
    assert len(ours) == 1, ours
    assert ours[0].startswith("tracker.integrations.transformers: starting the run failed (RunDirError")
    assert run_trainer.state.global_step == STEPS_PER_EPOCH * EPOCHS


def test_the_example_logs_a_training_of_a_tiny_gpt2(tmp_path):
    spec = importlib.util.spec_from_file_location("transformers_example", ROOT / "examples" / "transformers_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--runs", str(tmp_path / "runs"), "--epochs", "1"])
    [run] = runs_in(tmp_path / "runs")
    assert (run.project, run.name, run.status) == ("examples", "transformers-tiny-gpt2", "finished")
    assert run.history("train/loss").steps == [2, 4, 6, 8] and run.history("eval/loss").steps == [8]
    assert run.config["model"]["n_layer"] == 2 and run.config["model_class"] == "GPT2LMHeadModel"
