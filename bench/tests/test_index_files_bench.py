"""The index_files benchmark's parts that can be checked without timing: both versions run in
fresh processes on the same rows and their files are compared, and the report states the verdict."""
from bench_index_files import measure, report


def test_both_versions_make_the_same_file_from_the_same_rows(tmp_path):
    result = measure(tmp_path, 300, "HEAD", repeats=1)  # any commit: the checkout need not hold old ones
    assert result["rows"] == 300 and result["same_bytes"]
    assert result["update_same"] and result["update_s"] > 0  # a rebuild's update makes the same file
    assert all(result[name]["index_files_s"] > 0 and result[name]["floor_s"] > 0 for name in ("before", "after"))
    assert (tmp_path / "rows-300.json").exists()  # made once, for every later measurement


def test_the_report_gives_the_target_its_verdict():
    facts = {"command": "python bench/bench_index_files.py", "date": "2026-01-02", "revision": "abc1234",
             "machine": "Test CPU, 2 cores", "load_before": "1.0", "load_after": "1.5"}
    timing = {"index_files_s": 0.8, "floor_s": 0.5, "ratio": 1.6}
    text = report([{"rows": 100_000, "same_bytes": True, "before": dict(timing, index_files_s=2.0),
                    "after": timing, "update_s": 0.2, "update_ratio": 0.4, "update_same": True}], facts, "ae6235f", 3)
    assert "| 100,000 | before (ae6235f) | 2.00 s | 0.50 s | 1.60x | <= 1 s | **no** |" in text
    assert "| 100,000 | after | 0.80 s | 0.50 s | 1.60x | <= 1 s | yes |" in text
    assert "| 100,000 | after: a rebuild's update, one row changed | 0.20 s | 0.50 s | 0.40x |  |  |" in text
    assert "byte-identical" in text and "**not**" not in text
