"""`tracker reproduce RUN`: rerun a run from its records in a fresh folder and compare its metrics.

Does what the run page's Reproduce block says (tracker/reproduction.py makes both): clone and check
out the recorded commit, apply the captured diff, make a virtual environment from the recorded
requirements, check the datasets against their hashes, run the recorded command. The rerun logs into
the original's runs folder as a new run whose code record names the run it reproduces
(``$TRACKER_REPRODUCES``); the comparison is saved in both run folders, where their pages read it.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from ..atomic_file import replace_file
from ..capture.code import REPRODUCES_VARIABLE
from ..datasets import describe_dataset
from ..errors import TrackerError
from ..formatting import format_value, table
from ..listing import find_run
from ..reader import load_run
from ..reproduction import (DEFAULT_RTOL, REPRODUCED_BY_FOLDER, REPRODUCES_FILE, REQUIREMENTS_DOWNLOAD, VENV_FOLDER,
                            ReproducePlan, compare_metrics, compared_names, differing_datasets, plan_reproduction)
from ..values import replace_non_finite
from . import add_runs_option


class ReproduceError(TrackerError):
    """A step of the rerun failed; the message names the step, what it used and what to do."""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "reproduce", help="rerun a run from its recorded code, environment and data, and compare its metrics",
        description="Clone the run's repository at its commit, apply its uncommitted diff, install its recorded "
                    "requirements in a new virtual environment, check its datasets' hashes, run its command "
                    "(logged as a new run that names the one it reproduces) and compare the metrics. Exits 1 "
                    "when a metric differs by more than --rtol.",
        epilog="examples:\n  tracker reproduce baseline\n"
               "  tracker reproduce 20261123-094237-k3x9a2bq --compare valid/acc,train/loss --rtol 1e-4\n"
               "  tracker reproduce baseline --workdir /tmp/rerun --repo ~/src/project",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="run id, folder name, unique id prefix, or name")
    add_runs_option(parser)
    parser.add_argument("--workdir", metavar="DIR", help="an empty or new folder to work in (default: a new temporary one)")
    parser.add_argument("--compare", metavar="METRICS",
                        help="comma-separated metric names to compare (default: every number in the run's summary)")
    parser.add_argument("--rtol", type=float, default=DEFAULT_RTOL, metavar="X",
                        help=f"relative tolerance for a metric to match (default: {DEFAULT_RTOL:g})")
    parser.add_argument("--force", "--continue", dest="force", action="store_true",
                        help="go on when a dataset differs from its recorded hash or the diff was truncated")
    parser.add_argument("--repo", metavar="URL_OR_DIR",
                        help="clone from here instead of the recorded remote (a mirror, or a copy you have)")
    parser.set_defaults(handler=run_reproduce)


def run_reproduce(args) -> int:
    """The rerun, step by step; 0 when every compared metric matches, 1 when one does not."""
    if not args.rtol >= 0:
        raise ReproduceError(f"--rtol {args.rtol} must be a number of 0 or more")
    original = find_run(args.run, *([args.runs] if args.runs else []))
    plan = plan_reproduction(original, _env_file_texts(original.path))
    if plan.blocker:
        raise ReproduceError(f"run {original.id} cannot be reproduced: {plan.blocker}")
    if not plan.command:
        raise ReproduceError(f"run {original.id} recorded no command to rerun (started with python -c, or code capture was off)")
    workdir = _work_folder(args.workdir, original.id)
    _say(f"reproducing {original.id} in {workdir}")
    clone = _check_out(plan, original, workdir, args)
    command_folder = os.path.normpath(os.path.join(clone, plan.workdir))
    _check_datasets(plan, command_folder, args.force)  # before the slow part: a changed file stops at once
    python = _make_environment(plan, workdir, clone)
    rerun = _rerun(plan, original, python, command_folder)
    return _compare(original, rerun, args)


def _say(text: str) -> None:
    print(f"tracker reproduce: {text}", flush=True)


def _env_file_texts(run_path: str) -> dict[str, str]:
    texts = {}
    for path in glob.glob(os.path.join(run_path, "files", "env", "*")):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                texts[os.path.basename(path)] = handle.read()
        except OSError:
            continue
    return texts


def _work_folder(chosen: str | None, run_id: str) -> str:
    if chosen is None:
        return tempfile.mkdtemp(prefix=f"tracker-reproduce-{run_id}-")
    folder = os.path.abspath(chosen)
    if os.path.isdir(folder) and os.listdir(folder):
        raise ReproduceError(f"--workdir {folder} is not empty; give a new or empty folder")
    os.makedirs(folder, exist_ok=True)
    return folder


def _git(args: list[str], cwd: str, failure: str) -> None:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"git exited with {done.returncode}"])[-1]
        raise ReproduceError(f"{failure}: {detail}")


def _check_out(plan: ReproducePlan, original, workdir: str, args) -> str:
    """Clone, check out the commit and apply the diff; returns the checkout's folder."""
    source = args.repo or plan.clone_url
    if args.repo and os.path.exists(args.repo):
        source = os.path.abspath(args.repo)  # git runs in the work folder: a relative folder would miss
    clone = os.path.join(workdir, plan.clone_dir)
    where = (f"the run's repository was {original.git.get('repo_root')} on {original.host or 'the machine that ran it'}"
             if isinstance(original.git, dict) else "")
    hint = f" ({where}; pass --repo URL_OR_DIR to clone a copy you can reach)" if not args.repo else ""
    _say(f"cloning {source}" + (" (the repository has no remote: its folder)" if plan.local_only and not args.repo else ""))
    _git(["clone", "--quiet", source, clone], workdir, f"cannot clone {source}{hint}")
    if plan.commit:
        _git(["-c", "advice.detachedHead=false", "checkout", "--quiet", plan.commit], clone,
             f"commit {plan.commit} is not in {source} (was it pushed?)")
    if plan.patch:
        git = original.git if isinstance(original.git, dict) else {}
        patch = os.path.join(original.path, git.get("diff_file") or os.path.join("files", "diff.patch"))
        if not os.path.isfile(patch):
            raise ReproduceError(f"run {original.id} had uncommitted changes but {patch} is missing")
        if plan.patch_truncated and not args.force:
            raise ReproduceError(f"{patch} was cut at capture (the changes were larger); pass --force to apply what there is")
        _git(["apply", "--whitespace=nowarn", patch], clone, f"git apply {patch} failed")
        _say("applied the run's uncommitted changes")
    if plan.untracked:
        _say("untracked files the run may have needed are not in the checkout: " + ", ".join(plan.untracked))
    return clone


