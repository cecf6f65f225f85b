"""Train XGBoost on scikit-learn's breast-cancer data with early stopping, recorded by tracker.

Every eval set's metrics per boosting round, the booster's parameters and the best iteration:

    python examples/xgboost_example.py --runs tracker-runs
"""
from __future__ import annotations

import argparse

import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from tracker.integrations.xgboost import TrackerCallback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--eta", type=float, default=0.1)
    args = parser.parse_args(argv)

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)
    dtrain, dvalid = xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_valid, y_valid)
    params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "eta": args.eta,
              "max_depth": 3, "nthread": 1}
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds, evals=[(dtrain, "train"), (dvalid, "valid")],
                        early_stopping_rounds=10, verbose_eval=False,
                        callbacks=[TrackerCallback(project="examples", name="xgboost-breast-cancer", dir=args.runs)])
    print(f"best iteration {booster.best_iteration}, valid auc {booster.best_score:.4f}")


if __name__ == "__main__":
    main()
