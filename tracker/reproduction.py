"""How to rerun a recorded run: the steps a run page's Reproduce block shows and `tracker reproduce` runs.

Built from the run's ``git``, ``code``, ``environment``, ``dataset`` and ``config`` records, so the
page and the command can never disagree. The block is a shell script that runs verbatim in an empty
folder holding the page's downloads (``diff.patch``, ``requirements.txt``): it clones into a folder
of its own and keeps the virtual environment beside it (``../venv``), so the checkout stays clean.
Pure: no file access.
"""
from __future__ import annotations

import math
import os
import re
import shlex
from dataclasses import dataclass, field

from .formatting import flatten
from .requirements import names_package, pip_requirements, requirement_lines

DIFF_DOWNLOAD = "diff.patch"
REQUIREMENTS_DOWNLOAD = "requirements.txt"
VENV_FOLDER = "venv"
# The comparisons `tracker reproduce` saves: in the original's folder one file per rerun, in the rerun's one.
REPRODUCED_BY_FOLDER = "files/reproduced_by"
REPRODUCES_FILE = "files/reproduces.json"
SEED_KEYS = ("seed", "random_seed", "manual_seed", "random_state")
# The block is meant to be pasted into a shell, and a run folder may come from anyone: values put into
# it unquoted must have these shapes, and text in a comment cannot end the comment's line.
_HEX = re.compile(r"[0-9a-f]{4,64}")
_PYTHON_VERSION = re.compile(r"\d+\.\d+(\.\d+)?[\w.+]*")
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass
class DatasetCheck:
    """A dataset to check before the rerun: ``path`` as the command sees it from its working folder."""

    name: str
    path: str
    sha256: str
    kind: str                     # "file" or "folder"
    recorded_at: str | None       # the absolute path on the machine that ran it, when known
    in_repository: bool           # inside the repository (a clone may hold it, unless it was untracked)


@dataclass
class ReproducePlan:
    """What rerunning a run takes; ``blocker`` says why it cannot be done (no code version recorded)."""

    blocker: str | None = None
    clone_url: str | None = None         # the remote, credentials stripped; or the local repository
    local_only: bool = False             # no remote: clone_url is a folder of the machine that ran it
    clone_dir: str = "repo"
    commit: str | None = None
    patch: bool = False
    patch_truncated: bool = False
    untracked: list[str] = field(default_factory=list)
    python: str | None = None            # "3.11.7"
    installs: list[list[str]] = field(default_factory=list)  # pip install arguments, run at the repo root
    installs_note: str = ""
    requirements_text: str | None = None  # the generated file, when an install reads it
    workdir: str = "."                   # where the command runs, relative to the repository root
    datasets: list[DatasetCheck] = field(default_factory=list)
    command: str | None = None
    seed_recorded: bool = False
    script_file: str | None = None       # the entry script's snapshot in the run folder


def plan_reproduction(run, env_file_texts: dict[str, str] | None = None) -> ReproducePlan:
    """The plan for ``run`` (a reader RunRecord); ``env_file_texts`` are the captured copies of
    the repository's environment files by name, to see whether its requirements name the tracker."""
    git = run.git if isinstance(run.git, dict) else {}
    code = run.code if isinstance(run.code, dict) else {}
    environment = run.environment if isinstance(run.environment, dict) else {}
    python = _text(environment.get("python"))
    plan = ReproducePlan(blocker=_git_blocker(git),
                         python=python if python and _PYTHON_VERSION.fullmatch(python) else None,
                         command=_text(code.get("command_line")), script_file=_text(code.get("script_file")),
                         seed_recorded=has_seed(run.config))
    if code.get("entry", "script") is None:
        plan.command = None  # python -c: the code was never in a file
    repo_root = _text(git.get("repo_root"))
    if plan.blocker is None:
        remote = _text(git.get("remote_url"))
        plan.clone_url, plan.local_only = (remote, False) if remote else (repo_root, True)
        plan.clone_dir = folder_name(remote or repo_root or "repo")
        commit = _text(git.get("commit"))
        plan.commit = commit if commit and _HEX.fullmatch(commit) else None
        plan.patch = bool(git.get("dirty") or git.get("diff_file"))
        plan.patch_truncated = bool(git.get("diff_truncated"))
        plan.untracked = [str(path) for path in git.get("untracked_files") or []]
    workdir = code.get("workdir")
    plan.workdir = workdir if isinstance(workdir, str) else "."
    _plan_installs(plan, code, environment, env_file_texts or {})
    plan.datasets = _dataset_checks(run.datasets, _text(code.get("cwd")), repo_root, plan.workdir)
    return plan


