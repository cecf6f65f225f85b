"""The compare view's Code and System metrics sections in real headless Chromium, from file:// and an
HTTP sub-path: runs logged by real scripts in a temporary git repository on two commits (code_runs.py),
the site built inside that repository. Two runs on two commits show git's diff of the commits with the
changed line removed and added; two runs with different uncommitted patches show the patches'
difference, a markup payload in it as text; each system metric's chart has one line per run."""
from __future__ import annotations

import functools
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer

import pytest

from code_runs import PAYLOAD_LINE, log_code_runs
from test_site_browser import QuietHandler, assert_inside_site, open_page


@pytest.fixture(scope="module")
def code_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare-code")
    logged = log_code_runs(base / "repo", base / "runs")
    out = base / "served" / "sub" / "path"
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", logged["runs"], "--out", str(out)],
                          cwd=logged["repo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(base / "served")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield logged | {"out": out, "bases": {"file": out.as_uri() + "/",
                                          "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}}
    server.shutdown()


def open_compare(page, code_site, scheme: str, *names: str, view: str = ""):
    ids = ",".join(code_site["ids"][name] for name in names)
    requests, dialogs = open_page(page, code_site, scheme, f"compare.html#runs={ids}{view}")
    page.wait_for_selector("#compare-code-scripts")
    return requests, dialogs


def diff_lines(page, part: str) -> list[tuple[str, str]]:
    """(class, text) of each line of the part's diff, as shown."""
    return page.evaluate("""(part) => [...document.querySelectorAll(`#${part} pre.code-diff span`)]
        .map((span) => [span.className, span.textContent])""", part)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_two_runs_on_two_commits_show_the_commits_diff(page, code_site, scheme):
    requests, dialogs = open_compare(page, code_site, scheme, "first", "second")
    first, second = (commit[:12] for commit in code_site["commits"])
    commits = page.locator("#compare-code-commits")
    assert commits.get_by_text(f"From {first} (first) to {second} (second): 2 files changed.").is_visible()
    lines = diff_lines(page, "compare-code-commits")
    assert ["d-meta", "diff --git a/train.py b/train.py"] in lines
    removed, added = lines.index(["d-del", "-lr = 0.1"]), lines.index(["d-add", "+lr = 0.2"])
    assert added == removed + 1
    assert ["d-del", "-helper = 1"] in lines and ["d-add", "+helper = 2"] in lines
    script = diff_lines(page, "compare-code-scripts")  # the snapshots, diffed in the browser
    assert script[:3] == [["d-meta", "--- first/train.py"], ["d-meta", "+++ second/train.py"], ["d-hunk", "@@ -2,7 +2,7 @@"]]
    assert ["d-del", "-lr = 0.1"] in script and ["d-add", "+lr = 0.2"] in script
    assert page.locator("#compare-code-patches").get_by_text("Neither run had uncommitted changes").is_visible()
    assert page.locator("#compare-code-pair").is_hidden()  # two runs: nothing to choose
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, code_site, scheme)


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_different_uncommitted_patches_show_their_difference_as_text(page, code_site, scheme):
    requests, dialogs = open_compare(page, code_site, scheme, "second", "third")
    assert page.locator("#compare-code-commits").get_by_text(
        f"Both at commit {code_site['commits'][1][:12]} (main).").is_visible()
    lines = diff_lines(page, "compare-code-patches")
    assert lines[:2] == [["d-meta", "--- second/diff.patch"], ["d-meta", "+++ third/diff.patch"]]
    assert ["d-add", f"++{PAYLOAD_LINE}"] in lines and ["d-add", "+diff --git a/util.py b/util.py"] in lines
    # the payload is a line of text: no element made from it, nothing run
    assert page.locator("#compare-code img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#compare-code-scripts").get_by_text("Identical.").is_visible()
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, code_site, scheme)


