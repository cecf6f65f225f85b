"""The Reproduce plan and the requirements it installs, from records as the capture writes them."""
from __future__ import annotations

from types import SimpleNamespace

from tracker.reproduction import plan_reproduction, shell_script
from tracker.requirements import names_package, pip_requirements

ENVIRONMENT = {
    "python": "3.11.7", "implementation": "CPython", "os": "Linux", "machine": "x86_64",
    "packages": {"numpy": "2.1.0", "mlproj": "0.2", "pip": "24.0", "torch": "2.4.0+cu121", "serverless-ml-tracker": "0.1.0",
                 "vcspkg": "1.0", "localpkg": "3.0", "wheelpkg": "1.1"},
    "package_sources": {
        "mlproj": {"kind": "editable", "url": "file:///home/ann/mlproj", "repo_path": "."},
        "vcspkg": {"kind": "vcs", "url": "git+https://github.com/o/vcspkg@abc123"},
        "localpkg": {"kind": "path", "url": "file:///home/ann/localpkg"},
        "wheelpkg": {"kind": "url", "url": "file:///tmp/wheelpkg-1.1-py3-none-any.whl"},
    },
    "tracker_distribution": "serverless-ml-tracker",
}
GIT = {"available": True, "in_repo": True, "repo_root": "/home/ann/mlproj", "commit": "a" * 40,
       "remote_url": "https://github.com/ann/mlproj.git", "dirty": True, "diff_file": "files/diff.patch",
       "untracked_files": ["notes.txt", "data/"]}
CODE = {"command_line": "python train.py --lr 0.1", "entry": "script", "cwd": "/home/ann/mlproj/exp",
        "workdir": "exp", "env_files": [{"name": "pyproject.toml", "repo_path": "pyproject.toml", "file": "files/env/pyproject.toml"}]}


def run_record(**fields):
    values = {"git": GIT, "code": CODE, "environment": ENVIRONMENT, "datasets": [], "config": {"lr": 0.1}} | fields
    return SimpleNamespace(**values)


def test_generated_requirements_install_the_project_from_the_checkout_and_name_what_no_index_has():
    lines = pip_requirements(ENVIRONMENT).splitlines()
    assert lines[0] == "# The packages of the run: Python 3.11.7 (CPython) on Linux x86_64"
    assert "-e ." in lines and "mlproj==0.2" not in lines
    assert "numpy==2.1.0" in lines and not any(line.startswith("pip==") for line in lines)
    assert "serverless-ml-tracker==0.1.0  # the tracker, by its distribution name" in lines
    assert "vcspkg @ git+https://github.com/o/vcspkg@abc123" in lines
    assert "/home/ann/localpkg" in lines  # installed as it was, after a comment saying whose path it is
    assert lines[lines.index("/home/ann/localpkg") - 1].startswith("# localpkg 3.0 was installed from /home/ann/localpkg")
    assert "wheelpkg==1.1  # installed from the local file /tmp/wheelpkg-1.1-py3-none-any.whl" in lines
    assert lines[[line.split("==")[0] for line in lines].index("torch")].startswith(
        "torch==2.4.0  # installed as 2.4.0+cu121, a build from another index")
    with_index = pip_requirements(ENVIRONMENT | {"index_urls": ["https://download.pytorch.org/whl/cu121"]})
    assert "--extra-index-url https://download.pytorch.org/whl/cu121" in with_index
    assert "torch==2.4.0+cu121\n" in with_index


def test_the_block_clones_checks_out_patches_installs_and_runs_from_the_working_folder():
    datasets = [{"name": "train", "path": "../data/train.csv", "kind": "file", "sha256": "b" * 64},
                {"name": "outside", "path": "/srv/x.csv", "kind": "file", "sha256": "c" * 64}]
    plan = plan_reproduction(run_record(datasets=datasets))
    assert shell_script(plan).splitlines() == [
        "git clone https://github.com/ann/mlproj.git mlproj",
        "cd mlproj",
        f"git checkout --quiet {'a' * 40}",
        "git apply ../diff.patch   # the uncommitted changes",
        "# Untracked files the run may have needed (not in the repository): notes.txt, data/",
        "python3.11 -m venv ../venv   # the run used Python 3.11.7",
        ". ../venv/bin/activate",
        "pip install -r ../requirements.txt",
        "# ../requirements.txt (download above) pins the run's packages; the project installs from the checkout",
        "cd exp",
        f"printf '%s  %s\\n' {'b' * 64} ../data/train.csv | sha256sum -c -   # dataset train",
        f"printf '%s  %s\\n' {'c' * 64} /srv/x.csv | sha256sum -c -   # dataset outside, outside the repository",
        "python train.py --lr 0.1",
    ]
    assert plan.datasets[0].recorded_at == "/home/ann/mlproj/data/train.csv" and plan.datasets[0].in_repository
    assert not plan.seed_recorded and plan_reproduction(run_record(config={"train": {"seed": 3}})).seed_recorded


