"""The documented format: the shell example from docs/format.md is a valid run."""
import math
import pathlib
import re
import subprocess
import sys

from tracker import runs

DOC = pathlib.Path(__file__).parent.parent / "docs" / "format.md"


def shell_example() -> str:
    text = DOC.read_text()
    return re.search(r"From a shell:\n\n```sh\n(.*?)```", text, re.S).group(1)


def test_shell_example_from_the_docs_is_read_as_a_finished_run(tmp_path):
    script = shell_example()
    assert script.count("echo ") == 3
    subprocess.run(["sh", "-c", script], cwd=tmp_path, check=True)
    [record] = runs(tmp_path / "tracker-runs")
    assert (record.id, record.project, record.name, record.status) == ("shell-001", "demo", "from-shell", "finished")
    assert record.summary["loss"] == 0.5 and math.isnan(record.summary["acc"])
    assert record.duration_s == 2


def test_shell_example_is_listed_by_the_cli(tmp_path):
    subprocess.run(["sh", "-c", shell_example()], cwd=tmp_path, check=True)
    listing = subprocess.run([sys.executable, "-m", "tracker.cli", "ls", "--runs", "tracker-runs"], cwd=tmp_path, capture_output=True,
                             text=True, check=True).stdout
    assert "shell-001" in listing and "finished" in listing and "NaN" in listing
