"""What was run and how: the command line, the entry script and the files a rerun needs."""
from __future__ import annotations

import fnmatch
import os
import shlex
import sys

from ..redact import redact_argv, redact_file_text
from ..values import safe_text

MAX_SCRIPT_BYTES = 1024 * 1024
MAX_ENV_FILE_BYTES = 256 * 1024
# Files that pin what a rerun needs installed, looked for beside the script and at the repo root.
ENV_FILE_PATTERNS = (
    "requirements*.txt", "pyproject.toml", "setup.cfg", "setup.py", "environment.yml",
    "environment.yaml", "conda.yaml", "Pipfile", "Pipfile.lock", "uv.lock", "Dockerfile",
)
CODE_FOLDER = "files/code"
ENV_FOLDER = "files/env"


def capture_code(argv: list[str], cwd: str, main_file: str | None,
                 repo_root: str | None) -> tuple[dict, dict[str, bytes]]:
    """Describe the command and snapshot the entry script and environment files.

    Returns (record, files) where files maps a path inside the run folder to its content.
    Secret-looking arguments are redacted; stored text goes through ``redact_file_text``.
    """
    command = redact_argv([safe_text(str(argument)) for argument in argv])
    record = {
        "command": command,
        "command_line": shlex.join(["python", *command]),
        "python": sys.executable,
        "cwd": cwd,
        "script": None,
        "script_file": None,
        "env_files": [],
    }
    files: dict[str, bytes] = {}
    script = os.path.abspath(os.path.join(cwd, main_file)) if main_file else None
    if script and os.path.isfile(script):
        record["script"] = _display_path(script, repo_root)
        # The record names the file as stored, so a non-UTF-8 name is stored under its escaped text.
        stored = f"{CODE_FOLDER}/{safe_text(os.path.basename(script))}"
        content, skipped = _read_capped(script, MAX_SCRIPT_BYTES)
        if content is None:
            record["script_skipped"] = skipped
        else:
            files[stored] = content
            record["script_file"] = stored
    folders = [os.path.dirname(script)] if script else []
    folders.append(repo_root or cwd)
    for name, path in _env_files(folders):
        content, skipped = _read_capped(path, MAX_ENV_FILE_BYTES)
        if content is None:
            record["env_files"].append({"name": name, "skipped": skipped})
        else:
            stored = f"{ENV_FOLDER}/{safe_text(name)}"
            files[stored] = content
            record["env_files"].append({"name": name, "file": stored})
    return record, files


def _display_path(path: str, repo_root: str | None) -> str:
    if repo_root:
        relative = os.path.relpath(path, repo_root)
        if not relative.startswith(os.pardir):
            return relative
    return path


def _env_files(folders: list[str]) -> list[tuple[str, str]]:
    """(name, path) of each environment file; the folder nearest the script wins a name clash."""
    found: dict[str, str] = {}
    seen_folders = set()
    for folder in folders:
        real = os.path.realpath(folder)
        if real in seen_folders:
            continue
        seen_folders.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if (name not in found and any(fnmatch.fnmatchcase(name, pattern) for pattern in ENV_FILE_PATTERNS)
                    and os.path.isfile(path)):
                found[name] = path
    return list(found.items())


def _read_capped(path: str, max_bytes: int) -> tuple[bytes | None, str | None]:
    """(content with secrets redacted, None), or (None, why it was skipped)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
            if len(data) > max_bytes:
                return None, f"too large ({os.fstat(handle.fileno()).st_size} bytes)"
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    return redact_file_text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"), None
