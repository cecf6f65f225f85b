"""The cold-read benchmark's parts that can be checked without timing: both floors decode every
line, the light-install shim really blocks msgspec, and the report states each target's verdict."""
import json

from bench_cold_read import (BREAKDOWN_STEPS, JSON_FLOOR_CODE, MSGSPEC_FLOOR_CODE, floor_s, light_install_env,
                              measure_cold, render_report, step_breakdown, timed_build)
from bench_site import BUILD_ENV
from synthetic_runs import write_runs


def test_both_floors_decode_every_line_of_every_events_file(tmp_path):
    for name, lines in (("a", 3), ("b", 2)):
        (tmp_path / name).mkdir()
        records = [json.dumps({"type": "metrics", "step": step, "values": {"loss": 0.5}}) for step in range(lines)]
        (tmp_path / name / "events.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    for code in (MSGSPEC_FLOOR_CODE, JSON_FLOOR_CODE):
        assert floor_s(code, tmp_path)["lines"] == 5


def test_the_light_install_environment_blocks_msgspec(tmp_path):
    env = light_install_env(tmp_path / "shim")  # asserts that decode_fast finds no msgspec there
    assert (tmp_path / "shim" / "sitecustomize.py").exists() and str(tmp_path / "shim") in env["PYTHONPATH"]


def test_the_report_gives_each_target_its_verdict():
    results = {"date": "2026-01-02", "revision": "abc1234", "command": "python bench/bench_cold_read.py",
               "machine": "Test CPU, 2 cores", "load_before": "1.0", "load_after": "1.5", "repeats": 3,
               "cold": {"runs": 1000, "lines": 1_007_000, "floor_s": 2.0, "floor_cpu_s": 1.5, "json_floor_s": 9.0,
                        "cold_s": 5.0, "cold_cpu_s": 2.7, "cold_json_s": 7.0, "cold_json_cpu_s": 5.4},
               "rebuild": {"runs": 10000, "cold_s": 100.0, "cold_cpu_s": 150.0, "rebuild_s": 0.8,
                           "rebuild_cpu_s": 0.7, "scan_floor_s": 0.2}}
    report = render_report(results)
    assert "| 1,000 | 1,007,000 | 2.00 | 1.50 | 9.00 | 5.00 | 2.70 | 2.5x | 1.8x | 7.00 | 5.40 | 2.00x |" in report
    assert "within 2x its floor: not met (2.5x wall, 1.8x CPU)" in report
    assert "among 10,000 rebuilt in under 1 s: met (0.80 s" in report


def test_the_breakdown_times_every_step_of_a_run_page(tmp_path):
    write_runs(str(tmp_path), 3, steps=20, metrics=2)
    steps = step_breakdown(tmp_path, 2)
    assert list(steps) == list(BREAKDOWN_STEPS) and all(ms >= 0.0 for ms in steps.values())


def test_the_report_shows_the_breakdown_against_the_floor():
    results = {"date": "2026-01-02", "revision": "abc1234", "command": "python bench/bench_cold_read.py",
               "machine": "Test CPU, 2 cores", "load_before": "1.0", "load_after": "1.5", "repeats": 3,
               "cold": {"runs": 1000, "lines": 1_007_000, "floor_s": 2.0, "floor_cpu_s": 1.5, "json_floor_s": 9.0,
                        "cold_s": 5.0, "cold_cpu_s": 2.7, "cold_json_s": 7.0, "cold_json_cpu_s": 5.4},
               "breakdown": {"runs": 60, "steps": {"decode (record_chunks)": 1.2, "render page": 0.75}}}
    report = render_report(results)
    assert "| decode (record_chunks) | 1.20 | 0.80x |" in report and "| render page | 0.75 | 0.50x |" in report


def test_a_timed_build_is_the_build_and_a_failed_one_names_its_command(tmp_path):
    write_runs(str(tmp_path / "runs"), 20, steps=20, metrics=2)  # enough runs for forked workers
    wall, cpu = timed_build(tmp_path / "runs", tmp_path / "site", BUILD_ENV)
    assert (tmp_path / "site" / "index.html").is_file() and wall > 0 and cpu > 0
    (tmp_path / "not-a-site").mkdir()
    (tmp_path / "not-a-site" / "notes.txt").write_text("mine")  # a build refuses to replace it
    try:
        timed_build(tmp_path / "runs", tmp_path / "not-a-site", BUILD_ENV)
    except RuntimeError as exc:
        assert "tracker.cli build" in str(exc) and "not-a-site" in str(exc)
    else:
        raise AssertionError("a failed build must raise")


def test_each_cold_round_builds_into_a_new_folder_and_the_sites_go_at_the_end(tmp_path, monkeypatch):
    import bench_cold_read

    outs = []

    def recorded(runs, out, env, full=True):  # the real build, each site folder noted as it is built
        outs.append((out, out.exists()))
        return timed_build(runs, out, env, full)

    monkeypatch.setattr(bench_cold_read, "timed_build", recorded)
    cold = measure_cold(tmp_path, 2, 2, light=False)  # the site needs msgspec: no light-install build
    assert cold["cold_s"] > 0 and cold["lines"] == 2 * 1007
    assert len({out for out, _ in outs}) == 2 and not any(existed for _, existed in outs)
    assert not (tmp_path / "cold-sites-2").exists()
