"""An MLflow script that changed one line: `import tracker.compat.mlflow as mlflow`.

    python examples/mlflow_compat_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse
import os
import pickle
import tempfile

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tracker.compat.mlflow as mlflow


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.runs:
        mlflow.set_tracking_uri(args.runs)

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_valid = scaler.transform(X_train), scaler.transform(X_valid)
    model = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0)

    mlflow.set_experiment("examples")
    with mlflow.start_run(run_name="mlflow-compat-sgd"):
        mlflow.log_params({"alpha": 1e-3, "loss": "log_loss", "epochs": args.epochs})
        for epoch in range(args.epochs):
            model.partial_fit(X_train, y_train, classes=[0, 1])
            mlflow.log_metric("val_accuracy", model.score(X_valid, y_valid), step=epoch)
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, "model.pkl")
            with open(path, "wb") as file:
                pickle.dump(model, file)
            mlflow.log_artifact(path)
    print(f"val accuracy {model.score(X_valid, y_valid):.4f}")


if __name__ == "__main__":
    main()
