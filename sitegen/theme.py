"""Themes: a built-in name (a folder under themes/) or a path to a folder of overrides.

A theme folder may hold ``templates/`` and ``static/``; each file in it replaces the default
theme's file of the same name, one by one, so a user theme can be a single template.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import UnknownThemeError

# A wheel installs the repository's themes/ as sitegen/themes (pyproject.toml's package-dir), so that
# no installed package is named as generically as `themes`; a source checkout and an editable
# install keep it at the top of the repository.
INSTALLED_THEMES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "themes")
CHECKOUT_THEMES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "themes")
THEMES_DIR = INSTALLED_THEMES_DIR if os.path.isdir(INSTALLED_THEMES_DIR) else CHECKOUT_THEMES_DIR
DEFAULT_THEME = "default"


@dataclass
class Theme:
    name: str
    folders: list[str]  # search order: the chosen theme first, then the default theme

    @property
    def template_dirs(self) -> list[str]:
        return [os.path.join(folder, "templates") for folder in self.folders]

    @property
    def static_dirs(self) -> list[str]:
        return [os.path.join(folder, "static") for folder in self.folders]


def available_themes() -> list[str]:
    try:
        return sorted(entry.name for entry in os.scandir(THEMES_DIR) if entry.is_dir())
    except FileNotFoundError:
        return []


def resolve_theme(name_or_path: str | None) -> Theme:
    """The theme to build with; raises UnknownThemeError listing the built-in ones."""
    default = os.path.join(THEMES_DIR, DEFAULT_THEME)
    name = name_or_path or DEFAULT_THEME
    if os.sep in name or "/" in name or name.startswith(".") or os.path.isdir(name):
        if not os.path.isdir(name):
            raise UnknownThemeError(name, available_themes())
        folder = os.path.abspath(name)
        return Theme(os.path.basename(folder.rstrip(os.sep)), [folder, default])
    if name not in available_themes():
        raise UnknownThemeError(name, available_themes())
    folder = os.path.join(THEMES_DIR, name)
    return Theme(name, [folder] if name == DEFAULT_THEME else [folder, default])