def test_the_repositorys_own_requirements_file_is_preferred_and_the_tracker_added_when_it_is_not_named():
    code = CODE | {"env_files": [{"name": "requirements.txt", "repo_path": "requirements.txt", "file": "x"}]}
    plan = plan_reproduction(run_record(code=code), {"requirements.txt": "numpy\n"})
    assert plan.installs == [["-r", "requirements.txt"], ["-e", "."], ["serverless-ml-tracker==0.1.0"]]
    assert plan.requirements_text is None
    plan = plan_reproduction(run_record(code=code), {"requirements.txt": "numpy\nserverless_ml_tracker>=0.1\n"})
    assert plan.installs == [["-r", "requirements.txt"], ["-e", "."]]
    untracked = GIT | {"untracked_files": ["requirements.txt"]}
    assert plan_reproduction(run_record(code=code, git=untracked)).installs == [["-r", "../requirements.txt"]]


def test_names_package_matches_by_normalized_name_or_by_the_recorded_path():
    assert names_package("Scikit_Learn==1.0\n", "scikit-learn", None)
    assert names_package("-e /work/tracker  # ours\n", "serverless-ml-tracker",
                         {"kind": "editable", "url": "file:///work/tracker"})
    assert not names_package("# serverless-ml-tracker\nnumpy\n", "serverless-ml-tracker", None)


def test_a_repository_without_a_remote_or_a_run_without_git_says_so():
    plan = plan_reproduction(run_record(git=GIT | {"remote_url": None}, code=CODE | {"script_file": "files/code/train.py"}))
    script = shell_script(plan).splitlines()
    assert plan.local_only and "git clone /home/ann/mlproj mlproj" in script
    assert script[:2] == ["# The repository has no remote: clone it on the machine that ran the run (or copy",
                          "# that folder here); elsewhere the run folder holds the entry script as it ran, "
                          "files/code/train.py"]
    plan = plan_reproduction(run_record(git={"available": True, "in_repo": False},
                                        code=CODE | {"script_file": "files/code/train.py"}))
    assert plan.blocker == "The run's script was not in a git repository: the code version is unknown."
    assert "git clone" not in shell_script(plan) and "files/code/train.py" in shell_script(plan)


def test_recorded_values_cannot_add_a_command_to_the_block():
    """A run folder may come from anyone, and the block is meant to be pasted into a shell."""
    hostile_git = GIT | {"untracked_files": ["notes.txt\ntouch PWNED-untracked"]}
    datasets = [{"name": "train\ntouch PWNED-dataset", "path": "d.csv", "kind": "file", "sha256": "b" * 64},
                {"name": "bad hash", "path": "e.csv", "kind": "file", "sha256": "$(touch PWNED-hash)"}]
    environment = ENVIRONMENT | {"python": "3.11;touch PWNED-python"}
    script = shell_script(plan_reproduction(run_record(git=hostile_git, datasets=datasets, environment=environment)))
    assert "PWNED-untracked" in script and "PWNED-dataset" in script  # shown, inside comments
    assert not any("PWNED" in line.split("#", 1)[0] for line in script.splitlines())
    assert "PWNED-hash" not in script and "PWNED-python" not in script

    bad_commit = shell_script(plan_reproduction(run_record(git=GIT | {"commit": "abc; touch PWNED"})))
    assert bad_commit.splitlines()[0] == "# The recorded commit is not a git commit id: the code version is unknown."
    assert not any("PWNED" in line.split("#", 1)[0] for line in bad_commit.splitlines())
