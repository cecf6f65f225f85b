"""The command and environment a run records are ones a rerun can use on another machine."""
from __future__ import annotations

import os
import subprocess
import sys

from tracker.capture import capture_code
from tracker.reader import load_run
from tracker.cli.demo import PACKAGE_PARENT

from scripts import script_env, write_script

GIT_IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def git(repo, *args: str) -> str:
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(path) -> str:
    os.makedirs(path, exist_ok=True)
    git(path, "init", "-q")
    return str(path)


def test_a_script_started_by_its_absolute_path_records_a_path_relative_to_the_working_directory(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = os.path.join(repo, "exp", "train.py")
    os.makedirs(os.path.dirname(script))
    record, _ = capture_code([script, "--lr", "0.1"], repo, script, repo)
    assert (record["command_line"], record["workdir"], record["entry"]) == ("python exp/train.py --lr 0.1", ".", "script")
    record, _ = capture_code([script], os.path.join(repo, "exp"), script, repo)
    assert (record["command_line"], record["workdir"]) == ("python train.py", "exp")


def test_a_script_started_from_outside_its_repository_records_its_path_from_the_root(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = os.path.join(repo, "train.py")
    record, _ = capture_code([script], str(tmp_path), script, repo)
    assert (record["command_line"], record["workdir"]) == ("python train.py", None)


def test_python_dash_m_is_recorded_as_the_module_not_its_file(tmp_path):
    record, _ = capture_code(["/somewhere/pkg/train.py", "--x", "1"], str(tmp_path), "/somewhere/pkg/train.py",
                             None, main_module="pkg.train")
    assert (record["command_line"], record["entry"]) == ("python -m pkg.train --x 1", "module")
    record, _ = capture_code(["/somewhere/pkg/__main__.py"], str(tmp_path), "/somewhere/pkg/__main__.py",
                             None, main_module="pkg.__main__")
    assert record["command_line"] == "python -m pkg"


def test_a_console_script_is_recorded_by_its_name(tmp_path):
    # the `tracker` command of this install is a console script in the interpreter's scripts folder
    import sysconfig

    path = os.path.join(sysconfig.get_path("scripts"), "tracker")
    assert os.path.isfile(path)
    record, _ = capture_code([path, "ls"], str(tmp_path), path, None)
    assert (record["command_line"], record["entry"]) == ("tracker ls", "console_script")


def test_a_run_started_by_a_real_process_records_the_rerun_command(tmp_path):
    repo = make_repo(tmp_path / "repo")
    write_script(repo, "import tracker\ntracker.init(dir='../runs').finish()\n", name="train.py")
    done = subprocess.run([sys.executable, os.path.join(repo, "train.py"), "--seed", "3"], cwd=repo,
                          capture_output=True, text=True, env=script_env(TRACKER_REPRODUCES="20260101-000000-abcdefgh"))
    assert done.returncode == 0, done.stderr
    (run_id,) = os.listdir(tmp_path / "runs")
    code = load_run(str(tmp_path / "runs" / run_id)).code
    assert (code["command_line"], code["workdir"], code["reproduces"]) == (
        "python train.py --seed 3", ".", "20260101-000000-abcdefgh")


def test_the_demo_records_a_command_that_runs_from_the_repository_root(tmp_path):
    from tracker.cli import main

    assert main(["demo", "--runs", str(tmp_path / "runs")]) == 0
    run = next(load_run(str(path)) for path in (tmp_path / "runs").iterdir() if path.is_dir()
               and load_run(str(path)).name == "baseline")
    command = run.code["command_line"]
    assert command.startswith("python -m tracker.cli.demo --project demo-moons --name baseline --lr 0.1")
    assert str(tmp_path) not in command and "--runs" not in command
    assert run.code["workdir"] == (".") or run.git.get("in_repo") is False
    # run literally from the package's parent folder into a new runs folder, it logs the same result
    rerun = subprocess.run(["bash", "-c", command.replace("python ", f"{sys.executable} ", 1)], cwd=PACKAGE_PARENT,
                           capture_output=True, text=True, env=script_env(TRACKER_DIR=str(tmp_path / "again")))
    assert rerun.returncode == 0, rerun.stderr
    (again,) = (tmp_path / "again").iterdir()
    assert load_run(str(again)).summary["best_acc"] == run.summary["best_acc"]
