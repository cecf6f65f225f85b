"""The code difference between two runs: their commits' diff from git, their patches' and entry scripts' line diff.

Three parts, each what a reader can get without the client:
- ``unified_diff(a, b)``: a unified diff of two texts by Myers' line diff. The site's
  ``static/js/line-diff.js`` computes the same text of the same inputs, tie for tie
  (``tests/contracts/line_diff.json`` holds the cases both run), so the compare view and
  ``tracker diff --code`` show the same lines;
- ``read_run_code(run)``: what a run captured of its code (commit, the uncommitted patch
  ``files/diff.patch``, the entry script's snapshot), read from its folder;
- ``commit_diff(root, a, b)``: ``git diff A B`` of the tracked files, from the git command in a
  checkout that has both commits, capped at MAX_COMMIT_DIFF_FILES files and MAX_COMMIT_DIFF_BYTES.
Everything shown is redacted like the capture's texts (``redact_file_text``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field

from .redact import redact_file_text

MAX_COMMIT_DIFF_BYTES = 200 * 1024  # a commit diff is cut on a line boundary past this
MAX_COMMIT_DIFF_FILES = 50          # files past this many are named in the notice, not diffed
MAX_RUN_CODE_BYTES = 1024 * 1024    # the capture caps the patch and the script at 1 MiB too
# Past this many inserted plus deleted lines Myers' work grows too large to do in a page:
# the texts are then shown as all removed and all added.
MAX_EDITS = 2000
CONTEXT_LINES = 3
GIT_TIMEOUT_S = 30.0
FULL_HASH_CHARS = (40, 64)  # a full SHA-1 or SHA-256 object name
# Output that does not depend on the user's git config (tracker/capture/git.py's options).
_GIT_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv", "--no-renames")


def split_lines(text: str | None) -> list[str]:
    """A text's lines without their ends; a final newline ends the last line, it adds none."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def line_diff(a: list[str], b: list[str], max_edits: int = MAX_EDITS) -> list[tuple[str, int, int]]:
    """The edit script turning ``a`` into ``b``: ("=", i, j), ("-", i, -1), ("+", -1, j) in order.

    Myers' greedy O((N+M)D) algorithm after stripping the common head and tail, preferring a
    deletion before an insertion; line-diff.js makes the same choices. When more than
    ``max_edits`` lines differ every line of the middle is deleted, then every line inserted.
    """
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle = _middle_script(a[head:len(a) - tail], b[head:len(b) - tail], max_edits)
    ops = [("=", i, i) for i in range(head)]
    ops += [(kind, i + head if i >= 0 else -1, j + head if j >= 0 else -1) for kind, i, j in middle]
    ops += [("=", len(a) - tail + k, len(b) - tail + k) for k in range(tail)]
    return ops


def _middle_script(a: list[str], b: list[str], max_edits: int) -> list[tuple[str, int, int]]:
    n, m = len(a), len(b)
    if n + m == 0:
        return []
    trace = _myers_trace(a, b, max_edits)
    if trace is None:
        return [("-", i, -1) for i in range(n)] + [("+", -1, j) for j in range(m)]
    ops: list[tuple[str, int, int]] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]  # furthest x per diagonal k before round d, at v[k + d + 1]
        k = x - y
        down = k == -d or (k != d and v[k + d] < v[k + d + 2])
        previous_k = k + 1 if down else k - 1
        previous_x = v[previous_k + d + 1]
        previous_y = previous_x - previous_k
        while x > previous_x and y > previous_y:
            x, y = x - 1, y - 1
            ops.append(("=", x, y))
        if d > 0:
            ops.append(("+", -1, previous_y) if down else ("-", previous_x, -1))
        x, y = previous_x, previous_y
    ops.reverse()
    return ops


