"""Reports in the build: block options read, blocks that cannot be filled named by file and line
(a warning, the rest built; --strict publishes nothing), pages linked from the index and removed
with their file, and importance as Spearman's rho."""
from __future__ import annotations

import os

import pytest
from scipy import stats  # scikit-learn's dependency, in the dev extra

from sitegen.report_source import Block, parse_report
from tracker.importance import importance, spearman
from test_site_support import log_run, run_cli


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports")
    root = base / "tracker-runs"
    for number, lr in enumerate([0.1, 0.01, 0.03, 0.3]):
        log_run(root, f"run-{number}", project="sweep", config={"lr": lr, "optimizer": "adam", "seed": number},
                metrics=[{"loss": 1.0 - lr * step} for step in range(3)])
    return base


def write_report(folder, name: str, text: str) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_block_options_are_a_yaml_subset_read_line_by_line():
    report = parse_report("r.md", "```sh\n# not the title\n```\n# Title\n\ntext\n\n```chart\nmetric: valid/acc   # the score\n"
                                  "filter: group:sweep-42 status:finished\nruns: [a, \"b, c\", 'd']\nlimit: 10\n"
                                  "step: last\nlabel: \"x # y\"\ncolumns:\n  - name\n  - lr\n```\n\n```python\n"
                                  "```chart\n```\n")
    assert report.title == "Title" and report.slug == "r"
    block = report.parts[1]
    assert isinstance(block, Block) and block.kind == "chart" and block.line == 8 and block.problem is None
    assert block.options == {"metric": "valid/acc", "filter": "group:sweep-42 status:finished",
                             "runs": ["a", "b, c", "d"], "limit": 10, "step": "last", "label": "x # y",
                             "columns": ["name", "lr"]}
    assert report.parts[2].startswith("\n```python\n```chart")  # a chart fence inside a code block is code


@pytest.mark.parametrize("body, line, problem", [
    ("metric: a\nmetric: b", 4, "'metric' is given twice"),
    ("metric [a]", 3, "expected 'key: value', got 'metric [a]'"),
    ("runs: [a, b", 3, "a list must end with ']'"),
    ("  - a", 3, "a list item outside a list"),
])
def test_a_block_whose_options_cannot_be_read_names_its_line(body, line, problem):
    block = parse_report("reports/r.md", f"text\n```runs\n{body}\n```\n").parts[1]
    assert block.problem.startswith(f"reports/r.md:{line}: {problem}")


def test_an_unclosed_block_names_its_fence():
    block = parse_report("r.md", "a\n\n```chart\nmetric: x\n").parts[1]
    assert block.problem == "r.md:3: the ```chart block is never closed (a line of ```)"


BROKEN = """# Broken blocks

```runs
filter: project:sweep
columns: [name, lr, loss]
sort: lr
```

```chart
metric: valid/acc
filter: project:sweep
```

```runs
filter: project:nothing-here
```

```compare
runs: [run-0, nobody]
```

```runs
columns: [name, colour]
```

```chart
metric: loss
bogus: 1
```

```importance
metric: loss
filter: "lr>"
```
"""
EXPECTED_PROBLEMS = [
    "9: unknown metric 'valid/acc': none of the 4 runs the block selects logged it; they logged: loss",
    "14: the filter 'project:nothing-here' selects no run of the 4 in the site",
    "18: unknown run 'nobody': no run has that name or id",
    "22: unknown column 'colour': no run the block selects has it as a config key or metric",
    "26: unknown option 'bogus' in a ```chart block; it takes: metric, filter, runs, group_by, band, title",
    "31: invalid filter 'lr>': missing value after '>' at position 3",
]


