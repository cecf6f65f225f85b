"""The light install: the package with no extras, as a training node gets it, in a fresh venv.

One wheel is built from a copy of the checkout (so the build leaves nothing in the tree) and
installed, non-editable, into a venv with no system site-packages; pip fetches the base
dependencies from the package index. In it a real script logs a run with capture on, and the
command line lists it, while the site commands say in one line how to get what they need.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from tracker.version import DISTRIBUTION, __version__

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "tracker", "sitegen", "themes")
SITE_PACKAGES = ("jinja2", "plotly", "markdown", "nh3", "watchfiles")
GIT_IDENTITY = ("-c", "user.name=Trainer", "-c", "user.email=trainer@example.com")
TRAIN_SCRIPT = """\
import tracker

tracker.init(project="light", name="node-run", config={"lr": 0.1}, dir="runs")
for step in range(5):
    tracker.log({"loss": 1 / (step + 1)})
tracker.finish()
print(tracker.__file__)
"""


def run(*command, cwd=None, timeout=240) -> subprocess.CompletedProcess:
    """A command with this checkout kept off its import path, so only what is installed counts."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def checked(*command, cwd=None) -> str:
    done = run(*command, cwd=cwd)
    assert done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    checked(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", source, "-w", out)
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def light_venv(wheel, tmp_path_factory) -> pathlib.Path:
    venv = tmp_path_factory.mktemp("light") / "venv"
    checked(sys.executable, "-m", "venv", "--without-pip", venv)  # never sees this venv's packages
    checked(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", wheel)
    return venv


@pytest.fixture(scope="module")
def logged(light_venv, tmp_path_factory) -> pathlib.Path:
    """A git repository in which the light install's python ran a training script."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / "train.py").write_text(TRAIN_SCRIPT)
    checked("git", "init", "-q", "-b", "main", cwd=repo)
    checked("git", *GIT_IDENTITY, "add", "train.py", cwd=repo)
    checked("git", *GIT_IDENTITY, "commit", "-q", "-m", "train", cwd=repo)
    imported_from = checked(light_venv / "bin" / "python", "train.py", cwd=repo).strip()
    assert pathlib.Path(imported_from).is_relative_to(light_venv), imported_from
    return repo


def test_every_python_package_of_the_checkout_is_listed_in_pyproject():
    """pyproject.toml lists its packages by hand (themes/ maps under sitegen/, which discovery
    cannot do), so a new subpackage must be added there or the wheel goes without it."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {folder.parent for package in ("tracker", "sitegen") for folder in (ROOT / package).rglob("*.py")}
    packages = {".".join(folder.relative_to(ROOT).parts) for folder in folders}
    assert packages - listed == set(), "add these to pyproject.toml's [tool.setuptools] packages"
    assert listed == packages | {"sitegen.themes"}


def test_the_wheel_ships_tracker_and_sitegen_with_the_themes_inside_sitegen(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"{DISTRIBUTION.replace('-', '_')}-{__version__}.dist-info"
    assert {name.split("/")[0] for name in names} == {"tracker", "sitegen", dist_info}
    expected = {path.relative_to(ROOT).as_posix() for package in ("tracker", "sitegen")
                for path in (ROOT / package).rglob("*.py")}
    expected |= {"sitegen/" + path.relative_to(ROOT).as_posix() for path in (ROOT / "themes").rglob("*")
                 if path.is_file() and "__pycache__" not in path.parts}
    assert expected - set(names) == set(), "the wheel misses these files of the checkout"


def test_the_wheel_names_our_distribution_and_only_the_logging_needs(wheel):
    metadata = zipfile.ZipFile(wheel).read(
        f"{DISTRIBUTION.replace('-', '_')}-{__version__}.dist-info/METADATA").decode()
    fields = [line.split(": ", 1) for line in metadata.splitlines() if ": " in line]
    assert ["Name", DISTRIBUTION] in fields and ["Version", __version__] in fields
    base = sorted(value.split(">")[0] for key, value in fields if key == "Requires-Dist" and ";" not in value)
    assert base == ["gitpython", "msgspec", "psutil", "pyyaml"]
    site = sorted(value.split(">")[0] for key, value in fields
                  if key == "Requires-Dist" and value.endswith('extra == "site"'))
    assert site == sorted(SITE_PACKAGES)


def test_pyproject_takes_name_and_version_from_tracker_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["name"] == DISTRIBUTION
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tracker.version.__version__"}


def test_the_light_install_has_no_site_packages(light_venv):
    found = checked(light_venv / "bin" / "python", "-c",
                    "import importlib.util, sys; print([name for name in sys.argv[1:] "
                    "if importlib.util.find_spec(name)])", *SITE_PACKAGES)
    assert found.strip() == "[]"


def test_a_run_logged_with_capture_is_listed_and_shown(light_venv, logged):
    listing = checked(light_venv / "bin" / "tracker", "ls", "--runs", "runs", cwd=logged).splitlines()
    assert listing[0].split() == ["id", "name", "project", "status", "start", "duration", "loss"]
    [row] = listing[2:]
    assert row.split()[1:4] == ["node-run", "light", "finished"]
    commit = checked("git", "rev-parse", "HEAD", cwd=logged).strip()
    shown = checked(light_venv / "bin" / "tracker", "show", "node-run", "--runs", "runs", cwd=logged)
    assert commit in shown  # git captured through gitpython
    [events] = (logged / "runs").glob("*/events*.jsonl")
    types = {line.split('"type":')[1].split(",")[0].strip(' "') for line in events.read_text().splitlines()}
    assert {"git", "code", "environment", "hardware", "end"} <= types  # hardware through psutil


def test_demo_and_diff_run_in_the_light_install(light_venv, tmp_path):
    demo = checked(light_venv / "bin" / "tracker", "demo", "--runs", "runs", cwd=tmp_path)
    assert demo.splitlines()[-1] == f"logged 7 runs into {tmp_path / 'runs'}"
    diff = checked(light_venv / "bin" / "tracker", "diff", "baseline", "lr-0.3", "--runs", "runs", cwd=tmp_path)
    assert diff.startswith("**A** `baseline`") and "#### Config" in diff


@pytest.mark.parametrize("command, missing", [
    ("build", "jinja2, plotly, markdown, nh3"),
    ("serve", "jinja2, plotly, markdown, nh3, watchfiles"),
])
def test_site_commands_say_in_one_line_how_to_install_the_site(light_venv, logged, command, missing):
    done = run(light_venv / "bin" / "tracker", command, "--runs", "runs", cwd=logged, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (f"tracker: error: tracker {command} needs the site's packages ({missing} not "
                           f"installed): pip install '{DISTRIBUTION}[site]'\n")
    assert done.stdout == "" and not (logged / "site").exists()
