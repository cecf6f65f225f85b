"""What init() captures by itself in a real training process: system metrics and the console."""
import pathlib

from tracker import runs
from tests.scripts import run_script, script_env


def test_failing_script_records_system_metrics_and_its_console_with_traceback(tmp_path):
    result = run_script(tmp_path, """
        import sys, time, tracker
        run = tracker.init(project="p", dir=sys.argv[1])
        print("epoch 1 done", flush=True)
        for i in range(50):
            run.log({"loss": 1 / (i + 1)})
            time.sleep(0.01)
        raise ZeroDivisionError("loss scale collapsed")
    """, str(tmp_path / "runs"), env=script_env(TRACKER_SYSTEM_INTERVAL_S="0.1"))
    assert result.returncode == 1
    assert "epoch 1 done" in result.stdout and "ZeroDivisionError" in result.stderr  # the terminal is unchanged
    [record] = runs(tmp_path / "runs")
    assert record.status == "failed"
    cpu = record.system["cpu_percent"].values
    assert len(cpu) >= 2 and all(0 <= value <= 100 * 64 for value in cpu)
    assert all(value > 10_000_000 for value in record.system["process_rss_bytes"].values)
    console = pathlib.Path(record.path, "console.log").read_text()
    assert "epoch 1 done" in console
    assert "ZeroDivisionError: loss scale collapsed" in console


def test_console_and_system_capture_can_be_switched_off(tmp_path):
    result = run_script(tmp_path, """
        import sys, tracker
        with tracker.init(dir=sys.argv[1], capture={"console": False, "system": False}) as run:
            print("hello")
            run.log({"x": 1})
    """, str(tmp_path / "runs"), env=script_env(TRACKER_SYSTEM_INTERVAL_S="0.05"))
    assert result.returncode == 0, result.stderr
    [record] = runs(tmp_path / "runs")
    assert record.system == {} and not pathlib.Path(record.path, "console.log").exists()
    assert record.git is not None  # the rest of capture still ran
