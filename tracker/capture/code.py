"""What was run and how: the command line, the entry script and the files a rerun needs."""
from __future__ import annotations

import fnmatch
import os
import shlex
import sys
import sysconfig

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
# Set by `tracker reproduce` for the command it reruns: the code record names the run it reproduces.
REPRODUCES_VARIABLE = "TRACKER_REPRODUCES"


def capture_code(argv: list[str], cwd: str, main_file: str | None, repo_root: str | None,
                 main_module: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """Describe the command and snapshot the entry script and environment files.

    ``main_module`` is ``__main__.__spec__.name`` when the script was started with ``python -m``.
    The command line is the one a rerun types in ``workdir`` (the working directory relative to
    ``repo_root``): the script path relative to it, ``python -m module`` and console scripts as run.
    Returns (record, files) where files maps a path inside the run folder to its content.
    Secret-looking arguments are redacted; stored text goes through ``redact_file_text``.
    """
    command = redact_argv([safe_text(str(argument)) for argument in argv])
    script = os.path.abspath(os.path.join(cwd, main_file)) if main_file else None
    workdir = _inside_relative(cwd, repo_root)
    entry, rerun = _rerun_command(command, cwd, script, main_module, repo_root, workdir)
    record = {
        "command": command,
        "command_line": shlex.join(rerun),
        "entry": entry,
        "python": sys.executable,
        "cwd": cwd,
        "workdir": workdir,
        "script": None,
        "script_file": None,
        "env_files": [],
    }
    reproduces = os.environ.get(REPRODUCES_VARIABLE)
    if reproduces:
        record["reproduces"] = safe_text(reproduces)
    files: dict[str, bytes] = {}
    if script and os.path.isfile(script):
        record["script"] = _inside_relative(script, repo_root) or script
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
        entry_record = {"name": name}
        if repo_root and (relative := _inside_relative(path, repo_root)):
            entry_record["repo_path"] = relative  # where the file is in a checkout of the repository
        if content is None:
            entry_record["skipped"] = skipped
        else:
            stored = f"{ENV_FOLDER}/{safe_text(name)}"
            files[stored] = content
            entry_record["file"] = stored
        record["env_files"].append(entry_record)
    return record, files


def _rerun_command(command: list[str], cwd: str, script: str | None, main_module: str | None,
                   repo_root: str | None, workdir: str | None) -> tuple[str | None, list[str]]:
    """(how it was started, the argv a rerun types in its working directory)."""
    arguments = command[1:]
    if main_module and main_module != "__main__":
        # sys.argv[0] is the module's file, a path of this machine; the module name is what was typed.
        return "module", ["python", "-m", main_module.removesuffix(".__main__"), *arguments]
    if not command:
        return None, ["python"]
    first = command[0]
    if first in ("-c", "-"):
        return None, ["python", *command]
    name = os.path.basename(first)
    if script and _is_console_script(script, name):
        return "console_script", [name, *arguments]
    if script is None:
        return None, ["python", *command]
    if repo_root and _inside_relative(script, repo_root) is not None:
        # Inside the repository: relative to the working directory, or to the repository root when
        # the script was started from outside it (a rerun then starts from the root).
        path = os.path.relpath(script, cwd) if workdir is not None else _inside_relative(script, repo_root)
    else:
        path = os.path.relpath(script, cwd) if _inside_relative(script, cwd) is not None else script
    return "script", ["python", path, *arguments]


def _is_console_script(path: str, name: str) -> bool:
    """Whether ``path`` is an installed console script (an entry point's wrapper, not a .py file)."""
    if name.endswith(".py") or os.path.realpath(os.path.dirname(path)) != \
            os.path.realpath(sysconfig.get_path("scripts")):
        return False
    from importlib.metadata import entry_points

    return bool(entry_points(group="console_scripts", name=name))


def _inside_relative(path: str, root: str | None) -> str | None:
    """``path`` relative to ``root`` ("." for the root itself), or None when it is outside."""
    if not root:
        return None
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    return None if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


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