def has_seed(config: dict) -> bool:
    """Whether a config records a seed (``seed``, ``training.seed``, ``random_state``...)."""
    return any(str(key).rsplit(".", 1)[-1].lower() in SEED_KEYS for key in flatten(config or {}))


def folder_name(url: str) -> str:
    """The folder ``git clone URL`` makes: the URL's last part without ``.git``."""
    return url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git") or "repo"


def shell_script(plan: ReproducePlan) -> str:
    """The Reproduce block: shell lines that run verbatim in an empty folder holding the downloads."""
    lines = _ScriptLines()
    if plan.blocker:
        lines.append(f"# {plan.blocker}")
        if plan.script_file:
            lines.append(f"# The run folder holds the entry script as it ran: {plan.script_file}")
    else:
        if plan.local_only:
            lines.append("# The repository has no remote: clone it on the machine that ran the run (or copy")
            lines.append("# that folder here)" + (f"; elsewhere the run folder holds the entry script as it ran,"
                                                   f" {plan.script_file}" if plan.script_file else ""))
        lines += [f"git clone {shlex.quote(plan.clone_url or '')} {shlex.quote(plan.clone_dir)}",
                  f"cd {shlex.quote(plan.clone_dir)}"]
        if plan.commit:
            lines.append(f"git checkout --quiet {plan.commit}")
        if plan.patch:
            lines.append(f"git apply ../{DIFF_DOWNLOAD}   # the uncommitted changes"
                         + (" (truncated at capture: the run had more)" if plan.patch_truncated else ""))
        if plan.untracked:
            lines.append("# Untracked files the run may have needed (not in the repository): "
                         + ", ".join(plan.untracked))
    if plan.python:
        version = ".".join(plan.python.split(".")[:2])
        lines += [f"python{version} -m venv ../{VENV_FOLDER}   # the run used Python {plan.python}",
                  f". ../{VENV_FOLDER}/bin/activate"]
    for arguments in plan.installs:
        lines.append("pip install " + shlex.join(arguments))
    if plan.installs_note:
        lines.append(f"# {plan.installs_note}")
    if plan.workdir not in (".", ""):
        lines.append(f"cd {shlex.quote(plan.workdir)}")
    for check in plan.datasets:
        if check.kind == "file":
            where = "" if check.in_repository or check.recorded_at is None else ", outside the repository"
            lines.append(f"printf '%s  %s\\n' {check.sha256} {shlex.quote(check.path)} | sha256sum -c -"
                         f"   # dataset {check.name}{where}")
        else:
            lines.append(f"# dataset {check.name}: the folder {check.path}, sha256 {check.sha256}"
                         " over its files (tracker reproduce checks it)")
    if plan.command:
        lines.append(plan.command)
    else:
        lines.append("# No command to rerun was recorded (started with python -c, or capture was off)")
    return "\n".join(lines)


class _ScriptLines(list):
    """Lines of the block: whatever a line holds after a ``#`` stays on that line (a file or dataset
    name with a line break in it would otherwise start a command of its own)."""

    def append(self, line: str) -> None:
        code, hash_mark, comment = line.partition("#")
        super().append(code + hash_mark + _LINE_BREAKING.sub(" ", comment) if hash_mark else line)

    def __iadd__(self, lines):
        for line in lines:
            self.append(line)
        return self


def _git_blocker(git: dict) -> str | None:
    if not git:
        return "No git information was recorded (git capture was off): the code version is unknown."
    if git.get("available") is False:
        return f"git was not available when the run was logged ({git.get('reason') or 'unknown reason'}): " \
               "the code version is unknown."
    if git.get("in_repo") is False:
        return "The run's script was not in a git repository: the code version is unknown."
    if not git.get("commit"):
        return "The repository had no commit when the run was logged: the code version is unknown."
    if not isinstance(git.get("commit"), str) or not _HEX.fullmatch(git["commit"]):
        return "The recorded commit is not a git commit id: the code version is unknown."
    if not git.get("remote_url") and not git.get("repo_root"):
        return "The run recorded neither a remote nor the repository's folder."
    return None


