"""scikit-learn autolog: a grid search recorded as a parent run with one child run per candidate.

    python examples/sklearn_autolog_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse

from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

import tracker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    args = parser.parse_args(argv)

    X, y = load_iris(return_X_y=True)
    with tracker.autolog(project="examples", dir=args.runs):
        search = GridSearchCV(SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, cv=3).fit(X, y)
    print(f"best {search.best_params_}, cv accuracy {search.best_score_:.4f}")


if __name__ == "__main__":
    main()
