"""Updating a built site in place: the re-rendered runs' files moved in, the site pages replaced, stale files removed.

A rebuild (build.py) leaves the pages of unchanged runs where they are. At 100,000 runs the site's
folder of run folders and its folder of run data files hold 100,000 entries each, so they are
listed once (run_files_in_site), before rendering, and judged by name: which kept pages are still
there, and which names there to remove.
"""
from __future__ import annotations

import os
from itertools import compress
from operator import itemgetter, methodcaller, not_

from .manifest import MANIFEST_FILE
from .model import run_data_file, run_folder
from .output import move_into, remove_files, replace_text

RUN_FOLDERS = os.path.dirname(run_folder("x"))        # where each run's folder of pages is
RUN_DATA_FOLDER = os.path.dirname(run_data_file("x"))  # where each run's data file is,
RUN_DATA_SUFFIX = run_data_file("")[len(RUN_DATA_FOLDER) + 1:]  # named by its slug and this


def run_files_in_site(out: str) -> tuple[set[str], set[str], set[str]]:
    """The names in the site's folder of run folders, the slugs of the run data files in its folder
    of them, and the other names there: two directory reads, where a stat of each kept page was a
    tenth of a rebuild of 10,000 runs. The data files by slug, so that the kept runs' slugs are
    compared with them as they are (100,000 names made by adding RUN_DATA_SUFFIX were 0.02 s, twice
    a rebuild). A page deleted alone from a run folder that is still there goes unnoticed until its
    run changes."""
    data_names = _names_in(out, RUN_DATA_FOLDER)
    ends = list(map(methodcaller("endswith", RUN_DATA_SUFFIX), data_names))
    others = set() if all(ends) else set(compress(data_names, map(not_, ends)))
    slugs = set(map(itemgetter(slice(None, -len(RUN_DATA_SUFFIX))), compress(data_names, ends) if others else data_names))
    return set(_names_in(out, RUN_FOLDERS)), slugs, others


def _names_in(out: str, relative: str) -> list[str]:
    try:
        return os.listdir(os.path.join(out, relative))
    except OSError:
        return []


def read_site_text(out: str, relative: str) -> str | None:
    """A text file the last build wrote (None when it is gone or unreadable: the build makes it anew)."""
    try:
        with open(os.path.join(out, relative), encoding="utf-8", errors="surrogatepass") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def update_site(out: str, staging: str, run_files: list[str], texts: dict[str, str], owned: set[str],
                unchanged_runs: set[str], in_site: tuple[set[str], set[str], set[str]]) -> None:
    """Move the re-rendered runs' files into ``out``, replace the site pages, then remove every
    file that neither they nor ``owned`` name: removed runs, files a run no longer has, strays
    (the folders and data files of ``unchanged_runs``, slugs of runs nothing touched, are kept
    and not looked into; ``in_site``: the names in the site's folders of run folders and data
    files before this build, run_files_in_site: what this build adds there is in ``run_files``).

    Each file is replaced atomically; the caller writes the manifest after this (manifest.py's
    write_manifest), so a build stopped half-way leaves keys that make the next build render
    those runs again.
    """
    for relative in run_files:
        move_into(staging, out, relative)
    for relative, text in texts.items():
        replace_text(out, relative, text)
    keep = owned | set(run_files) | set(texts) | {MANIFEST_FILE}
    remove_files(out, [relative for relative in site_files(out, unchanged_runs, in_site) if relative not in keep])


def site_files(out: str, unchanged_runs: set[str], in_site: tuple[set[str], set[str], set[str]]) -> list[str]:
    """Every file in the site folder that was there before this build or is in a run folder, site-
    relative with '/', except the folders and data files of ``unchanged_runs`` (slugs): the two
    folders that hold one of each per run are judged by the names ``in_site`` lists (see
    update_site), compared as sets, where walking them was a tenth of a rebuild of 100,000 runs."""
    per_run = (RUN_FOLDERS, RUN_DATA_FOLDER)
    found = _files_below(out, "", skipped=per_run)
    for name in in_site[0] - unchanged_runs:
        found += _files_below(out, f"{RUN_FOLDERS}/{name}")
    found += [f"{RUN_DATA_FOLDER}/{slug}{RUN_DATA_SUFFIX}" for slug in in_site[1] - unchanged_runs]
    found += [f"{RUN_DATA_FOLDER}/{name}" for name in in_site[2]]
    return found


def _files_below(out: str, relative: str, skipped: tuple[str, ...] = ()) -> list[str]:
    """The site-relative paths of the files at or below ``relative`` (a file or a folder), not
    looking into the ``skipped`` folders."""
    top = os.path.join(out, relative)
    if os.path.islink(top) or not os.path.isdir(top):  # never walked through: a link may lead out of the site
        return [relative] if os.path.lexists(top) else []
    found = []
    for parent, folders, names in os.walk(top):
        relative_parent = os.path.relpath(parent, out).replace(os.sep, "/")
        prefix = "" if relative_parent == "." else relative_parent + "/"
        folders[:] = [name for name in folders if prefix + name not in skipped]
        found.extend(prefix + name for name in names)
    return found
