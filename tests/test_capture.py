"""Capture of git state, code, environment and hardware, against real repositories and processes."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tracker.capture import DIFF_FILE, CaptureOptions, capture_all, capture_code, capture_environment, \
    capture_git, capture_hardware
from tracker.capture.code import MAX_ENV_FILE_BYTES
from tracker.reader import load_run
from tests.scripts import run_script, script_env

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # 36 characters after the prefix
GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]


def git(repo, *args: str) -> str:
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write(path, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


@pytest.fixture
def repo(tmp_path):
    """A repository on branch main with one commit holding model.py."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    write(folder / "model.py", "layers = 2\n")
    git(folder, "add", "model.py")
    git(folder, "commit", "-q", "-m", "first")
    return folder


def test_clean_repo_matches_rev_parse(repo):
    record, patch = capture_git(str(repo))
    assert record["available"] and record["in_repo"]
    assert record["commit"] == git(repo, "rev-parse", "HEAD")
    assert record["branch"] == "main"
    assert record["repo_root"] == os.path.realpath(repo)
    assert record["dirty"] is False
    assert record["untracked_files"] == []
    assert record["remote_url"] is None
    assert (patch, record["diff_bytes"], record["diff_truncated"]) == (None, 0, False)


def test_dirty_repo_has_diff_and_untracked_files(repo):
    write(repo / "model.py", f"layers = 3\napi = '{GITHUB_TOKEN}'\n")
    write(repo / "notes.txt", "todo\n")
    write(repo / "data" / "a.csv", "1\n")
    record, patch = capture_git(str(repo / "data"))
    assert record["dirty"] is True
    assert sorted(record["untracked_files"]) == ["data/", "notes.txt"]
    assert "-layers = 2\n+layers = 3\n" in patch
    assert GITHUB_TOKEN not in patch
    assert record["diff_bytes"] == len(patch.encode())


def test_staged_changes_and_binary_files_are_in_the_diff(repo):
    with open(repo / "weights.bin", "wb") as handle:
        handle.write(b"\0\1\2")
    git(repo, "add", "weights.bin")
    record, patch = capture_git(str(repo))
    assert record["dirty"] is True and record["untracked_files"] == []
    assert "Binary files /dev/null and b/weights.bin differ" in patch


def test_diff_is_cut_on_a_line_boundary(repo):
    write(repo / "model.py", "".join(f"line {index}\n" for index in range(1000)))
    record, patch = capture_git(str(repo), max_diff_bytes=1000)
    assert record["diff_truncated"] is True
    assert 0 < len(patch) <= 1000 and patch.endswith("\n")
    assert record["diff_bytes"] == len(patch)


def test_remote_credentials_are_stripped(repo):
    git(repo, "remote", "add", "upstream", "https://example.com/other.git")
    git(repo, "remote", "add", "origin", f"https://alice:{GITHUB_TOKEN}@github.com/org/repo.git")
    record, _ = capture_git(str(repo))
    assert record["remote_url"] == "https://github.com/org/repo.git"
    text = json.dumps(capture_all(CaptureOptions(argv=["x"], cwd=str(repo), main_file=None)).records)
    assert GITHUB_TOKEN not in text and "alice" not in text


def test_detached_head_has_no_branch(repo):
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    record, _ = capture_git(str(repo))
    assert (record["commit"], record["branch"]) == (commit, None)


def test_repo_without_commits(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path / "train.py", "print(1)\n")
    git(tmp_path, "add", "train.py")
    write(tmp_path / "train.py", "print(2)\n")
    record, patch = capture_git(str(tmp_path))
    assert "error" not in record
    assert (record["commit"], record["branch"], record["dirty"]) == (None, "main", True)
    assert "+print(1)" in patch and "+print(2)" in patch


def test_outside_a_repo(tmp_path):
    assert capture_git(str(tmp_path)) == ({"available": True, "in_repo": False}, None)


@pytest.mark.parametrize("refresh", [None, "quiet"])
def test_without_a_git_executable(repo, tmp_path, refresh):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_PYTHON_")}
    env["PATH"] = os.pathsep.join([str(empty), os.path.dirname(sys.executable)])
    if refresh:
        env["GIT_PYTHON_REFRESH"] = refresh
    code = "import json, sys; from tracker.capture import capture_git; print(json.dumps(capture_git(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, str(repo)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    record, patch = json.loads(done.stdout)
    assert record == {"available": False, "reason": "git executable not found"} and patch is None


