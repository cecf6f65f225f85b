"""The store scale benchmark measures what it says: a real server child, a first tracker ls that fetches
every run's object, and after each change one GET of the one new segment, found through the store's
change journal (its listing, then the changed run's), against a floor of listing pages."""
import subprocess
import sys
from pathlib import Path

from common import REPO_ROOT


def test_the_first_ls_gets_every_object_and_each_change_one(tmp_path):
    output = tmp_path / "section.md"
    done = subprocess.run([sys.executable, str(Path(REPO_ROOT, "bench", "bench_store_scale.py")), "--runs", "4",
                           "--steps", "5", "--repeats", "1", "--work", str(tmp_path), "--output", str(output)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in output.read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| measure")}
    # 4 runs of 2 objects and the changing run's head segment: 9 objects to fetch, beside the 5 writers'
    # journal entries; one listing page of the whole store first. The sync after the first change lists
    # the journal and the run (the changing run's writer is new to it); each sync after that follows
    # that writer's entries: the journal's listing, the entry's body and the new segment.
    assert rows["floor: a fresh process lists the prefix (boto3, ListObjectsV2)"][4] == "1 list"
    assert rows["`tracker ls`, empty cache (first)"][4] == "9 get, 1 list"
    assert rows["store sync alone after one changed run"][4] == "1 get, 2 list"
    assert rows["`tracker ls` after one changed run"][4] == "2 get, 1 list"
    assert len(list((tmp_path / "runs-5-steps").iterdir())) == 4
