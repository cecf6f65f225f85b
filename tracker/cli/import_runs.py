"""``tracker import SOURCE PATH``: bring runs of MLflow, TensorBoard or W&B into a runs folder."""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from ..importers import SOURCES
from ..layout import runs_root
from . import add_runs_option


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "import", help="import runs of MLflow, TensorBoard or W&B as tracker runs",
        description="Read another tracker's runs with its own library and write each as a run folder: "
                    "config, metric histories with their steps and times, tags, notes, status, times, "
                    "media and artifacts where the source has them. Importing again updates the same "
                    "runs (one source run is one run); the source's run id is kept in the run. Prints "
                    "how many runs were created, replaced and unchanged, and what was skipped.",
        epilog="examples:\n  tracker import mlflow mlruns --runs tracker-runs\n"
               "  tracker import mlflow sqlite:///mlflow.db --project legacy\n"
               "  tracker import tensorboard logs/ --runs tracker-runs\n"
               "  tracker import wandb wandb/ --runs tracker-runs",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", metavar="SOURCE", choices=SOURCES,
                        help=f"the tracker the runs come from: {', '.join(SOURCES)}")
    parser.add_argument("path", metavar="PATH",
                        help="mlflow: an mlruns folder, a SQLite database (sqlite:///PATH or a .db file); "
                             "tensorboard: a log dir; wandb: a wandb/ folder or one offline-run-* folder")
    add_runs_option(parser)
    parser.add_argument("--project", metavar="P",
                        help="put every imported run into project P (default: the source's experiment or project)")
    parser.set_defaults(handler=run_import)


def run_import(args) -> int:
    importer = importlib.import_module(f"tracker.importers.{args.source}")
    report = importer.import_runs(args.path, Path(runs_root(args.runs)), project=args.project)
    print("\n".join(report.lines()))
    return 0
