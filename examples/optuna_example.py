"""Tune a scikit-learn model with Optuna: each trial becomes a run in the study's group, so the
site's project view and parallel coordinates show the study.

    python examples/optuna_example.py --runs tracker-runs --trials 12
"""
from __future__ import annotations

import argparse

import optuna
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tracker.integrations.optuna import TrackerCallback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=None, help="runs folder (default: $TRACKER_DIR or ./tracker-runs)")
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args(argv)

    X, y = load_wine(return_X_y=True)

    def objective(trial: optuna.Trial) -> float:
        c = trial.suggest_float("C", 1e-3, 10.0, log=True)
        fit_intercept = trial.suggest_categorical("fit_intercept", [True, False])
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, fit_intercept=fit_intercept, max_iter=200))
        for fold_count in (2, 3):  # a cheap estimate first, so poor trials are pruned early
            score = cross_val_score(model, X, y, cv=fold_count).mean()
            trial.report(score, fold_count)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="wine-logreg", direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0), pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, n_trials=args.trials, callbacks=[TrackerCallback(project="examples", dir=args.runs)])
    print(f"best accuracy {study.best_value:.4f} with {study.best_params}")


if __name__ == "__main__":
    main()
