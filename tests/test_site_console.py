"""A failing script's console output, traceback included, shows on its run page."""
import subprocess
import sys

from tests.scripts import run_script


def test_failing_scripts_traceback_appears_on_its_run_page(tmp_path, page):
    result = run_script(tmp_path, """
        import sys, tracker
        run = tracker.init(project="p", name="oom-ish", dir=sys.argv[1])
        print("loading shard 3 of 8")
        run.log({"loss": 0.5})
        raise MemoryError("could not allocate 40 GiB for activations")
    """, str(tmp_path / "runs"))
    assert result.returncode == 1
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(tmp_path / "runs"),
                    "--out", str(tmp_path / "site")], check=True, capture_output=True)
    [run_page] = (tmp_path / "site" / "runs").glob("*/index.html")
    page.goto(run_page.as_uri())
    console = page.locator("section", has=page.get_by_role("heading", name="Console output"))
    text = console.locator("pre").inner_text()
    assert "loading shard 3 of 8" in text
    assert "MemoryError: could not allocate 40 GiB for activations" in text
    assert console.locator("pre").is_visible()  # open by default for a failed run
    assert page.errors == []
