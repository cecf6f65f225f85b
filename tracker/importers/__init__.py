"""Importers: runs of other trackers (MLflow, TensorBoard, W&B) written as tracker runs, one module per source.

Each source module reads with its tracker's own library, imported only when that module is, and
turns every run it finds into an ``ImportedRun`` (imported_run.py), which ``write_imported_run``
writes as a run folder in the documented format. ``tracker import SOURCE PATH`` (tracker/cli/
import_runs.py) calls ``tracker.importers.<source>.import_runs(path, runs_dir, **options)``, which
returns an ``ImportReport``.

Layering: importers sit beside the logging client (they write run folders); they never import
the reader, the listing, the site or the CLI.

    TrackerError
    ├── ImporterLibraryMissing   the source's library is not installed: names the extra to install
    └── NotASourceError          the path is not such a source: names the path and what was expected
"""
from __future__ import annotations

import importlib

from ..errors import TrackerError
from ..version import DISTRIBUTION

SOURCES = ("mlflow", "tensorboard", "wandb")


class ImporterLibraryMissing(TrackerError):
    """The library an importer reads its source with is not installed."""

    def __init__(self, source: str, module: str, extra: str, cause: Exception | None = None):
        self.source, self.module, self.extra = source, module, extra
        detail = f" ({cause})" if cause else ""
        super().__init__(f"importing from {source} needs the {module} package, not installed{detail}: "
                         f"pip install '{DISTRIBUTION}[{extra}]'")


class NotASourceError(TrackerError):
    """The path given is not a source of that kind (no such folder, not an mlruns folder...)."""

    def __init__(self, source: str, path: str, expected: str):
        self.source, self.path, self.expected = source, path, expected
        super().__init__(f"{path} is not a {source} source: expected {expected}")


def require_library(source: str, module: str, extra: str):
    """The imported ``module``, or ImporterLibraryMissing naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImporterLibraryMissing(source, module, extra, exc) from None
