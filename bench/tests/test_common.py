"""The shared benchmark helpers: section replacement, tables and the child protocol (no timings)."""
import sys

import pytest

from common import REPO_ROOT, ChildFailed, emit_result, markdown_table, replace_section, run_child, us

DOC = "# Benchmarks\n\nIntro.\n\n## Logger\n\nold numbers\n\n### Per call\n\nold table\n\n## Site builds\n\nsite numbers\n"


def test_replace_section_keeps_the_other_sections():
    updated = replace_section(DOC, "## Logger", "new numbers\n\n### Per call\n\nnew table")
    assert updated == ("# Benchmarks\n\nIntro.\n\n## Logger\n\nnew numbers\n\n### Per call\n\nnew table\n\n"
                       "## Site builds\n\nsite numbers\n")


def test_replace_section_when_it_is_the_last_one():
    updated = replace_section(DOC, "## Site builds", "faster")
    assert updated.endswith("## Site builds\n\nfaster\n")
    assert "old numbers" in updated


def test_replace_section_appends_a_missing_section():
    assert replace_section("# Benchmarks\n", "## Logger", "numbers") == "# Benchmarks\n\n## Logger\n\nnumbers\n"


def test_replace_section_does_not_match_a_longer_heading():
    document = "# B\n\n## Logger options\n\nkeep\n"
    assert replace_section(document, "## Logger", "x") == "# B\n\n## Logger options\n\nkeep\n\n## Logger\n\nx\n"


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_us_keeps_decimals_only_for_small_numbers():
    assert us(1.234e-6) == "1.23"
    assert us(0.0123456) == "12,346"


def test_run_child_returns_the_result_line_after_other_output():
    code = "print('noise'); import common; common.emit_result({'x': 1}); print('more noise')"
    assert run_child([sys.executable, "-c", code], cwd=REPO_ROOT / "bench") == {"x": 1}


def test_run_child_reports_the_last_error_line():
    with pytest.raises(ChildFailed, match=r"exit 1: .*ZeroDivisionError"):
        run_child([sys.executable, "-c", "1/0"])


def test_run_child_kills_a_child_past_its_timeout():
    with pytest.raises(ChildFailed, match="timed out after 1 s"):
        run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=1)


def test_emit_result_prints_one_prefixed_line(capsys):
    emit_result({"a": 1})
    assert capsys.readouterr().out == 'BENCH_RESULT {"a": 1}\n'

