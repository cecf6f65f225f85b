"""Importing a training framework for its integration tests: a skip naming the extra to install on a
developer's machine, a failure under CI=true (CI installs every extra, so a missing one is a bug)."""
from __future__ import annotations

import importlib
import os

import pytest


def require_framework(module: str, *, extra: str):
    """The framework's module; skips the calling test module when it is not installed, except in CI."""
    if os.environ.get("CI") == "true":
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"{module} is not installed in CI: .ci/run must install the [{extra}] extra ({exc})",
                        pytrace=False)
    return pytest.importorskip(module, reason=f"{module} is not installed: pip install -e '.[{extra}]'")