def _make_environment(plan: ReproducePlan, workdir: str, clone: str) -> str:
    """A virtual environment beside the checkout with the run's packages; returns its python."""
    base = _python_like(plan.python)
    venv = os.path.join(workdir, VENV_FOLDER)
    _say(f"creating a virtual environment with {base}" + (f" (the run used Python {plan.python})" if plan.python else ""))
    done = subprocess.run([base, "-m", "venv", venv], capture_output=True, text=True)
    if done.returncode != 0:
        raise ReproduceError(f"{base} -m venv {venv} failed: {done.stderr.strip() or done.returncode}")
    python = os.path.join(venv, "bin", "python")
    if plan.requirements_text:
        replace_file(os.path.join(workdir, REQUIREMENTS_DOWNLOAD), plan.requirements_text)
    for arguments in plan.installs:
        _say("pip install " + shlex.join(arguments))
        done = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments],
                              cwd=clone, capture_output=True, text=True)
        if done.returncode != 0:
            detail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise ReproduceError(f"pip install {shlex.join(arguments)} failed in {clone}:\n{detail}")
    return python


def _python_like(version: str | None) -> str:
    """An interpreter of the run's major.minor version when one is on PATH, else this one."""
    if version:
        found = shutil.which("python" + ".".join(version.split(".")[:2]))
        if found:
            return found
        _say(f"no python{'.'.join(version.split('.')[:2])} on PATH: using {sys.executable} (Python "
             f"{'.'.join(map(str, sys.version_info[:3]))})")
    return sys.executable


