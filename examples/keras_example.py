"""Fit a small Keras 3 classifier on synthetic spirals, recorded by tracker.

Each epoch's loss and accuracy (val_* too) and learning rate, the fit's parameters, the optimizer's
config and the model's size; ReduceLROnPlateau and EarlyStopping show in the recorded learning
rate and epochs. Keras uses the backend of $KERAS_BACKEND, torch here unless set:

    python examples/keras_example.py --runs tracker-runs
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # the backend the [keras] extra installs; read when keras is imported

import argparse  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tracker.integrations.keras import TrackerCallback  # noqa: E402


def spirals(samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals with noise."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, samples)
    radius = rng.uniform(0.2, 1.0, samples)
    angle = 3 * np.pi * radius + np.pi * label
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return (points + rng.normal(0, 0.1, points.shape)).astype("float32"), label.astype("float32")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.02)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    x, y = spirals(512, seed=0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=args.epochs, batch_size=64, validation_split=0.25, verbose=0, callbacks=[
        TrackerCallback(project="examples", name="keras-spirals", dir=args.runs),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)])
    epochs = len(history.history["loss"])
    print(f"{epochs} epochs, best val accuracy {max(history.history['val_accuracy']):.3f}")


if __name__ == "__main__":
    main()
