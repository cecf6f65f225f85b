"""The software a run ran on: Python, the operating system and installed packages."""
from __future__ import annotations

import getpass
import os
import platform
import re
import socket
import sys

# Only variables that help reproduce a run and never hold a secret; the environment is never dumped.
ENV_ALLOWLIST = (
    "CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "PYTHONHASHSEED", "CI", "GITHUB_SHA", "GITHUB_REF", "GITHUB_RUN_ID", "GITHUB_REPOSITORY",
    "CONDA_DEFAULT_ENV", "VIRTUAL_ENV",
)


def capture_environment() -> dict:
    """Python version, platform, host, installed packages and a few allowlisted variables."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (e.g. a container user without a passwd entry)
        user = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "os": platform.system(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "user": user,
        "packages": installed_packages(),
        "env": {name: os.environ[name] for name in ENV_ALLOWLIST if name in os.environ},
    }


def installed_packages() -> dict[str, str]:
    """{name: version} of installed distributions, sorted by lower-case name.

    A name installed twice keeps the first one found on ``sys.path``, the one Python imports.
    """
    from importlib.metadata import distributions

    packages: dict[str, str] = {}
    seen = set()
    for dist in distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:  # a broken metadata folder must not hide the others
            continue
        key = re.sub(r"[-_.]+", "-", name or "").lower()  # PEP 503: one project, however spelled
        if not key or key in seen:
            continue
        seen.add(key)
        packages[name] = str(version)
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))