def _myers_trace(a: list[str], b: list[str], max_edits: int) -> list[list[int]] | None:
    """Each round's furthest-reaching x per diagonal, as the backtrack needs them; None past max_edits."""
    n, m = len(a), len(b)
    v = {1: 0}
    trace = []
    for d in range(0, min(n + m, max_edits) + 1):
        trace.append([v.get(k, 0) for k in range(-d - 1, d + 2)])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[k - 1] < v[k + 1]):
                x = v[k + 1]
            else:
                x = v[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[k] = x
            if x >= n and y >= m:
                return trace
    return None


def unified_diff(a_text: str | None, b_text: str | None, a_name: str = "a", b_name: str = "b",
                 context: int = CONTEXT_LINES, max_edits: int = MAX_EDITS) -> str:
    """The unified diff of two texts (GNU diff's hunk ranges), "" when their lines are equal."""
    a, b = split_lines(a_text), split_lines(b_text)
    ops = line_diff(a, b, max_edits)
    changes = [index for index, op in enumerate(ops) if op[0] != "="]
    if not changes:
        return ""
    out = [f"--- {a_name}", f"+++ {b_name}"]
    start = counted = a_before = b_before = 0  # lines of a and b before the op at `counted`
    while start < len(changes):
        end = start
        while end + 1 < len(changes) and changes[end + 1] - changes[end] <= 2 * context + 1:
            end += 1
        first, last = max(0, changes[start] - context), min(len(ops), changes[end] + context + 1)
        hunk = ops[first:last]
        for kind, _, _ in ops[counted:first]:
            a_before += kind != "+"
            b_before += kind != "-"
        counted = first
        a_count = sum(1 for op in hunk if op[0] != "+")
        b_count = sum(1 for op in hunk if op[0] != "-")
        out.append(f"@@ -{_range(a_before, a_count)} +{_range(b_before, b_count)} @@")
        for kind, i, j in hunk:
            out.append(("-" + a[i]) if kind == "-" else ("+" + b[j]) if kind == "+" else (" " + a[i]))
        start = end + 1
    return "\n".join(out) + "\n"


def _range(before: int, count: int) -> str:
    start = before + 1 if count else before
    return str(start) if count == 1 else f"{start},{count}"


@dataclass
class RunCode:
    """What one run captured of its code; texts already redacted by the capture."""

    commit: str | None = None
    branch: str | None = None
    patch: str | None = None       # files/diff.patch: `git diff HEAD` when the run started
    patch_cut: bool = False
    script: str | None = None      # the entry script's path in the repository (or as run)
    script_text: str | None = None
    script_cut: bool = False


def read_run_code(run) -> RunCode:
    """A RunRecord's code as captured: its git record's commit, its patch and its script snapshot."""
    git = run.git if isinstance(run.git, dict) else {}
    found = RunCode(commit=_text(git.get("commit")), branch=_text(git.get("branch")))
    found.patch, found.patch_cut = read_patch(run)
    found.script, found.script_text, found.script_cut = read_script(run)
    return found


def read_patch(run) -> tuple[str | None, bool]:
    """(the run's uncommitted patch, files/diff.patch, or None; whether it was cut)."""
    git = run.git if isinstance(run.git, dict) else {}
    patch_file = _text(git.get("diff_file")) or ("files/diff.patch" if git.get("dirty") else None)
    text, cut = _read_inside(run.path, patch_file)
    return text, cut or bool(git.get("diff_truncated"))


def read_script(run) -> tuple[str | None, str | None, bool]:
    """(the entry script's path as recorded, its snapshot's text or None, whether it was cut)."""
    code = run.code if isinstance(run.code, dict) else {}
    stored = _text(code.get("script_file"))
    text, cut = _read_inside(run.path, stored)
    name = _text(code.get("script")) or (os.path.basename(stored) if stored else None)
    return name, text, cut or bool(code.get("script_skipped"))


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_inside(folder: str, relative: str | None) -> tuple[str | None, bool]:
    """The text of a file of the run folder (never outside it), at most MAX_RUN_CODE_BYTES; (text, cut)."""
    if not relative:
        return None, False
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, relative))
    if not path.startswith(root + os.sep):
        return None, False
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RUN_CODE_BYTES + 1)
    except OSError:
        return None, False
    return data[:MAX_RUN_CODE_BYTES].decode("utf-8", "replace"), len(data) > MAX_RUN_CODE_BYTES


