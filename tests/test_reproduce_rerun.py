"""Reproducing runs for real: the page's Reproduce block run verbatim, and `tracker reproduce`.

A scikit-learn script in a git repository (pushed to a bare "remote") with an uncommitted change
and a committed dataset is run and logged; the built page's block, read out of the HTML, is run in
another folder with bash (fresh virtual environment, pip install from the recorded requirements) and
gives the same metric; `tracker reproduce` does the same and exits 0. Each fresh environment
installs numpy, scikit-learn and the tracker from this checkout: about a minute per test with pip's
cache warm (longer the first time).
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tracker.cli import main
from tracker.reader import load_run

from scripts import script_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # this checkout: the tracker's source
VENV_BIN = os.path.dirname(sys.executable)
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com"}
INSTALL_TIMEOUT_S = 600

TRAIN = """\
import argparse, csv
import numpy as np
import tracker
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--data", default="data/points.csv")
args = parser.parse_args()
with open(args.data) as handle:
    rows = [[float(cell) for cell in row] for row in csv.reader(handle)]
data = np.array(rows)
features, labels = data[:, :2], data[:, 2].astype(int)
with tracker.init(project="sk", config={"C": args.C}) as run:
    tracker.seed_everything(0)
    run.log_dataset(args.data, name="points")
    model = LogisticRegression(C=args.C, max_iter=500).fit(features, labels)
    PENALTY = 1.0
    run.log({"loss": log_loss(labels, model.predict_proba(features)) * PENALTY,
             "accuracy": model.score(features, labels)})
"""


def git(folder, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_IDENTITY})
    return done.stdout.strip()


def points_csv() -> str:
    import random

    rng = random.Random(5)
    rows = []
    for _ in range(120):
        label = rng.random() < 0.5
        rows.append(f"{rng.gauss(1.0 if label else -1.0, 1.2):.6f},{rng.gauss(0.5 if label else 0.0, 1.0):.6f},{int(label)}")
    return "\n".join(rows) + "\n"


def make_project(tmp_path, requirements: str, remote: str | None = "bare") -> str:
    """A git repository with train.py, a committed dataset and requirements, pushed to a bare
    repository as its origin; then an uncommitted change that the rerun needs."""
    repo = tmp_path / "project"
    (repo / "data").mkdir(parents=True)
    (repo / "train.py").write_text(TRAIN)
    (repo / "data" / "points.csv").write_text(points_csv())
    (repo / "requirements.txt").write_text(requirements)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    if remote == "bare":
        git(tmp_path, "init", "-q", "--bare", "origin.git")
        git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
        git(repo, "push", "-q", "origin", "main")
    elif remote:
        git(repo, "remote", "add", "origin", remote)
    (repo / "train.py").write_text(TRAIN.replace("PENALTY = 1.0", "PENALTY = 2.5"))  # uncommitted, and it matters
    return str(repo)


def run_training(repo: str, runs, *args: str, python: str = sys.executable) -> object:
    done = subprocess.run([python, "train.py", *args], cwd=repo, capture_output=True, text=True, timeout=120,
                          env=script_env(TRACKER_DIR=str(runs)))
    assert done.returncode == 0, done.stderr
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    return load_run(str(folder))


def tool_env(**extra: str) -> dict:
    """The environment a user's shell has: this interpreter's folder first on PATH (python3.11, tracker)."""
    environment = script_env(**extra)
    environment.pop("PYTHONPATH", None)
    environment["PATH"] = VENV_BIN + os.pathsep + environment.get("PATH", "")
    return environment


def reproduce_block(page: str) -> tuple[str, list[str]]:
    """The Reproduce block's script and the downloads it names, as a reader of the page sees them."""
    section = page[page.index('id="reproduce"'):]
    section = section[:section.index("</section>")]
    script = html.unescape(re.search(r'<pre class="command reproduce-script"><code>(.*?)</code></pre>', section, re.S).group(1))
    downloads = [html.unescape(name) for name in re.findall(r'<a class="button" href="([^"]+)" download>', section)]
    return script, downloads


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """The run of the scikit-learn project, and its site."""
    tmp_path = tmp_path_factory.mktemp("sk")
    repo = make_project(tmp_path, f"numpy\nscikit-learn\n-e {ROOT}\n")
    runs = tmp_path / "runs"
    run = run_training(repo, runs, "--C", "0.5")
    assert main(["build", "--runs", str(runs), "--out", str(tmp_path / "site")]) == 0
    return tmp_path, run


