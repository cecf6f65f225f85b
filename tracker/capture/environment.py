"""The software a run ran on: Python, the operating system and installed packages."""
from __future__ import annotations

import getpass
import json
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


# Where pip was told to look besides PyPI: a package from another index installs only from there.
INDEX_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
TRACKER_MODULE = "tracker"
# The folder holding the tracker package: an editable install of the tracker points at it.
TRACKER_SOURCE_FOLDER = os.path.realpath(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def capture_environment(repo_root: str | None = None) -> dict:
    """Python version, platform, host, installed packages and a few allowlisted variables.

    ``package_sources`` says where each package not from an index came from (PEP 610's
    direct_url.json: an editable checkout, a local path, a VCS URL or an archive URL), with
    ``repo_path`` when it lies inside ``repo_root``: that package is the project being trained,
    installed from its checkout. ``tracker_distribution`` is the distribution that provides the
    tracker itself, by whatever name it was published.
    """
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
        "package_sources": package_sources(repo_root),
        "tracker_distribution": tracker_distribution(),
        "index_urls": index_urls(),
        "env": {name: os.environ[name] for name in ENV_ALLOWLIST if name in os.environ},
    }


def package_sources(repo_root: str | None = None) -> dict[str, dict]:
    """{name: {kind, url, ...}} of installed distributions that did not come from an index.

    kind is ``editable`` or ``path`` (a local folder), ``vcs`` (url is pip's ``git+URL@commit``)
    or ``url`` (an archive, local or remote). Credentials in URLs are stripped.
    """
    from importlib.metadata import distributions

    sources: dict[str, dict] = {}
    for dist in distributions():
        try:
            name, text = dist.metadata["Name"], dist.read_text("direct_url.json")
            source = _direct_url_source(json.loads(text)) if text and name else None
            if source is None and name and not dist.read_text("INSTALLER"):
                source = _source_tree(dist)
        except Exception:  # a broken metadata folder must not hide the others
            continue
        if source is None or (name in sources and sources[name]["kind"] != "source_tree"):
            continue  # the first found wins, but an installer's record beats a source folder's egg-info
        local = _file_url_path(source["url"])
        if local and repo_root:
            relative = os.path.relpath(os.path.realpath(local), os.path.realpath(repo_root))
            if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
                source["repo_path"] = relative
        sources[name] = source
    return dict(sorted(sources.items(), key=lambda item: item[0].lower()))


def _direct_url_source(direct: dict) -> dict | None:
    from ..redact import strip_url_credentials

    url = strip_url_credentials(str(direct.get("url") or ""))
    if not url:
        return None
    if isinstance(direct.get("vcs_info"), dict):
        vcs = direct["vcs_info"]
        commit = vcs.get("commit_id")
        return {"kind": "vcs", "url": f"{vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")}
    if isinstance(direct.get("dir_info"), dict):
        return {"kind": "editable" if direct["dir_info"].get("editable") else "path", "url": url}
    return {"kind": "url", "url": url}


def _source_tree(dist) -> dict | None:
    """A ``name.egg-info`` left in a source folder by ``setup.py develop`` or a build, found because
    that folder is on sys.path: no installer wrote it, so no index holds that name and version."""
    folder = getattr(dist, "_path", None)
    if folder is None or not str(folder).endswith(".egg-info"):
        return None
    from pathlib import Path

    return {"kind": "source_tree", "url": Path(os.path.dirname(os.path.abspath(folder))).as_uri()}


def _file_url_path(url: str) -> str | None:
    if not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(url).path)


def tracker_distribution() -> str | None:
    """The name of the installed distribution that provides the ``tracker`` module, by whatever name
    it was published (None when it runs from a source folder that was never installed)."""
    from importlib.metadata import distributions, packages_distributions

    from ..requirements import normalized

    claimed = {normalized(name) for name in packages_distributions().get(TRACKER_MODULE) or []}
    for dist in distributions():
        try:
            # an egg-info left in a source folder on sys.path claims the module too; no installer wrote it
            if not dist.read_text("INSTALLER"):
                continue
            name = dist.metadata["Name"]
            direct = json.loads(dist.read_text("direct_url.json") or "{}")
        except Exception:
            continue
        local = _file_url_path(str(direct.get("url") or ""))
        if normalized(name or "") in claimed or (local and os.path.realpath(local) == TRACKER_SOURCE_FOLDER):
            return name
    return None


def index_urls() -> list[str]:
    """The package indexes pip was pointed at through its environment variables, credentials stripped."""
    from ..redact import strip_url_credentials

    urls = []
    for variable in INDEX_VARIABLES:
        urls += [strip_url_credentials(url) for url in os.environ.get(variable, "").split() if url]
    return urls


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