def test_of_three_runs_the_pair_is_chosen_and_kept_in_the_link(page, code_site):
    ids = code_site["ids"]
    open_compare(page, code_site, "file", "first", "second", "third", view=f"&code={ids['third']},{ids['first']}")
    assert page.get_by_label("From", exact=True).input_value() == ids["third"]
    page.wait_for_selector("#compare-code-commits pre.code-diff")
    assert page.locator("#compare-code-commits").get_by_text("From", exact=False).first.inner_text().startswith(
        f"From {code_site['commits'][0][:12]} (first) to {code_site['commits'][1][:12]} (third)")
    patches = diff_lines(page, "compare-code-patches")  # third -> first: the patch removed
    assert patches[:2] == [["d-meta", "--- third/diff.patch"], ["d-meta", "+++ first/diff.patch"]]
    assert ["d-del", f"-+{PAYLOAD_LINE}"] in patches
    page.get_by_label("To", exact=True).select_option(ids["second"])
    page.wait_for_function(f"location.hash.includes('code={ids['third']}%2C{ids['second']}') || "
                           f"location.hash.includes('code={ids['third']},{ids['second']}')")
    page.wait_for_selector("#compare-code-commits >> text=Both at commit")
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_system_metrics_have_one_line_per_run_by_time_and_by_step(page, code_site, scheme):
    requests, dialogs = open_compare(page, code_site, scheme, "first", "second")
    page.wait_for_selector("#system-charts figure.chart .plot .main-svg")
    charts = page.evaluate("""() => [...document.querySelectorAll('#system-charts figure.chart')].map((figure) => ({
        metric: figure.dataset.metric,
        lines: figure.querySelector('.plot').data.filter((trace) => trace.mode === 'lines')
                 .map((trace) => ({name: trace.name, x: trace.x, points: trace.y.length}))}))""")
    names = [chart["metric"] for chart in charts]
    assert names[:3] == ["cpu_percent", "process_cpu_percent", "memory_percent"]
    for chart in charts:
        assert [line["name"] for line in chart["lines"]] == ["first", "second"], chart["metric"]
    cpu = charts[0]["lines"]
    assert all(line["points"] >= 2 for line in cpu)
    assert all(0 <= x < 5 for line in cpu for x in line["x"])  # seconds since each run started
    page.get_by_label("Horizontal axis", exact=True).select_option("step")
    page.wait_for_function("location.hash.includes('sysx=step')")
    steps = page.evaluate("""() => document.querySelector('#system-charts figure.chart .plot').data
        .filter((trace) => trace.mode === 'lines').map((trace) => trace.x)""")
    assert len(steps) == 2 and all(x in range(0, 80, 10) for xs in steps for x in xs)  # the steps each run logged
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, code_site, scheme)


def test_a_site_built_outside_the_repository_says_why_it_has_no_commit_diff(page, code_site, tmp_path):
    out = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", code_site["runs"], "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = code_site["ids"]
    page.goto(f"{out.as_uri()}/compare.html#runs={ids['first']},{ids['second']}")
    page.wait_for_selector("#compare-code-scripts")
    first, second = (commit[:12] for commit in code_site["commits"])
    assert page.locator("#compare-code-commits p").inner_text() == (
        f"first is at commit {first}, second at {second}. No diff of the two commits here: the build makes it only "
        f"when it runs inside their git repository. In the repository, tracker diff --code {ids['first']} "
        f"{ids['second']} prints it.")
    assert page.locator("#compare-code-commits pre").count() == 0
    assert ["d-add", "+lr = 0.2"] in diff_lines(page, "compare-code-scripts")  # the snapshots need no repository
    assert page.errors == []  # no request for a file the site lacks


def test_runs_without_a_patch_or_script_compare_from_their_run_data_without_a_code_file(page, code_site, tmp_path):
    """Runs that captured a commit but no patch or script have no code.js (their run data holds the
    commit and branch): the Code section says what it said with the file, and asks for no such file."""
    import json
    import shutil

    import tracker

    runs = tmp_path / "runs"
    shutil.copytree(code_site["runs"], runs)
    bare = {}
    for name, commit in (("bare-a", code_site["commits"][0]), ("bare-b", code_site["commits"][1])):
        run = tracker.init(project="code", name=name, dir=str(runs), capture=False)
        run.finish()
        with open(runs / run.id / "events.jsonl", "a", encoding="utf-8") as events:  # as capture writes it
            events.write(json.dumps({"type": "git", "time": 1.8e9, "commit": commit, "branch": "main",
                                     "dirty": False}) + "\n")
        bare[name] = run.id
    out = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(runs), "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not any((out / "runs" / run_id / "code.js").exists() for run_id in bare.values())
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{out.as_uri()}/compare.html#runs={bare['bare-a']},{bare['bare-b']}")
    page.wait_for_selector("#compare-code-scripts")
    first, second = (commit[:12] for commit in code_site["commits"])
    assert page.locator("#compare-code-commits p").inner_text().startswith(
        f"bare-a is at commit {first}, bare-b at {second}. No diff of the two commits here")
    assert page.locator("#compare-code-patches").get_by_text("Neither run had uncommitted changes").is_visible()
    assert page.locator("#compare-code-scripts").get_by_text("Neither run has a snapshot of its entry script").is_visible()
    assert not any(url.endswith("/code.js") for url in requests) and page.errors == []
    # one run with a code file beside one without: the patch and script of the one that has them
    page.goto(f"{out.as_uri()}/compare.html#runs={bare['bare-b']},{code_site['ids']['third']}")
    page.wait_for_selector("#compare-code-scripts")
    assert page.locator("#compare-code-commits").get_by_text(f"Both at commit {second} (main).").is_visible()
    assert ["d-add", f"++{PAYLOAD_LINE}"] in diff_lines(page, "compare-code-patches")  # the patch's added line, added
    assert ["d-add", "+lr = 0.2"] in diff_lines(page, "compare-code-scripts")
    assert page.errors == []
