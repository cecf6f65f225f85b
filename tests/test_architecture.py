"""docs/architecture.md is the map of the code: every module under tracker/ and sitegen/ has its line
in the module map, and every module the map names exists."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP_ROW = re.compile(r"^\| `((?:tracker|sitegen)/[\w/]+\.py)` \| (.+) \|$", re.M)


def modules_on_disk() -> set[str]:
    return {path.relative_to(ROOT).as_posix() for package in ("tracker", "sitegen")
            for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts}


def mapped_modules() -> dict[str, str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return dict(MAP_ROW.findall(text))


def test_every_module_has_a_line_in_the_module_map():
    missing = sorted(modules_on_disk() - set(mapped_modules()))
    assert not missing, f"add these to docs/architecture.md's module map: {', '.join(missing)}"


def test_the_module_map_names_only_modules_that_exist():
    gone = sorted(set(mapped_modules()) - modules_on_disk())
    assert not gone, f"docs/architecture.md's module map names modules that do not exist: {', '.join(gone)}"


def test_each_line_says_what_the_module_is():
    assert all(len(line.strip()) >= 10 for line in mapped_modules().values())
