"""tests/frameworks.py's require_framework, run by pytest in a subprocess: a missing framework is a
skip naming its extra on a developer's machine, and a failure under CI=true."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDS_MISSING = '''
from tests.frameworks import require_framework

missing = require_framework("no_such_framework_for_tracker_tests", extra="nosuch")


def test_never_runs():
    pass
'''


def run_pytest(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_needs_missing.py").write_text(NEEDS_MISSING)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "test_needs_missing.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_missing_framework_skips_naming_the_extra(tmp_path):
    result = run_pytest(tmp_path, ci=None)
    assert result.returncode == 5, result.stdout  # pytest's "no tests collected": the module skipped whole
    assert "1 skipped" in result.stdout
    assert "no_such_framework_for_tracker_tests is not installed: pip install -e '.[nosuch]'" in result.stdout


def test_under_ci_a_missing_framework_fails(tmp_path):
    result = run_pytest(tmp_path, ci="true")
    assert result.returncode not in (0, 5) and "skipped" not in result.stdout, result.stdout
    assert ("no_such_framework_for_tracker_tests is not installed in CI: .ci/run must install "
            "the [nosuch] extra") in result.stdout
