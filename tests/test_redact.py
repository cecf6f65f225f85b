"""Secret detection: names, command lines, URLs and token shapes."""
import hashlib
import subprocess
import sys

import pytest

from tracker.redact import (REDACTED, find_token_shapes, is_secret_name, redact_argv, redact_file_text, redact_mapping,
                            redact_text, redact_token_shapes, strip_url_credentials)

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "apiKey", "hf_token", "db_password", "client_secret",
                                  "aws_secret_access_key", "WANDB_API_KEY", "--api-key", "auth", "privateKey",
                                  "openai_apikey", "credentials"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["keyframes", "max_tokens", "num_keys", "tokenizer", "monkey", "lr",
                                  "batch_size", "passes", "author"])
def test_ordinary_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("token, kind", [
    (GITHUB_TOKEN, "GitHub token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "GitHub token"),
    ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
    ("xoxb-123456789012-abcdefghijklmnop", "Slack token"),
    ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "OpenAI key"),
    ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "Hugging Face token"),
    ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "Google API key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JWT"),
    ("Authorization: Bearer abcdefghijklmnop123456", "bearer token"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "private key"),
])
def test_token_shapes_are_found_and_redacted(token, kind):
    text = f"before {token} after"
    assert [found[0] for found in find_token_shapes(text)] == [kind]
    redacted, kinds = redact_token_shapes(text)
    assert kinds == [kind] and REDACTED in redacted and token.split()[-1] not in redacted
    assert redacted.startswith("before ") and redacted.endswith(" after")


def test_hashes_and_commits_are_not_tokens():
    digest = hashlib.sha256(b"x").hexdigest()
    commit = hashlib.sha1(b"x").hexdigest()
    assert find_token_shapes(f"{digest} {commit} sk-learn model_key_frames 0123456789abcdef") == []


def test_url_credentials_are_stripped():
    assert strip_url_credentials(f"https://user:{GITHUB_TOKEN}@github.com/a/b.git") == "https://github.com/a/b.git"
    assert strip_url_credentials("https://tok@gitlab.com/a/b") == "https://gitlab.com/a/b"
    assert strip_url_credentials("git@github.com:a/b.git") == "git@github.com:a/b.git"


def test_url_credentials_after_a_long_run_of_scheme_characters():
    # the scheme is matched 64 characters back at most: the run's head stays as it was
    assert strip_url_credentials("x" * 100 + "https://user:pw@host/p") == "x" * 100 + "https://host/p"
    assert strip_url_credentials("ssh://git:pw@host/x") == "ssh://git@host/x"


def test_a_long_note_logs_in_linear_time(tmp_path):
    # The URL pattern once started a scan to the end of a run of letters at every letter: a 50 KB
    # note took 6 s in init(), a 1 MB one would take most of an hour. 60 s is a hang, not a target.
    script = ("import tracker; run = tracker.init(project='p', dir='runs', notes='x' * 1_000_000 + ' a://' * 20_000); "
              "run.finish()")
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=60)
    assert (tmp_path / "runs").is_dir()


def test_argv_redaction():
    argv = ["train.py", "--api-key", "s3cr3t-value", "--token=abc123", "--lr", "0.1", "DB_PASSWORD=hunter2",
            f"--repo=https://u:{GITHUB_TOKEN}@github.com/x/y", "--name", "keyframes"]
    assert redact_argv(argv) == ["train.py", "--api-key", REDACTED, f"--token={REDACTED}", "--lr", "0.1",
                                 f"DB_PASSWORD={REDACTED}", "--repo=https://github.com/x/y", "--name", "keyframes"]


def test_mapping_redaction_is_deep_and_leaves_ordinary_values():
    config = {"lr": 0.1, "api_key": "abc", "nested": {"hfToken": "x", "note": f"uses {GITHUB_TOKEN}"},
              "list": [{"password": "p"}], "max_tokens": 512, "empty_key": None}
    assert redact_mapping(config) == {"lr": 0.1, "api_key": REDACTED,
                                      "nested": {"hfToken": REDACTED, "note": f"uses {REDACTED}"},
                                      "list": [{"password": REDACTED}], "max_tokens": 512, "empty_key": None}


@pytest.mark.parametrize("text, kind", [
    ('key = "AIzaSyA1234567890abcdefghijklmnopqrstu-"', "Google API key"),  # ends in "-": no \b after it
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0abc\n-----END PGP PRIVATE KEY BLOCK-----", "private key"),
    ("DATABASE_URL is postgres://admin:Sup3r@S3cret@db.internal:5432/app", "URL credentials"),
])
def test_more_token_shapes(text, kind):
    redacted, kinds = redact_token_shapes(text)
    assert kinds == [kind]
    assert "S3cret" not in redacted and "u-" not in redacted and "lQOYBF0abc" not in redacted


def test_anchored_scan_finds_what_the_full_regex_finds():
    from tracker import redact

    samples = [GITHUB_TOKEN, "AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-abcdefghijklmnop", "hf_" + "a1" * 17,
               "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "Bearer abcdefghijklmnop123456",
               "https://u:pw@host/x", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
               "task-abcdefghijklmnopqrstuvwxyz", hashlib.sha256(b"y").hexdigest(), "ghp_short", "://", "eyJ"]
    text = " ".join(samples * 3) + " " + "".join(samples)
    expected = [(redact._TOKEN_KINDS[m.lastgroup], m.start(), m.end()) for m in redact._TOKEN_REGEX.finditer(text)]
    assert find_token_shapes(text) == expected and len(expected) >= 21


