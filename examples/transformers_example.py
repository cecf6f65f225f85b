"""Train a tiny GPT-2 built from a config (no download) with Hugging Face's Trainer, recorded by tracker.

The TrainingArguments and the model's config, the training loss, learning rate and gradient norm
at every logged step, the evaluation loss per epoch, all at the Trainer's global step:

    python examples/transformers_example.py --runs tracker-runs
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here is built locally

import argparse  # noqa: E402
import tempfile  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402

from tracker.integrations.transformers import TrackerCallback  # noqa: E402

VOCAB = 16
LENGTH = 12


class CountingSequences(torch.utils.data.Dataset):
    """Sequences that count up modulo the vocabulary from a random start: a pattern a model can learn."""

    def __init__(self, samples: int, seed: int):
        starts = torch.randint(0, VOCAB, (samples, 1), generator=torch.Generator().manual_seed(seed))
        self.ids = (starts + torch.arange(LENGTH)) % VOCAB

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        return {"input_ids": self.ids[index], "labels": self.ids[index]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=16, n_layer=2, n_head=2,
                                     bos_token_id=0, eos_token_id=0)
    with tempfile.TemporaryDirectory() as output_dir:  # the Trainer's own outputs; nothing is saved here
        training_args = transformers.TrainingArguments(
            output_dir=output_dir, num_train_epochs=args.epochs, learning_rate=args.lr,
            per_device_train_batch_size=16, per_device_eval_batch_size=32, logging_steps=2,
            eval_strategy="epoch", save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True)
        trainer = transformers.Trainer(
            model=transformers.GPT2LMHeadModel(config), args=training_args,
            train_dataset=CountingSequences(128, seed=0), eval_dataset=CountingSequences(64, seed=1),
            callbacks=[TrackerCallback(project="examples", name="transformers-tiny-gpt2", dir=args.runs)])
        trainer.train()
    eval_losses = [entry["eval_loss"] for entry in trainer.state.log_history if "eval_loss" in entry]
    print(f"eval loss {eval_losses[0]:.3f} after the first epoch, {eval_losses[-1]:.3f} after the last")


if __name__ == "__main__":
    main()
