"""Shared environment files: a run's package list and requirements, stored once per content hash.

Most runs of a project share one environment, and its package list (about 15 KB of a page for
150 packages) and requirements (a few KB) were repeated in every run's folder. They are written
once per distinct content instead, as ``environments/<hash>/index.html`` (the packages) and
``environments/<hash>/requirements.txt``, and a run page links them. The hash is of the content
as published, after redaction, so two runs share a file only when the files would be identical;
the build owns which are still referenced (manifest.py keeps each run's shared files).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from .load import RunSource
from .output import rename_file, site_path, write_text

ENVIRONMENTS_FOLDER = "environments"
ENVIRONMENT_PAGE = "index.html"
REQUIREMENTS_FILE = "requirements.txt"  # the name the Reproduce block's lines read it by
KEY_CHARS = 24  # 96 bits of sha256: no two environments of any site share a folder by chance


@dataclass(frozen=True)
class SharedEnvironment:
    """One run's shared environment files: what they hold and where they are in the site."""

    key: str
    packages: tuple[tuple[str, str], ...]
    requirements_text: str | None

    @property
    def folder(self) -> str:
        return f"{ENVIRONMENTS_FOLDER}/{self.key}"

    @property
    def page(self) -> str:
        return f"{self.folder}/{ENVIRONMENT_PAGE}"

    @property
    def requirements(self) -> str | None:
        return f"{self.folder}/{REQUIREMENTS_FILE}" if self.requirements_text is not None else None

    @property
    def files(self) -> list[str]:
        """Site-relative paths of its files."""
        return [self.page] + ([self.requirements] if self.requirements else [])


def shared_environment(source: RunSource) -> SharedEnvironment | None:
    """The shared files of a (redacted) run: its packages and generated requirements; None when it
    recorded neither."""
    environment = source.run.environment if isinstance(source.run.environment, dict) else {}
    recorded = environment.get("packages")
    packages = tuple(sorted((str(name), str(version)) for name, version in recorded.items())) \
        if isinstance(recorded, dict) else ()
    if not packages and source.requirements_text is None:
        return None
    content = json.dumps([packages, source.requirements_text], ensure_ascii=False, separators=(",", ":"))
    key = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_CHARS]
    return SharedEnvironment(key, packages, source.requirements_text)


def environment_context(shared: SharedEnvironment) -> dict:
    """The environment page: its packages and the link to its requirements."""
    return {"page": "environment", "root": "../../", "key": shared.key, "packages": list(shared.packages),
            "requirements": REQUIREMENTS_FILE if shared.requirements_text is not None else None}


def write_shared_files(staging: str, texts: dict[str, str]) -> None:
    """Write each shared file not yet in ``staging``. Content-addressed, so one already there
    (another run wrote it, maybe in another worker) holds the same text; a temporary name renamed
    into place keeps two workers writing one file at once from mixing their bytes."""
    for relative, text in texts.items():
        if not os.path.exists(site_path(staging, relative)):
            temporary = f"{relative}.{os.getpid()}.tmp"
            write_text(staging, temporary, text)
            rename_file(staging, temporary, relative)
