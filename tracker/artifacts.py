"""Copying artifacts into a run folder under a safe name."""
from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import time

from .errors import ArtifactNameError

ARTIFACTS_DIR = "artifacts"
COPY_CHUNK_BYTES = 1 << 20


def check_artifact_name(name: str) -> str:
    """The name as a clean relative POSIX path, or ArtifactNameError if it could escape the run."""
    if not isinstance(name, str) or not name.strip():
        raise ArtifactNameError(str(name), "empty name")
    if "\0" in name:
        raise ArtifactNameError(name, "contains a NUL character")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArtifactNameError(name, "absolute paths are not allowed; give a name relative to the run")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise ArtifactNameError(name, "'..' is not allowed; the artifact must stay inside the run folder")
    clean = posixpath.normpath("/".join(part for part in parts if part not in ("", ".")))
    if clean in ("", "."):
        raise ArtifactNameError(name, "empty name")
    return clean


def store_artifact(source: str, run_path: str, name: str | None = None) -> dict:
    """Copy ``source`` (file or folder) to ``<run>/artifacts/<name>`` and describe it."""
    clean = check_artifact_name(name if name is not None else os.path.basename(os.path.normpath(source)))
    if not os.path.exists(source):
        raise FileNotFoundError(f"artifact source {source} does not exist")
    target = os.path.join(run_path, ARTIFACTS_DIR, *clean.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    record = {"type": "artifact", "time": time.time(), "name": clean, "path": f"{ARTIFACTS_DIR}/{clean}"}
    if os.path.isdir(source):
        shutil.copytree(source, target, dirs_exist_ok=True)
        sizes = [os.path.getsize(os.path.join(folder, file)) for folder, _, files in os.walk(target) for file in files]
        record.update(kind="folder", size_bytes=sum(sizes), files=len(sizes))
    else:
        record.update(kind="file", size_bytes=os.path.getsize(source), sha256=_copy_hashing(source, target))
    return record


def _copy_hashing(source: str, target: str) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            writer.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()
