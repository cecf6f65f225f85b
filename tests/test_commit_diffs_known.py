"""What the checkout answered about the runs' commits is kept from build to build (sitegen/commit_diffs.py
KnownCommits, in the manifest): a rebuild asks git only about commits it has no answer for, and about
those the checkout lacked once its refs have changed."""
from __future__ import annotations

from code_runs import git
from sitegen.commit_diffs import COMMIT_DIFF_INDEX_FILE, KnownCommits, commit_diff_texts
from tracker.code_diff import resolve_commits

FAKE = "f" * 40  # an answer git would never give: kept only when git was not asked


def commit(repo, name: str) -> str:
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(tmp_path) -> tuple:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    return repo, commit(repo, "one"), commit(repo, "two")


def test_answers_are_kept_while_the_refs_stay_and_misses_asked_again_when_they_change(tmp_path):
    repo, first, second = make_repo(tmp_path)
    shorts = [first[:7], second[:7], "0123abc"]
    texts, known = commit_diff_texts(shorts, [str(repo)])
    assert known.full == {first[:7]: first, second[:7]: second, "0123abc": ""} and known.refs
    assert f"data/commits/{'-'.join(sorted((first, second)))}.js" in texts

    _, again = commit_diff_texts(shorts, [str(repo)], None, KnownCommits(known.refs, {**known.full, first[:7]: FAKE}))
    assert again.full[first[:7]] == FAKE  # not asked: the refs are the same

    third = commit(repo, "three")  # the refs change: what the checkout lacked is asked again
    _, after = commit_diff_texts(shorts + [third[:7]], [str(repo)], None,
                                 KnownCommits(known.refs, {**known.full, first[:7]: FAKE, second[:7]: ""}))
    assert after.full == {first[:7]: FAKE, second[:7]: second, "0123abc": "", third[:7]: third}
    assert after.refs != known.refs


def test_the_known_commits_are_those_of_the_runs_now(tmp_path):
    repo, first, second = make_repo(tmp_path)
    _, known = commit_diff_texts([first[:7], second[:7]], [str(repo)])
    _, fewer = commit_diff_texts([second[:7], None], [str(repo)], None, known)
    assert fewer.full == {second[:7]: second}


def test_outside_a_checkout_nothing_is_asked_or_kept(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    texts, known = commit_diff_texts(["0123abc"], [str(tmp_path / "elsewhere")], None,
                                     KnownCommits("refs", {"0123abc": FAKE}))
    assert list(texts) == [COMMIT_DIFF_INDEX_FILE] and known == KnownCommits()


def test_the_runs_full_hashes_are_asked_in_place_of_their_short_ones(tmp_path):
    repo, first, second = make_repo(tmp_path)
    missing = "0123abc" + "d" * 33
    shorts = [first[:7], second[:7], missing[:7], None]
    full_hashes = {first[:7]: first, second[:7]: second, missing[:7]: missing}
    texts, known = commit_diff_texts(shorts, [str(repo)])
    assert commit_diff_texts(shorts, [str(repo)], None, None, full_hashes) == (texts, known)
    # git finds no commit by three hex digits: only the full hash beside it can have found this one
    _, by_full = commit_diff_texts([first[:3]], [str(repo)], None, None, {first[:3]: first})
    assert by_full.full == {first[:3]: first}
    assert commit_diff_texts([first[:3]], [str(repo)])[1].full == {first[:3]: ""}
    # a full hash that is not the short one's is not asked
    assert commit_diff_texts([first[:7]], [str(repo)], None, None, {first[:7]: second})[1].full == {first[:7]: first}


def test_a_full_hash_is_asked_unpeeled_so_only_a_commit_answers(tmp_path):
    repo, first, second = make_repo(tmp_path)
    git(repo, "tag", "-a", "v1", "-m", "an annotated tag of the second commit: an object of its own")
    tag = git(repo, "rev-parse", "v1").strip()
    assert resolve_commits(str(repo), [tag, first]) == {first: first}
    assert resolve_commits(str(repo), [tag[:7]]) == {tag[:7]: second}  # a short one is peeled to its commit
