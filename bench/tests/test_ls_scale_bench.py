"""The ls scale benchmark measures what it says: each repeat changes one more run, and every line of
its table is a real command that succeeded, the --before tree's included."""
import subprocess

from bench_ls_scale import main

from tracker.listing import LISTING_FILE
from tracker.reader import load_run


def test_each_repeat_lists_the_runs_after_changing_one_and_reports_against_the_floor(tmp_path):
    before = tmp_path / "before"
    before.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD", "tracker"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    output = tmp_path / "section.md"
    assert main(["--work", str(tmp_path), "--runs", "12", "--steps", "5", "--repeats", "2", "--before", str(before),
                 "--output", str(output)]) == 0
    runs = tmp_path / "runs-12x5"
    assert (runs / LISTING_FILE).is_file()
    steps = sorted(len(load_run(str(folder)).histories["train/loss"].steps) for folder in runs.iterdir()
                   if folder.is_dir())
    assert steps == [5] * 10 + [6] * 2  # two runs changed, one a repeat
    report = output.read_text()
    assert "12 run folders" in report and "(--before)" in report and report.count("| `tracker ls") == 1