def _check_datasets(plan: ReproducePlan, command_folder: str, force: bool) -> None:
    """Each dataset's content against its recorded hash; one missing from the checkout is taken
    from where the run read it when that copy matches. Stops on a difference unless ``force``."""
    differing = []
    for check in plan.datasets:
        here = check.path if os.path.isabs(check.path) else os.path.normpath(os.path.join(command_folder, check.path))
        if not os.path.exists(here) and check.in_repository and check.recorded_at and os.path.exists(check.recorded_at):
            found = describe_dataset(check.recorded_at, check.name).get("sha256")
            if found == check.sha256:
                os.makedirs(os.path.dirname(here), exist_ok=True)
                (shutil.copytree if os.path.isdir(check.recorded_at) else shutil.copy2)(check.recorded_at, here)
                _say(f"dataset {check.name}: not in the repository; copied from {check.recorded_at} (hash matches)")
                continue
            here = check.recorded_at
        if not os.path.exists(here):
            _say(f"dataset {check.name}: {here} not found before the run (if the script makes it, "
                 "its hash is compared after the rerun)")
            continue
        found = describe_dataset(here, check.name).get("sha256")
        if found == check.sha256:
            _say(f"dataset {check.name}: {here} matches its recorded sha256")
        else:
            differing.append(f"dataset {check.name!r}: {here} has sha256 {found}, the run recorded {check.sha256}")
    for line in differing:
        print(f"tracker reproduce: {line}", file=sys.stderr)
    if differing and not force:
        raise ReproduceError(f"{len(differing)} dataset(s) differ from the run: {differing[0]}; "
                             "pass --force to rerun with them anyway")


def _rerun(plan: ReproducePlan, original, python: str, command_folder: str):
    """Run the recorded command in the environment, logging into the original's runs folder;
    returns the run it logged."""
    runs_folder = os.path.dirname(os.path.normpath(original.path))
    before = set(os.listdir(runs_folder))
    venv_bin = os.path.dirname(python)
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    environment.update(PATH=venv_bin + os.pathsep + environment.get("PATH", ""), VIRTUAL_ENV=os.path.dirname(venv_bin),
                       TRACKER_DIR=runs_folder, **{REPRODUCES_VARIABLE: original.id})
    _say(f"running in {command_folder}: {plan.command}")
    try:
        done = subprocess.run(shlex.split(plan.command), cwd=command_folder, env=environment)
    except OSError as exc:
        raise ReproduceError(f"cannot run {plan.command!r} in {command_folder}: {exc.strerror or exc}") from None
    reruns = [load_run(os.path.join(runs_folder, name)) for name in sorted(set(os.listdir(runs_folder)) - before)
              if os.path.isdir(os.path.join(runs_folder, name))]
    reruns = [run for run in reruns if isinstance(run.code, dict) and run.code.get("reproduces") == original.id] or reruns
    if done.returncode != 0:
        raise ReproduceError(f"the command exited with status {done.returncode}: {plan.command}"
                             + (f" (its run: {reruns[-1].id})" if reruns else ""))
    if not reruns:
        raise ReproduceError(f"the command logged no run into {runs_folder}; tracker reproduce sets TRACKER_DIR "
                             "there: does the script pass dir= to tracker.init()?")
    return reruns[-1]


def _compare(original, rerun, args) -> int:
    wanted = [name.strip() for name in args.compare.split(",") if name.strip()] if args.compare else None
    rows = compare_metrics(original.summary, rerun.summary, compared_names(original.summary, wanted), args.rtol)
    datasets = differing_datasets(original.datasets, rerun.datasets)
    print(table(["metric", "original", "rerun", "difference", f"within {args.rtol:g}"],
                [[row["name"], format_value(row["original"]), format_value(row["rerun"]),
                  "-" if row["difference"] is None else format_value(row["difference"]),
                  "yes" if row["within"] else "NO"] for row in rows]))
    for name in datasets:
        print(f"dataset {name}: the rerun logged different content (sha256) than the run")
    matched = sum(row["within"] for row in rows)
    record = {"original": original.id, "rerun": rerun.id, "time": time.time(), "rtol": args.rtol,
              "metrics": rows, "matched": matched, "total": len(rows), "datasets_differing": datasets}
    _save(record, os.path.join(rerun.path, REPRODUCES_FILE))
    _save(record, os.path.join(original.path, REPRODUCED_BY_FOLDER, f"{rerun.id}.json"))
    _say(f"rerun {rerun.id}: {matched} of {len(rows)} metrics match within {args.rtol:g}"
         + (f"; {len(datasets)} dataset(s) differ" if datasets else ""))
    return 0 if matched == len(rows) and not datasets else 1


def _save(record: dict, path: str) -> None:
    """The comparison beside a run's records; a runs folder that cannot be written only warns."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        replace_file(path, json.dumps(replace_non_finite(record), indent=1, allow_nan=False, default=str) + "\n")
    except (OSError, ValueError) as exc:
        print(f"tracker reproduce: warning: could not save the comparison in {path}: {exc}", file=sys.stderr)