@dataclass
class CommitDiff:
    """``git diff FROM TO`` of the tracked files, within the caps; ``error`` when git could not make it."""

    from_commit: str
    to_commit: str
    text: str = ""
    files: list[str] = field(default_factory=list)  # the files diffed
    files_total: int = 0                            # files that differ
    bytes_cut: bool = False                         # the text stops at max_bytes
    error: str | None = None
    max_files: int = MAX_COMMIT_DIFF_FILES
    max_bytes: int = MAX_COMMIT_DIFF_BYTES

    def notice(self) -> str | None:
        """What the caps left out, in words, or None."""
        parts = []
        if self.files_total > len(self.files):
            parts.append(f"{self.files_total - len(self.files)} of {self.files_total} changed files not shown "
                         f"(at most {self.max_files})")
        if self.bytes_cut:
            size = f"{self.max_bytes // 1024} KB" if self.max_bytes >= 1024 else f"{self.max_bytes} bytes"
            parts.append(f"cut at {size}")
        return "; ".join(parts) or None


def find_repository(start_dir: str) -> str | None:
    """The root of the git checkout holding ``start_dir``, or None (no git, not a checkout)."""
    output = _git(start_dir, "rev-parse", "--show-toplevel")
    return output.decode("utf-8", "surrogateescape").strip() or None if output is not None else None


def refs_digest(root: str) -> str | None:
    """A digest of the checkout's HEAD and refs (``git show-ref --head``): it changes when a commit,
    fetch or checkout may have brought commits in; None when git cannot tell."""
    output = _git(root, "show-ref", "--head")
    return hashlib.sha256(output).hexdigest() if output else None


def resolve_commit(root: str, revision: str) -> str | None:
    """The full hash of a commit the checkout at ``root`` has (``revision`` may be short), or None."""
    return resolve_commits(root, [revision]).get(revision)