def test_code_snapshots_script_and_env_files_without_secrets(tmp_path):
    script = tmp_path / "exp" / "train.py"
    write(script, f"TOKEN = '{GITHUB_TOKEN}'\nCONFIG = {{'api_key': 'literal-secret-1234'}}\n"
                  "names.sort(key=lambda name: name)\nprint('hi')\n")
    write(tmp_path / "exp" / "requirements.txt", "numpy==1.26\n")
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    write(tmp_path / "Dockerfile", "#" * (MAX_ENV_FILE_BYTES + 1))
    argv = [str(script), "--lr", "0.1", "--api-key", "sekrit-x", "--token=sekrit-y"]
    record, files = capture_code(argv, str(tmp_path), str(script), str(tmp_path))
    text = json.dumps(record)
    assert "sekrit-x" not in text and "sekrit-y" not in text
    assert record["command"][1:3] == ["--lr", "0.1"]
    assert record["command_line"].startswith("python exp/train.py --lr 0.1 --api-key ")  # relative to cwd
    assert (record["script"], record["script_file"]) == ("exp/train.py", "files/code/train.py")
    assert files["files/code/train.py"].endswith(b"print('hi')\n")
    snapshot = files["files/code/train.py"].decode()
    assert GITHUB_TOKEN not in snapshot and "literal-secret-1234" not in snapshot
    assert "names.sort(key=lambda name: name)\n" in snapshot
    assert record["env_files"] == [
        {"name": "requirements.txt", "repo_path": "exp/requirements.txt", "file": "files/env/requirements.txt"},
        {"name": "Dockerfile", "repo_path": "Dockerfile", "skipped": f"too large ({MAX_ENV_FILE_BYTES + 1} bytes)"},
        {"name": "pyproject.toml", "repo_path": "pyproject.toml", "file": "files/env/pyproject.toml"},
    ]
    assert files["files/env/requirements.txt"] == b"numpy==1.26\n"
    assert set(files) == {"files/code/train.py", "files/env/requirements.txt", "files/env/pyproject.toml"}


def test_environment_lists_packages_and_only_allowlisted_variables(monkeypatch):
    monkeypatch.setenv("TRACKER_TEST_SECRET", "hunter2-value")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    record = capture_environment()
    assert "pytest" in record["packages"]
    assert list(record["packages"]) == sorted(record["packages"], key=str.lower)
    assert record["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert "TRACKER_TEST_SECRET" not in record["env"]
    assert "hunter2-value" not in json.dumps(record)
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))


def test_hardware_has_cpu_and_memory():
    record = capture_hardware()
    assert record["cpu_count_logical"] >= 1
    assert record["memory_total_bytes"] > 0
    assert isinstance(record["gpus"], list)
    assert record["gpus"] or record["gpu_note"]


def test_capture_all_writes_typed_records_and_the_patch(repo):
    write(repo / "model.py", "layers = 4\n")
    write(repo / "train.py", "print(1)\n")
    result = capture_all(CaptureOptions(argv=["train.py"], cwd=str(repo), main_file="train.py"))
    records = {record["type"]: record for record in json.loads(json.dumps(result.records))}
    assert list(records) == ["git", "code", "environment", "hardware"]
    assert all(isinstance(record["time"], float) for record in records.values())
    assert records["git"]["diff_file"] == DIFF_FILE
    assert b"+layers = 4" in result.files[DIFF_FILE]
    assert records["code"]["script"] == "train.py"
    assert records["environment"]["packages"] == capture_environment()["packages"]


def test_capture_all_skips_disabled_parts(tmp_path):
    result = capture_all(CaptureOptions(argv=["x"], cwd=str(tmp_path), main_file=None, git=False))
    assert [record["type"] for record in result.records] == ["code", "environment", "hardware"]


def test_init_records_capture_of_a_dirty_repo(repo, tmp_path):
    write(repo / "model.py", "layers = 5\n")
    runs_dir = tmp_path / "runs"
    done = run_script(repo, textwrap.dedent("""
        import sys, tracker
        run = tracker.init(project="p", dir=sys.argv[1])
        tracker.log({"loss": 0.5})
        tracker.finish()
        print(run.path)
    """), str(runs_dir), "--api-key", "sekrit-z", env=script_env())
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    run = load_run(path)
    assert run.git["commit"] == git(repo, "rev-parse", "HEAD")
    assert run.git["dirty"] is True
    with open(os.path.join(path, DIFF_FILE)) as handle:
        assert "+layers = 5" in handle.read()
    assert "train.py" in run.code["command_line"]
    assert "sekrit-z" not in run.code["command_line"]
    assert os.path.isfile(os.path.join(path, "files", "code", "train.py"))
