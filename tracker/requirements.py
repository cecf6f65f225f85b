"""Requirements that install anywhere: a run's packages as pip lines, the project from its checkout.

Built from the ``environment`` record (tracker/capture/environment.py), never from a pip freeze of
the machine that reads it. A plain ``name==version`` of every package would not install elsewhere:
the project being trained is not on any index (it is installed from the checkout, ``-e .``), the
tracker itself is on the index only under its distribution name, and packages from local paths,
VCS URLs and other indexes need their source. Each such line says why it is what it is. Pure:
no file access.
"""
from __future__ import annotations

import re

# pip manages itself; pkg-resources 0.0.0 is an artefact of Debian's pip, on no index.
NOT_PINNED = frozenset({"pip", "pkg-resources"})


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Scikit_Learn`` and ``scikit-learn`` are one."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def pip_requirements(environment: dict) -> str | None:
    """The text of a requirements file that recreates the run's packages (None without packages).

    Run ``pip install -r`` on it from the root of a checkout of the run's repository: the project
    being trained is listed by its path inside the repository.
    """
    packages = environment.get("packages") if isinstance(environment, dict) else None
    if not isinstance(packages, dict) or not packages:
        return None
    sources = environment.get("package_sources") if isinstance(environment.get("package_sources"), dict) else {}
    ours = environment.get("tracker_distribution")
    index_urls = [url for url in environment.get("index_urls") or [] if isinstance(url, str)]
    lines = [f"# The packages of the run: Python {environment.get('python') or '?'}"
             f" ({environment.get('implementation') or 'CPython'}) on {environment.get('os') or '?'}"
             f" {environment.get('machine') or ''}".rstrip(),
             "# pip install -r this file from the root of a checkout of the run's repository"]
    lines += [f"--extra-index-url {url}" for url in index_urls]
    for name, version in sorted(packages.items(), key=lambda item: str(item[0]).lower()):
        if normalized(name) in NOT_PINNED:
            continue
        source = sources.get(name) if isinstance(sources.get(name), dict) else None
        for line in requirement_lines(str(name), str(version), source, is_tracker=name == ours,
                                      other_index=bool(index_urls)):
            if line.startswith("#") or line not in lines:  # two names installed from one folder: once
                lines.append(line)
    return "\n".join(lines) + "\n"


def requirement_lines(name: str, version: str, source: dict | None, *, is_tracker: bool = False,
                      other_index: bool = False) -> list[str]:
    """The line(s) installing one package as the run had it: a comment first when it needs a word."""
    kind = source.get("kind") if source else None
    url = str(source.get("url") or "") if source else ""
    if kind == "source_tree":
        return [f"# {name} {version}: metadata left in the source folder {url.removeprefix('file://')},"
                " not an installed package"]
    if source and isinstance(source.get("repo_path"), str):
        path = _local_requirement_path(source["repo_path"])
        what = "the project being trained" if not is_tracker else "the tracker"
        return [f"# {name} {version}: {what}, installed from the checkout",
                f"-e {path}" if kind == "editable" else path]
    if kind == "vcs":
        return [f"{name} @ {url}"]
    if kind in ("editable", "path"):
        local = url.removeprefix("file://")
        return [f"# {name} {version} was installed from {local}, a folder of the machine that ran it:"
                " change the path to where that code is here",
                f"-e {local}" if kind == "editable" else local]
    if kind == "url":
        if url.startswith("file://"):
            # a wheel or sdist saved locally: the same release is usually on the index
            return [f"{name}=={version}  # installed from the local file {url.removeprefix('file://')}"]
        return [f"{name} @ {url}"]
    if "+" in version and not other_index:
        public = version.split("+", 1)[0]
        return [f"{name}=={public}  # installed as {version}, a build from another index:"
                " add its --extra-index-url for the same build"]
    return [f"{name}=={version}" + ("  # the tracker, by its distribution name" if is_tracker else "")]


def names_package(requirements_text: str, name: str, source: dict | None) -> bool:
    """Whether a requirements file installs package ``name``: by name, or by its recorded path or URL."""
    wanted = normalized(name)
    location = str(source.get("url") or "").removeprefix("file://") if source else ""
    for line in requirements_text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if location and location.rstrip("/") in line:
            return True
        match = re.match(r"^(?:-e\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match and normalized(match.group(1)) == wanted:
            return True
    return False


def _local_requirement_path(repo_path: str) -> str:
    """A folder inside the repository as pip wants it on a requirements line: ``.`` or ``./sub``."""
    return "." if repo_path in ("", ".") else f"./{repo_path}"