def test_blocks_that_cannot_be_filled_warn_by_file_and_line_and_the_rest_is_built(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(runs)
    write_report(runs / "reports", "broken.md", BROKEN)
    code, stdout, stderr = run_cli("build", "--runs", "tracker-runs", "--out", str(tmp_path / "site"))
    assert code == 0
    warnings = [line for line in stderr.splitlines() if "reports/broken.md" in line]
    assert warnings == [f"tracker: warning: reports/broken.md:{problem}" for problem in EXPECTED_PROBLEMS]
    assert f"1 report ({len(EXPECTED_PROBLEMS)} block(s) could not be filled)" in stdout
    page = (tmp_path / "site" / "reports" / "broken.html").read_text(encoding="utf-8")
    assert page.count("could not be built:") == len(EXPECTED_PROBLEMS)
    assert page.index("run-1") < page.index("run-2") < page.index("run-0")  # the good table, sorted by lr


def test_strict_refuses_to_publish_and_names_the_file_and_line(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(runs)
    write_report(runs / "reports", "broken.md", BROKEN)
    out = tmp_path / "site"
    code, stdout, stderr = run_cli("build", "--runs", "tracker-runs", "--out", str(out), "--strict")
    assert code == 2 and stdout == ""
    assert f"--strict: {len(EXPECTED_PROBLEMS)} problem(s), nothing was published" in stderr
    assert "  reports/broken.md:9: unknown metric 'valid/acc'" in stderr
    assert not out.exists()


def test_reports_are_linked_from_the_index_and_leave_with_their_file(runs, tmp_path):
    folder = tmp_path / "my-reports"
    write_report(folder, "Loss Notes.md", "# Loss notes\n\n```runs\nfilter: lr<0.05\ncolumns: [name, lr]\n```\n")
    write_report(folder, "second.md", "No heading here.\n")
    out = tmp_path / "site"
    code, stdout, stderr = run_cli("build", "--runs", str(runs / "tracker-runs"), "--out", str(out),
                                   "--reports", str(folder), "--strict")
    assert code == 0, stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="reports/loss-notes.html">Loss notes</a>' in index
    assert '<a href="reports/second.html">second</a>' in index
    page = (out / "reports" / "loss-notes.html").read_text(encoding="utf-8")
    assert page.count('<td><a href="../runs/') == 2  # lr 0.01 and 0.03
    assert (out / "data" / "reports" / "loss-notes.js").is_file()
    os.remove(folder / "second.md")
    assert run_cli("build", "--runs", str(runs / "tracker-runs"), "--out", str(out), "--reports", str(folder))[0] == 0
    assert not (out / "reports" / "second.html").exists() and not (out / "data" / "reports" / "second.js").exists()
    assert "second.html" not in (out / "index.html").read_text(encoding="utf-8")


def test_a_missing_reports_folder_given_by_name_is_an_error(runs, tmp_path):
    code, _, stderr = run_cli("build", "--runs", str(runs / "tracker-runs"), "--out", str(tmp_path / "site"),
                              "--reports", str(tmp_path / "nope"))
    assert code == 2 and f"--reports {tmp_path / 'nope'}: no such folder" in stderr


def test_importance_is_spearmans_rho_as_scipy_computes_it():
    xs = [0.1, 0.01, 0.03, 0.3, 0.03, 1.0]
    ys = [0.8, 0.5, 0.7, 0.9, 0.6, 0.2]
    assert spearman(xs, ys) == pytest.approx(stats.spearmanr(xs, ys).statistic)
    flags = [True, False, True, False, True, False]
    found = importance([{"lr": x, "opt": "adam", "seed": 1, "big": flag} for x, flag in zip(xs, flags)],
                       ys, ["lr", "opt", "seed", "big"])
    expected = sorted([("lr", stats.spearmanr(xs, ys).statistic), ("big", stats.spearmanr(flags, ys).statistic)],
                      key=lambda item: -abs(item[1]))
    assert [(key, rho, count) for key, rho, count in found.ranked] == \
        [(key, pytest.approx(rho), 6) for key, rho in expected]
    assert dict(found.skipped) == {"opt": "not a number", "seed": "the same in every run"}
