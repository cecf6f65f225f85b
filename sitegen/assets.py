"""Static assets: the theme's static/ files and the vendored plotly.js, copied once per site.

Planned here, copied by the build step. A user theme's static file replaces the default
theme's file of the same relative path.
"""
from __future__ import annotations

import os
import re

ASSETS_DIR = "assets"


def plotly_source() -> tuple[str, str]:
    """(path of the installed plotly package's plotly.min.js, its plotly.js version)."""
    import plotly

    path = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(200)
    match = re.search(r"plotly\.js v([0-9][0-9A-Za-z.+-]*)", head)
    return path, match.group(1) if match else plotly.__version__


def plan_assets(static_dirs: list[str]) -> tuple[dict[str, str], str]:
    """({site-relative path: source file}, site-relative path of plotly.js).

    ``static_dirs`` is in search order (the chosen theme first), so the first file found wins.
    """
    copies: dict[str, str] = {}
    for folder in reversed(static_dirs):  # default first, then overridden by the chosen theme
        for parent, _, files in os.walk(folder):
            for name in files:
                source = os.path.join(parent, name)
                relative = os.path.relpath(source, folder).replace(os.sep, "/")
                copies[f"{ASSETS_DIR}/{relative}"] = source
    plotly_path, version = plotly_source()
    plotly_rel = f"{ASSETS_DIR}/vendor/plotly-{version}.min.js"
    copies[plotly_rel] = plotly_path
    return copies, plotly_rel
