"""Train LightGBM on scikit-learn's diabetes data, once with a validation set and once in cv mode,
both recorded by tracker.

    python examples/lightgbm_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse

import lightgbm as lgb
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from tracker.integrations.lightgbm import TrackerCallback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)

    X, y = load_diabetes(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)
    params = {"objective": "regression", "metric": ["l2", "l1"], "learning_rate": 0.05, "num_leaves": 15,
              "num_threads": 1, "verbose": -1}
    train_set = lgb.Dataset(X_train, y_train)
    booster = lgb.train(params, train_set, num_boost_round=args.rounds,
                        valid_sets=[train_set, lgb.Dataset(X_valid, y_valid, reference=train_set)],
                        valid_names=["train", "valid"],
                        callbacks=[lgb.early_stopping(10, verbose=False),
                                   TrackerCallback(project="examples", name="lightgbm-diabetes", dir=args.runs)])
    print(f"train: best iteration {booster.best_iteration}")

    results = lgb.cv(params, lgb.Dataset(X, y), num_boost_round=args.rounds, nfold=3, seed=0,
                     callbacks=[TrackerCallback(project="examples", name="lightgbm-diabetes-cv", dir=args.runs)])
    print(f"cv: {len(results['valid l2-mean'])} rounds, last valid l2 {results['valid l2-mean'][-1]:.1f}")


if __name__ == "__main__":
    main()
