"""Environment files shared by content (sitegen/environments.py): a run page links its package list
and requirements, stored once per distinct environment, redacted, kept while a run needs them."""
from __future__ import annotations

import html
import os
import re
import shutil

from test_site_support import TOKEN, append_record, log_run, run_cli

PACKAGES = {"numpy": "2.1.0", "torch": "2.4.0"}
GIT = {"type": "git", "available": True, "in_repo": True, "commit": "c" * 40,
       "remote_url": "https://github.com/o/proj.git", "dirty": False}


def run_with(root, name: str, packages: dict, python: str = "3.11.7") -> str:
    path = log_run(root, name, metrics=[{"loss": 0.5}])
    append_record(path, GIT)
    append_record(path, {"type": "environment", "python": python, "os": "Linux", "packages": packages})
    return os.path.basename(path)


def build(runs, site) -> str:
    code, out, err = run_cli("build", "--runs", str(runs), "--out", str(site))
    assert code == 0, err
    return out


def environment_links(site, run_id: str) -> tuple[str, str]:
    """(the page's link to its packages, its Reproduce block's requirements download), site-relative."""
    page = (site / "runs" / run_id / "index.html").read_text(encoding="utf-8")
    packages = re.search(r'<p class="packages-line">.*?<a href="\.\./\.\./([^"]+)">', page).group(1)
    requirements = re.search(r'<a class="button" href="\.\./\.\./([^"]+)" download>requirements.txt</a>', page).group(1)
    return packages, requirements


def text_of(path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))))


def environment_folders(site) -> list[str]:
    return sorted(os.listdir(site / "environments")) if (site / "environments").exists() else []


def test_runs_with_the_same_packages_share_one_page_and_requirements_file(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    first, second = run_with(runs, "a", PACKAGES), run_with(runs, "b", dict(reversed(PACKAGES.items())))
    other = run_with(runs, "c", PACKAGES | {"torch": "2.5.0"})
    build(runs, site)
    assert len(environment_folders(site)) == 2
    assert environment_links(site, first) == environment_links(site, second) != environment_links(site, other)
    packages, requirements = environment_links(site, first)
    assert requirements == packages.replace("index.html", "requirements.txt")
    assert re.search(r"Python 3\.11\.7 · 2 packages", text_of(site / "runs" / first / "index.html"))
    listing = text_of(site / packages)
    assert "Packages (2)" in listing and "numpy 2.1.0" in listing and "torch 2.4.0" in listing
    pins = (site / requirements).read_text(encoding="utf-8").splitlines()
    assert "numpy==2.1.0" in pins and "torch==2.4.0" in pins
    assert "torch==2.5.0" in (site / environment_links(site, other)[1]).read_text(encoding="utf-8")
    # the Reproduce lines read it as ../requirements.txt: the download keeps that name
    assert "pip install -r ../requirements.txt" in text_of(site / "runs" / first / "index.html")
    assert not any((site / "runs" / run_id / "requirements.txt").exists() for run_id in (first, second, other))


def test_the_shared_files_hold_the_redacted_content(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    run_id = run_with(runs, "secret", PACKAGES | {"private-lib": f"1.0+{TOKEN}"})
    build(runs, site)
    packages, requirements = environment_links(site, run_id)
    for relative in (packages, requirements):
        text = (site / relative).read_text(encoding="utf-8")
        assert TOKEN not in text and "[REDACTED]" in text
    assert TOKEN not in (site / ".tracker-manifest.json").read_text(encoding="utf-8")


def test_a_rebuild_writes_a_new_environment_once_and_removes_one_no_run_needs(tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    kept = run_with(runs, "kept", PACKAGES)
    gone = run_with(runs, "gone", {"numpy": "1.0.0"})
    build(runs, site)
    kept_files = [site / relative for relative in environment_links(site, kept)]
    stamps = [path.stat().st_mtime_ns for path in kept_files]
    gone_folder = os.path.dirname(environment_links(site, gone)[0])
    assert len(environment_folders(site)) == 2

    shutil.rmtree(runs / gone)
    added = run_with(runs, "added", PACKAGES | {"scipy": "1.14.0"})
    same = run_with(runs, "same", PACKAGES)
    assert build(runs, site).startswith("built 3 runs (2 re-rendered, 1 unchanged)")
    assert not (site / gone_folder).exists()
    assert len(environment_folders(site)) == 2
    assert environment_links(site, same) == environment_links(site, kept)
    assert all((site / relative).is_file() for relative in environment_links(site, added))
    assert [path.stat().st_mtime_ns for path in kept_files] == stamps  # not written again

    build(runs, site)  # nothing changed: the shared files stay
    assert len(environment_folders(site)) == 2


def test_one_click_from_the_run_page_shows_the_packages(page, tmp_path):
    runs, site = tmp_path / "runs", tmp_path / "site"
    run_id = run_with(runs, "a", PACKAGES)
    build(runs, site)
    page.goto((site / "runs" / run_id / "index.html").as_uri())
    page.get_by_role("link", name="2 packages").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Packages (2)").is_visible()
    assert page.get_by_role("cell", name="torch").is_visible() and page.get_by_role("cell", name="2.4.0").is_visible()
    assert page.errors == []