def test_argv_hydra_overrides_and_flag_after_secret_flag():
    assert redact_argv(["train.py", "+api_key=abc123", "++db.password=hunter2", "model.layers=4"]) == [
        "train.py", f"+api_key={REDACTED}", f"++db.password={REDACTED}", "model.layers=4"]
    assert redact_argv(["train.py", "--use-auth", "--lr", "0.1", "--token", "-starts-with-dash"]) == [
        "train.py", "--use-auth", "--lr", "0.1", "--token", REDACTED]


def test_url_credentials_edge_cases():
    assert strip_url_credentials("ssh://git@github.com/a/b.git") == "ssh://git@github.com/a/b.git"
    assert strip_url_credentials("ssh://git:pw@host/a.git") == "ssh://git@host/a.git"
    assert strip_url_credentials("https://user:p@ss@host/x") == "https://host/x"


def test_acronym_names_and_mapping_keys_and_booleans():
    assert is_secret_name("HTTPAuth") and is_secret_name("APIKey") and not is_secret_name("HTTPServer")
    assert redact_mapping({"use_auth": True, GITHUB_TOKEN: 1, "db": "postgres://a:b@h/d"}) == {
        "use_auth": True, REDACTED: 1, "db": "postgres://h/d"}


@pytest.mark.parametrize("text, secret, kept", [
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA", "Authorization: Basic "),
    ('curl -H "authorization: token abc"', "abc", 'curl -H "authorization: token '),
    ("Bearer x1", "x1", ""),  # any length after the HTTP scheme's spelling
    ("BEARER abc", "abc", ""),
    ("connect admin:hunter2@db.internal:5432/app", "hunter2", "@db.internal:5432/app"),
    ("export API_KEY=abc123 done", "abc123", "export API_KEY="),
    ("WANDB_API_KEY='xyz' done", "xyz", "WANDB_API_KEY='"),
    ("https://api.x.com/v1?api_key=q5r6&page=2", "q5r6", "&page=2"),
    ("posted to https://hooks.slack.com/services/T01/B02/abcDEF123", "abcDEF123", "posted to https://"),
    ("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCY@bucket/x", "wJalrXUtnFEMI", "@bucket/x"),
    ("https://AKIAIOSFODNN7EXAMPLE:secretpart@host/x", "secretpart", "@host/x"),
    ("AKIAIOSFODNN7EXAMPLE:wJalr/XUtnFEMI@bucket.s3.amazonaws.com", "wJalr", "@bucket.s3.amazonaws.com"),
    ("https://user:pa/ss@host/x", "pa/ss", "@host/x"),
])
def test_new_shapes_in_free_text(text, secret, kept):
    redacted, kinds = redact_token_shapes(text)
    assert secret not in redacted and kinds and REDACTED in redacted and kept in redacted


@pytest.mark.parametrize("text", [
    "max_tokens=512 keyframes=3 passes=3 p=0.5 lr=0.1 tokens_per_s=1234", "the bearer of bad news",
    "mailto:joe@example.com", "git@github.com:org/repo.git", "python:3.11@sha256:abcdef", "at 12:30@home",
    "https://example.com:8080/a@b", "https://npm.example.com:443/@scope/pkg", "sorted(x, key=lambda v: v)",
    "use_auth=true token=$TOKEN", "eos_token=</s> pad_token=<pad>", "ssh -p 22 host", "İstanbul key=value",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_token_shapes(text) == (text, [])


@pytest.mark.parametrize("name", ["pass", "db_pass", "PGPASSWORD", "my_secret", "MYSQL_PWD", "session_cookie"])
def test_more_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["p", "passes", "compass", "bypass", "eos_token", "pad_token", "max_tokens",
                                  "keyframes", "author"])
def test_more_ordinary_names(name):
    assert not is_secret_name(name)


def test_argv_password_flags_and_headers():
    argv = ["psql", "-p", "hunter2", "--pass", "x", "PGPASSWORD=y", "-p=z", "-H", "Authorization: Basic zzz",
            "--header", "X-Api-Key: k", "-H", "Accept: json", "p", "5", "--port", "22"]
    assert redact_argv(argv) == ["psql", "-p", REDACTED, "--pass", REDACTED, f"PGPASSWORD={REDACTED}",
                                 f"-p={REDACTED}", "-H", f"Authorization: Basic {REDACTED}", "--header",
                                 f"X-Api-Key: {REDACTED}", "-H", "Accept: json", "p", "5", "--port", "22"]


def test_a_token_split_into_lines_of_a_long_text_is_found_where_it_is():
    lines = [f"step {index} loss=0.{index} https://example.com/x" for index in range(2000)]
    lines[1234] = f"step 1234 uses {GITHUB_TOKEN} and API_KEY=k9"
    redacted, kinds = redact_token_shapes("\n".join(lines))
    assert redacted.split("\n")[1234] == f"step 1234 uses {REDACTED} and API_KEY={REDACTED}"
    assert kinds == ["GitHub token", "secret assignment"]


@pytest.mark.parametrize("text", ["google-auth==2.63.0", "google-auth-oauthlib==1.2.1 keyring==25.5.0",
                                  "if auth_token == expected:", "passlib==1.7.4\nrequests-oauthlib==2.0.0"])
def test_comparisons_and_requirement_pins_are_not_assignments(text):
    assert redact_text(text) == text
    assert redact_file_text(text) == text


def test_an_assignment_beside_a_pin_is_still_redacted():
    text = "google-auth==2.63.0\nAPI_TOKEN=abcd1234efgh5678"
    assert redact_file_text(text) == f"google-auth==2.63.0\nAPI_TOKEN={REDACTED}"
    assert redact_text("pinned google-auth==2.63.0 with auth_token=abcd1234efgh5678") == \
        f"pinned google-auth==2.63.0 with auth_token={REDACTED}"