def test_the_pages_reproduce_block_run_verbatim_in_another_folder_gives_the_same_metric(logged):
    tmp_path, run = logged
    page_folder = tmp_path / "site" / "runs" / run.id
    script, downloads = reproduce_block((page_folder / "index.html").read_text())
    assert downloads == ["diff.patch"]  # the repository's own requirements.txt is in the checkout
    assert script.splitlines()[:4] == [f"git clone {tmp_path / 'origin.git'} origin", "cd origin",
                                       f"git checkout --quiet {run.git['commit']}",
                                       "git apply ../diff.patch   # the uncommitted changes"]
    assert "pip install -r requirements.txt" in script and "python train.py --C 0.5" in script
    assert "sha256sum -c -   # dataset points" in script
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in downloads:
        shutil.copy(page_folder / name, elsewhere / name)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=elsewhere, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, env=tool_env(TRACKER_DIR=str(tmp_path / "verbatim-runs")))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "data/points.csv: OK" in done.stdout
    (rerun_folder,) = (tmp_path / "verbatim-runs").iterdir()
    rerun = load_run(str(rerun_folder))
    assert f"{rerun.summary['loss']:.6g}" == f"{run.summary['loss']:.6g}"
    assert rerun.environment["executable"].startswith(str(elsewhere / "venv"))  # it ran in the new environment
    assert rerun.config == run.config == {"C": 0.5, "seed": 0}


def test_tracker_reproduce_reruns_compares_and_both_pages_say_so(logged):
    tmp_path, run = logged
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run.id, "--runs", str(tmp_path / "runs"),
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, env=tool_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "dataset points: " in done.stdout and "matches its recorded sha256" in done.stdout
    table = done.stdout[done.stdout.index("metric "):].splitlines()
    assert table[0].split() == ["metric", "original", "rerun", "difference", "within", "1e-06"]
    assert [line.split()[0] for line in table[2:4]] == ["accuracy", "loss"]
    assert all(line.split()[-1] == "yes" for line in table[2:4])
    rerun_id = re.search(r"rerun (\S+): 2 of 2 metrics match within 1e-06", done.stdout).group(1)
    rerun = load_run(str(tmp_path / "runs" / rerun_id))
    assert rerun.code["reproduces"] == run.id
    saved = json.loads((tmp_path / "runs" / run.id / "files" / "reproduced_by" / f"{rerun_id}.json").read_text())
    assert (saved["original"], saved["rerun"], saved["matched"], saved["total"]) == (run.id, rerun_id, 2, 2)
    assert main(["build", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "site2")]) == 0
    original_page = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", (
        tmp_path / "site2" / "runs" / run.id / "index.html").read_text())))
    assert re.search(rf"Reproduced by {rerun_id} on \d{{4}}-\d\d-\d\d \d\d:\d\d UTC: 2 of 2 metrics match within 1e-06",
                     original_page)
    rerun_page = (tmp_path / "site2" / "runs" / rerun_id / "index.html").read_text()
    assert f'A rerun of <a href="../{run.id}/index.html">{run.id}</a>' in rerun_page


def test_a_changed_dataset_stops_the_rerun_naming_the_file_and_both_hashes(tmp_path):
    repo = make_project(tmp_path, "numpy\n")
    outside = tmp_path / "shared" / "points.csv"
    outside.parent.mkdir()
    outside.write_text(points_csv())
    run = run_training(repo, tmp_path / "runs", "--data", str(outside))
    recorded = run.datasets[0]["sha256"]
    outside.write_text(points_csv().replace("1", "2", 1))
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run.id, "--runs", str(tmp_path / "runs"),
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True, timeout=120,
                          env=tool_env())
    assert done.returncode == 2, done.stdout + done.stderr
    import hashlib

    now = hashlib.sha256(outside.read_bytes()).hexdigest()
    assert (f"tracker reproduce: dataset 'points': {outside} has sha256 {now}, the run recorded {recorded}"
            in done.stderr.splitlines())
    assert done.stderr.splitlines()[-1].startswith("tracker: error: 1 dataset(s) differ from the run: ")
    assert done.stderr.splitlines()[-1].endswith("; pass --force to rerun with them anyway")
    assert not (tmp_path / "work" / "venv").exists()  # stopped before the slow part