def resolve_commits(root: str, revisions: list[str]) -> dict[str, str]:
    """{revision: full hash} for each of ``revisions`` (short or full hashes) that names one commit
    of the checkout at ``root``; one git process for all of them.

    A full hash is asked as it is, not peeled (``^{commit}``): git then looks it up at once, where
    a short one costs a search of the refs by that name and a listing of its loose-object folder
    (1,000 commits the checkout lacks: 0.01-0.02 s against 0.06-0.08 s). A run's full hash is the
    commit's own (the writer records HEAD's), so it is never a tag's that peeling would follow."""
    asked = [revision for revision in dict.fromkeys(revisions)
             if revision and all(char in "0123456789abcdefABCDEF" for char in revision)]
    if not asked:
        return {}
    questions = "".join(revision + ("\n" if len(revision) in FULL_HASH_CHARS else "^{commit}\n") for revision in asked)
    try:
        done = subprocess.run(["git", "cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd=root,
                              input=questions.encode("ascii"),
                              capture_output=True, timeout=GIT_TIMEOUT_S, env=_git_environment())
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {}
    # one answer line per question, in order: "<hash> commit", or "<question> missing" / "ambiguous"
    for revision, line in zip(asked, done.stdout.decode("ascii", "replace").splitlines()):
        parts = line.split()
        if len(parts) == 2 and parts[1] == "commit":
            found[revision] = parts[0]
    return found


def commit_diff(root: str, from_commit: str, to_commit: str, max_bytes: int = MAX_COMMIT_DIFF_BYTES,
                max_files: int = MAX_COMMIT_DIFF_FILES) -> CommitDiff:
    """``git diff FROM TO`` in the checkout at ``root``: the first ``max_files`` changed files,
    cut on a line boundary at ``max_bytes``, secrets redacted. Never raises."""
    result = CommitDiff(from_commit, to_commit, max_files=max_files, max_bytes=max_bytes)
    names = _git(root, "diff", "--name-only", "-z", *_GIT_DIFF_OPTIONS, from_commit, to_commit, "--")
    if names is None:
        result.error = f"git could not diff {from_commit[:12]} and {to_commit[:12]} in {root}"
        return result
    files = [name for name in names.decode("utf-8", "surrogateescape").split("\0") if name]
    result.files_total, result.files = len(files), files[:max_files]
    if not files:
        return result
    pathspecs = [f":(literal){name}" for name in result.files]
    data, result.bytes_cut = _git_capped(root, ["diff", *_GIT_DIFF_OPTIONS, from_commit, to_commit, "--", *pathspecs],
                                         max_bytes)
    if data is None:
        result.error = f"git could not diff {from_commit[:12]} and {to_commit[:12]} in {root}"
        return result
    result.text = redact_file_text(data.decode("utf-8", "replace"))
    return result


def _git(cwd: str, *args: str) -> bytes | None:
    """stdout of a git command, or None when git is missing or fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_S,
                              env=_git_environment())
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_capped(cwd: str, args: list[str], max_bytes: int) -> tuple[bytes | None, bool]:
    """stdout of a git command up to ``max_bytes``, cut after a whole line; (data or None, cut)."""
    try:
        process = subprocess.Popen(["git", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   env=_git_environment())
    except OSError:
        return None, False
    data = bytearray()
    with process.stdout:
        while len(data) <= max_bytes and (chunk := process.stdout.read(64 * 1024)):
            data += chunk
    if len(data) > max_bytes:
        process.kill()  # the rest is not wanted
        process.wait()
        return bytes(data[: data.rfind(b"\n", 0, max_bytes) + 1]), True
    return (bytes(data), False) if process.wait() == 0 else (None, False)


def _git_environment() -> dict[str, str]:
    # No pager, no prompt for credentials, and paths as bytes rather than quoted escapes.
    return {**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def code_difference_text(a, b, a_label: str, b_label: str, root: str | None) -> str:
    """What ``tracker diff --code`` prints for two RunRecords: the commits' diff when ``root`` (a
    checkout) has both, then the difference of their uncommitted patches and of their entry scripts."""
    code_a, code_b = read_run_code(a), read_run_code(b)
    parts = [f"# Code: {a_label} -> {b_label}", "", "## Commits", ""]
    parts += _commit_section(code_a, code_b, root)
    parts += ["", "## Uncommitted changes (files/diff.patch)", ""]
    parts += _text_section(code_a.patch, code_b.patch, code_a.patch_cut or code_b.patch_cut,
                           f"{a_label}/diff.patch", f"{b_label}/diff.patch", "no uncommitted changes")
    parts += ["", "## Entry script", ""]
    parts += _text_section(code_a.script_text, code_b.script_text, code_a.script_cut or code_b.script_cut,
                           f"{a_label}/{code_a.script or 'script'}", f"{b_label}/{code_b.script or 'script'}",
                           "no script snapshot")
    return "\n".join(parts).rstrip("\n") + "\n"


def _commit_section(code_a: RunCode, code_b: RunCode, root: str | None) -> list[str]:
    if not code_a.commit or not code_b.commit:
        missing = [label for label, code in (("A", code_a), ("B", code_b)) if not code.commit]
        return [f"Run {' and '.join(missing)} recorded no commit."]
    if code_a.commit == code_b.commit:
        return [f"Same commit {code_a.commit[:12]}."]
    heading = f"{code_a.commit[:12]} -> {code_b.commit[:12]}"
    if root is None:
        return [f"{heading}: run this inside the git repository to see the diff between the commits."]
    if resolve_commit(root, code_a.commit) is None or resolve_commit(root, code_b.commit) is None:
        return [f"{heading}: the repository at {root} does not have both commits (git fetch?)."]
    diff = commit_diff(root, code_a.commit, code_b.commit)
    if diff.error:
        return [f"{heading}: {diff.error}."]
    lines = [f"{heading}: {diff.files_total} file{'' if diff.files_total == 1 else 's'} changed."]
    if diff.notice():
        lines.append(f"Not shown: {diff.notice()}.")
    return lines + ["", diff.text.rstrip("\n")] if diff.text else lines


def _text_section(a_text: str | None, b_text: str | None, cut: bool, a_name: str, b_name: str,
                  nothing: str) -> list[str]:
    if not a_text and not b_text:
        return [f"Neither run has one ({nothing})."]
    diff = unified_diff(a_text, b_text, a_name, b_name)
    lines = [] if diff else ["Identical."]
    if cut:
        lines.append(f"Note: a text was cut at {MAX_RUN_CODE_BYTES // 1024 // 1024} MiB when captured or read.")
    return lines + ([diff.rstrip("\n")] if diff else [])
