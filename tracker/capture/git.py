"""The state of the git repository a run's code lives in: commit, branch, remote, changes."""
from __future__ import annotations

from ..redact import strip_url_credentials
from ..redact import redact_file_text

MAX_DIFF_BYTES = 1024 * 1024
MAX_UNTRACKED_FILES = 100
# Diff output must not depend on the user's git config: no colours, external diff tools or textconv.
DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv")
_READ_CHUNK_BYTES = 64 * 1024


def capture_git(start_dir: str, max_diff_bytes: int = MAX_DIFF_BYTES) -> tuple[dict, str | None]:
    """Describe the repository containing ``start_dir``; returns (record, patch or None).

    The patch is ``git diff HEAD`` (staged and unstaged changes; binary files are named, not
    inlined), cut on a line boundary at ``max_diff_bytes``, with secrets replaced
    (see ``redact_file_text``).
    Bytes that are not UTF-8 survive as surrogate escapes: encode it with ``"surrogateescape"``.
    Never raises: trouble becomes ``"error"`` in the record.
    """
    try:
        import git
    except ImportError as exc:
        # gitpython refuses to import when it cannot find (or run) a git executable.
        if getattr(exc, "name", None) == "git":
            return {"available": False, "reason": "gitpython not installed"}, None
        return {"available": False, "reason": "git executable not found"}, None
    try:
        repo = git.Repo(start_dir, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return {"available": True, "in_repo": False}, None
    except Exception as exc:
        return {"available": True, "error": _message(exc)}, None
    try:
        with repo:
            return _describe(repo, max_diff_bytes)
    except git.GitCommandNotFound:
        # With GIT_PYTHON_REFRESH=quiet the import succeeds and the first command fails instead.
        return {"available": False, "reason": "git executable not found"}, None
    except Exception as exc:
        return {"available": True, "in_repo": True, "error": _message(exc)}, None


def _describe(repo, max_diff_bytes: int) -> tuple[dict, str | None]:
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # a repository without commits yet
        commit = None
    branch = None
    if not repo.head.is_detached:
        branch = repo.head.reference.name
    dirty, untracked = _status(repo)
    patch, truncated = _diff(repo, commit is not None, max_diff_bytes)
    record = {
        "available": True,
        "in_repo": True,
        "repo_root": repo.working_tree_dir or repo.git_dir,
        "commit": commit,
        "branch": branch,
        "remote_url": _remote_url(repo),
        "dirty": dirty,
        "untracked_files": untracked[:MAX_UNTRACKED_FILES],
        "untracked_truncated": len(untracked) > MAX_UNTRACKED_FILES,
        "diff_truncated": truncated,
        "diff_bytes": len(patch.encode("utf-8", "surrogateescape")) if patch else 0,
    }
    return record, patch


def _remote_url(repo) -> str | None:
    remotes = {remote.name: remote for remote in repo.remotes}
    remote = remotes.get("origin") or next(iter(remotes.values()), None)
    if remote is None:
        return None
    try:
        return strip_url_credentials(remote.url)
    except Exception:  # a remote with no url configured
        return None


def _status(repo) -> tuple[bool, list[str]]:
    """(tracked files changed, untracked paths); untracked folders are listed once, as ``dir/``."""
    output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=normal")
    entries = output.split("\0")
    dirty = False
    untracked = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
            continue
        dirty = True
        if "R" in code or "C" in code:
            index += 1  # a rename or copy is followed by its source path
    return dirty, untracked


def _diff(repo, has_commit: bool, max_diff_bytes: int) -> tuple[str | None, bool]:
    # Without a commit there is no HEAD to diff against: staged content, then unstaged edits on top.
    ranges = [("HEAD",)] if has_commit else [("--cached",), ()]
    data = b""
    truncated = False
    for extra in ranges:
        chunk, cut = _read_capped(repo, [*DIFF_OPTIONS, *extra], max_diff_bytes - len(data))
        data += chunk
        truncated = truncated or cut
        if truncated:
            break
    if not data:
        return None, truncated
    return redact_file_text(data.decode("utf-8", "surrogateescape")), truncated


def _read_capped(repo, args: list[str], limit_bytes: int) -> tuple[bytes, bool]:
    """The output of ``git diff args`` up to ``limit_bytes``, cut after a whole line; (data, truncated)."""
    process = repo.git.diff(*args, as_process=True)
    data = bytearray()
    with process.proc.stdout as stream:
        while len(data) <= limit_bytes and (chunk := stream.read(_READ_CHUNK_BYTES)):
            data += chunk
    if len(data) > limit_bytes:
        process.proc.kill()  # the rest is not wanted; git may be mid-way through a huge diff
        process.proc.wait()
        return bytes(data[: data.rfind(b"\n", 0, limit_bytes) + 1]), True
    process.wait()  # raises GitCommandError when git failed
    return bytes(data), False


def _message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip() or 'no message'}"