def test_cli_messages_for_no_git_and_an_unreachable_remote(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "train.py").write_text("import tracker\ntracker.init(project='p').finish()\n")
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path / "plain", check=True,
                   env=script_env(TRACKER_DIR=str(tmp_path / "plain-runs")))
    (run_id,) = os.listdir(tmp_path / "plain-runs")
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run_id, "--runs", str(tmp_path / "plain-runs")],
                          capture_output=True, text=True, env=tool_env())
    assert (done.returncode, done.stderr) == (2, f"tracker: error: run {run_id} cannot be reproduced: The run's script "
                                                 "was not in a git repository: the code version is unknown.\n")
    repo = make_project(tmp_path, "numpy\nscikit-learn\n", remote=str(tmp_path / "gone.git"))
    run = run_training(repo, tmp_path / "runs")
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run.id, "--runs", str(tmp_path / "runs"),
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True, env=tool_env())
    assert done.returncode == 2
    assert done.stderr.startswith(f"tracker: error: cannot clone {tmp_path / 'gone.git'} (the run's repository was "
                                  f"{repo} on ")
    assert "pass --repo URL_OR_DIR to clone a copy you can reach): fatal: repository" in done.stderr
    # --repo takes a copy that can be reached, a folder relative to where the command runs
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run.id, "--runs", "runs", "--repo", "project",
                           "--workdir", "work2"], cwd=tmp_path, capture_output=True, text=True, env=tool_env(),
                          timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"tracker reproduce: cloning {repo}\n" in done.stdout and ": 2 of 2 metrics match" in done.stdout


PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "mlproj"
version = "0.2.0"

[project.scripts]
mlproj-train = "mlproj.train:main"

[tool.setuptools]
packages = ["mlproj"]
"""

PACKAGE_TRAIN = """\
import argparse, random
import tracker

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    with tracker.init(project="mlproj", config={"n": args.n}):
        tracker.seed_everything(11)
        tracker.log({"mean": sum(random.random() for _ in range(args.n)) / args.n})
"""


def test_a_console_script_installed_in_editable_mode_from_its_own_repository_reproduces(tmp_path):
    # The failure this guards against: requirements pinning the project itself (mlproj==0.2.0),
    # which no index has. The rerun installs it from the checkout instead.
    repo = tmp_path / "mlproj"
    (repo / "mlproj").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "mlproj" / "__init__.py").write_text("")
    (repo / "mlproj" / "train.py").write_text(PACKAGE_TRAIN)
    (repo / ".gitignore").write_text("*.egg-info/\nbuild/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    venv = tmp_path / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", ROOT, "-e", str(repo)], check=True, timeout=INSTALL_TIMEOUT_S)
    runs = tmp_path / "runs"
    done = subprocess.run([str(venv / "bin" / "mlproj-train"), "--n", "50"], cwd=repo, capture_output=True, text=True,
                          env=script_env(TRACKER_DIR=str(runs)), timeout=120)
    assert done.returncode == 0, done.stderr
    (folder,) = runs.iterdir()
    run = load_run(str(folder))
    assert (run.code["command_line"], run.code["entry"]) == ("mlproj-train --n 50", "console_script")
    assert run.environment["package_sources"]["mlproj"] == {"kind": "editable", "url": repo.as_uri(), "repo_path": "."}
    done = subprocess.run([os.path.join(VENV_BIN, "tracker"), "reproduce", run.id, "--runs", str(runs),
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, env=tool_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "rerun " in done.stdout and ": 1 of 1 metrics match within 1e-06" in done.stdout
    requirements = (tmp_path / "work" / "requirements.txt").read_text().splitlines()
    assert "-e ." in requirements and not any(line.startswith("mlproj==") for line in requirements)