def _plan_installs(plan: ReproducePlan, code: dict, environment: dict, env_file_texts: dict[str, str]) -> None:
    """The repository's own requirements file when it has one in the checkout, else the run's
    packages as a generated file; the project and the tracker installed as the run had them."""
    own = _repository_requirements(code, plan.untracked)
    sources = environment.get("package_sources") if isinstance(environment.get("package_sources"), dict) else {}
    if own is None:
        plan.requirements_text = pip_requirements(environment)
        if plan.requirements_text:
            plan.installs.append(["-r", f"../{REQUIREMENTS_DOWNLOAD}"])
            plan.installs_note = (f"../{REQUIREMENTS_DOWNLOAD} (download above) pins the run's packages;"
                                  " the project installs from the checkout")
        else:
            plan.installs_note = "No installed packages were recorded: install what the script imports."
        return
    plan.installs.append(["-r", own["repo_path"]])
    plan.installs_note = f"{own['repo_path']}: the repository's own requirements"
    for name, source in sources.items():
        if isinstance(source, dict) and isinstance(source.get("repo_path"), str):
            plan.installs.append(_install_arguments(requirement_lines(name, "", source)))
    ours = environment.get("tracker_distribution")
    packages = environment.get("packages") if isinstance(environment.get("packages"), dict) else {}
    if isinstance(ours, str) and ours in packages:
        source = sources.get(ours) if isinstance(sources.get(ours), dict) else None
        text = env_file_texts.get(own["name"], "")
        if not names_package(text, ours, source) and not (source and source.get("repo_path")):
            plan.installs.append(_install_arguments(requirement_lines(ours, str(packages[ours]), source,
                                                                      is_tracker=True)))


def _repository_requirements(code: dict, untracked: list[str]) -> dict | None:
    """The env file entry of the repository's requirements file that a checkout holds, if any."""
    candidates = []
    for entry in code.get("env_files") or []:
        if not isinstance(entry, dict):
            continue
        name, path = str(entry.get("name") or ""), entry.get("repo_path")
        if not (name.startswith("requirements") and name.endswith(".txt")) or not isinstance(path, str):
            continue
        if any(path == item or (item.endswith("/") and path.startswith(item)) for item in untracked):
            continue  # not committed: a clone does not have it
        candidates.append(entry)
    candidates.sort(key=lambda entry: (entry["repo_path"] != "requirements.txt", entry["repo_path"].count("/"),
                                       entry["repo_path"]))
    return candidates[0] if candidates else None


def _install_arguments(lines: list[str]) -> list[str]:
    """``pip install`` arguments from requirement_lines(): its line that is not a comment."""
    line = next(line for line in lines if not line.startswith("#")).split("  #", 1)[0]
    return line.split(" ", 1) if line.startswith("-e ") else [line]


def _dataset_checks(datasets: list, cwd: str | None, repo_root: str | None, workdir: str) -> list[DatasetCheck]:
    checks = []
    for record in datasets:
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), str) \
                or not _HEX.fullmatch(record["sha256"]) \
                or not isinstance(record.get("path"), str) or record.get("kind") not in ("file", "folder"):
            continue
        path = record["path"]
        recorded_at = path if os.path.isabs(path) else os.path.normpath(os.path.join(cwd, path)) if cwd else None
        inside = _relative_inside(recorded_at, repo_root) if recorded_at and repo_root else None
        if os.path.isabs(path) and inside is not None:
            path = os.path.relpath(inside, workdir)  # the clone's copy, seen from the working folder
        checks.append(DatasetCheck(str(record.get("name") or path), path, record["sha256"], record["kind"],
                                   recorded_at, inside is not None))
    return checks


def _relative_inside(path: str, root: str) -> str | None:
    relative = os.path.relpath(path, root)
    return None if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


DEFAULT_RTOL = 1e-6  # "the same number": equal to about 6 significant digits


def compare_metrics(original: dict, rerun: dict, names: list[str], rtol: float) -> list[dict]:
    """Each named summary value of the run and of its rerun: {name, original, rerun, difference,
    within}. Within means both are numbers equal to a relative tolerance ``rtol`` (NaN matches NaN,
    an infinity only itself); a value missing on either side is outside."""
    rows = []
    for name in names:
        first, second = original.get(name), rerun.get(name)
        numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (first, second))
        difference = second - first if numbers and math.isfinite(first) and math.isfinite(second) else None
        if numbers:
            within = (math.isnan(first) and math.isnan(second)) or math.isclose(first, second, rel_tol=rtol, abs_tol=0.0)
        else:
            within = first is not None and first == second
        rows.append({"name": name, "original": first, "rerun": second, "difference": difference, "within": within})
    return rows


def compared_names(summary: dict, wanted: list[str] | None) -> list[str]:
    """The metrics to compare: those asked for, else every number in the run's summary."""
    if wanted:
        return wanted
    return sorted(name for name, value in summary.items()
                  if isinstance(value, (int, float)) and not isinstance(value, bool))


def differing_datasets(original: list, rerun: list) -> list[str]:
    """Names of datasets both runs logged whose content hashes differ."""
    hashes = {record.get("name"): record.get("sha256") for record in rerun if isinstance(record, dict)}
    return sorted({str(record.get("name")) for record in original
                   if isinstance(record, dict) and record.get("sha256") and record.get("name") in hashes
                   and hashes[record.get("name")] != record.get("sha256")})
