"""Commit diffs for the compare view: `git diff` between the commits the site's runs were logged at.

Made only when the build runs inside a checkout of the runs' repository (the working directory's,
else the runs folder's): a commit is diffed when that checkout has it, whatever its remote, since
having the commit is what a diff needs. A compare view may pair any two runs, but diffing every
pair of commits grows as their square, so the pairs are bounded (commit_pairs): every pair when the
runs have at most ALL_PAIRS_MAX_COMMITS commits, else each commit against the one before it (by
its first run's time) and against the most common one (the baseline most runs share), at most
MAX_COMMIT_PAIRS diffs. Each is capped as tracker/code_diff.py says (files and bytes).
A pair the site lacks is named on the compare view with the command that prints it.

Each diff is ``data/commits/<hash>-<hash>.js`` (the two full hashes sorted), registering
``TrackerData.commitDiffs["<hash>-<hash>"] = {"from", "to", "text", "files", "filesTotal", "bytesCut",
"notice"}``: the diff from the older commit to the newer one. ``data/commits/index.js``, written by
every build, names them (``TrackerData.commitDiffIndex = {"repository": bool, "keys": [...]}``), so
the compare view loads only files that exist.

Which commit a run's short hash names is asked of git once (KnownCommits, kept in the manifest):
a rebuild asks only about the commits of runs it has not seen, and asks again about those the
checkout lacked only once its refs have changed (a fetch or a commit may have brought them in).
"""
from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tracker.code_diff import commit_diff, find_repository, refs_digest, resolve_commits

from .render import data_script_text, script_json

ALL_PAIRS_MAX_COMMITS = 8   # 28 pairs
MAX_COMMIT_PAIRS = 64
COMMIT_DIFF_INDEX_FILE = "data/commits/index.js"


def commit_diff_key(a: str, b: str) -> str:
    """The name of the diff between two full hashes, either way round."""
    return "-".join(sorted((a, b)))


def commit_diff_file(a: str, b: str) -> str:
    return f"data/commits/{commit_diff_key(a, b)}.js"


def commit_pairs(commits: list[str], runs_per_commit: dict[str, int]) -> list[tuple[str, str]]:
    """(older, newer) pairs to diff among ``commits`` (in the order of their first run)."""
    if len(commits) <= ALL_PAIRS_MAX_COMMITS:
        return [(commits[i], commits[j]) for i in range(len(commits)) for j in range(i + 1, len(commits))]
    position = {commit: index for index, commit in enumerate(commits)}
    baseline = max(commits, key=lambda commit: (runs_per_commit.get(commit, 0), -position[commit]))
    pairs = [(commits[i - 1], commits[i]) for i in range(len(commits) - 1, 0, -1)]  # newest first
    pairs += [tuple(sorted((baseline, commit), key=position.get)) for commit in commits if commit != baseline]
    return list(dict.fromkeys(pairs))[:MAX_COMMIT_PAIRS]


@dataclass
class KnownCommits:
    """What the checkout answered about short hashes: {short: full hash, or "" for none}, and the
    digest of its refs at the time (code_diff.refs_digest)."""

    refs: str | None = None
    full: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"refs": self.refs, "full": self.full}


def commit_diff_texts(shorts: list[str | None], start_dirs: list[str], previous_out: str | None = None,
                      known: KnownCommits | None = None, full_hashes: dict[str, str] | None = None
                      ) -> tuple[dict[str, str], KnownCommits]:
    """The commit diff files for the runs' commits (short hashes as their index rows have them,
    oldest run first), by site path, and their index; none but the index when no folder of
    ``start_dirs`` is in a git checkout. Also what is now known of the commits, for the next build
    (``known``: what the last one knew). A diff that ``previous_out`` (the site being rebuilt)
    holds is taken from it: two commits' diff never changes, and a live rebuild need not run git
    for every pair again. ``full_hashes``: the full hash of a short one, where the runs read for
    this build told it; git is asked about that rather than the short hash (code_diff.resolve_commits:
    a fifth of the time for commits the checkout lacks)."""
    root = next((found for folder in start_dirs if (found := find_repository(folder))), None)
    if root is None:
        return {COMMIT_DIFF_INDEX_FILE: _index_text(False, [])}, KnownCommits()
    shorts = [short for short in shorts if isinstance(short, str)]
    known = _resolve(root, shorts, known or KnownCommits(), full_hashes or {})
    counts = Counter(known.full[short] for short in shorts if known.full.get(short))
    commits = list(dict.fromkeys(known.full[short] for short in shorts if known.full.get(short)))
    texts, keys = {}, []
    for older, newer in commit_pairs(commits, counts):
        relative = commit_diff_file(older, newer)
        text = _previous_text(previous_out, relative)
        if text is None:
            diff = commit_diff(root, older, newer)
            if diff.error:
                continue
            value = {"from": older, "to": newer, "text": diff.text, "files": diff.files,
                     "filesTotal": diff.files_total, "bytesCut": diff.bytes_cut, "notice": diff.notice()}
            text = data_script_text("commitDiffs", commit_diff_key(older, newer), script_json(value))
        keys.append(commit_diff_key(older, newer))
        texts[relative] = text
    return texts | {COMMIT_DIFF_INDEX_FILE: _index_text(True, sorted(keys))}, known


def commit_diff_texts_aside(*args) -> Callable[[], tuple[dict[str, str], KnownCommits]]:
    """``commit_diff_texts(*args)`` on a thread of its own, while the caller renders: the wait for
    git leaves a core idle. The function returned waits for its result (raising what it raised).
    A thread, not concurrent.futures: importing that (and logging) was 6-7 ms of a cold build's
    start, before its workers could begin."""
    outcome: list = []

    def ask() -> None:
        try:
            outcome.append((True, commit_diff_texts(*args)))
        except BaseException as exc:  # raised in the caller
            outcome.append((False, exc))

    thread = threading.Thread(target=ask, name="tracker-commit-diffs", daemon=True)
    thread.start()

    def result():
        thread.join()
        done, value = outcome[0]
        if not done:
            raise value
        return value

    return result


def _resolve(root: str, shorts: list[str], known: KnownCommits, full_hashes: dict[str, str]) -> KnownCommits:
    """The full hash of each of ``shorts`` that the checkout has, asking git only about those
    ``known`` has no answer for (or answered "none" for, when the refs changed since), by their
    ``full_hashes`` where given."""
    refs = refs_digest(root)
    answers = known.full if refs is not None and refs == known.refs else \
        {short: full for short, full in known.full.items() if full}
    asked = [short for short in dict.fromkeys(shorts) if short not in answers]
    questions = [full if (full := full_hashes.get(short)) and full.startswith(short) else short for short in asked]
    found = resolve_commits(root, questions) if asked else {}
    answers = answers | {short: found.get(question, "") for short, question in zip(asked, questions)}
    return KnownCommits(refs, {short: answers[short] for short in dict.fromkeys(shorts)})


def _previous_text(out: str | None, relative: str) -> str | None:
    if out is None:
        return None
    try:
        with open(os.path.join(out, relative), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _index_text(repository: bool, keys: list[str]) -> str:
    return data_script_text("commitDiffIndex", None, script_json({"repository": repository, "keys": keys}))
