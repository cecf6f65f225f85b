"""No secret reaches a run folder: environment, config, command line, git remote."""
import subprocess

from tests.scripts import run_script, script_env

ENV_TOKEN = "ghp_" + "EnvTokenEnvTokenEnvTokenEnvToken1234"
CONFIG_SECRET = "config-secret-value-7c1d"
CLI_KEY = "cli-api-key-value-93ab"
CLI_TOKEN = "cli-token-value-5e2f"
URL_TOKEN = "url-token-value-44aa"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_secrets_are_redacted_from_every_file_of_the_run(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "a@b.c")
    git(repo, "config", "user.name", "A")
    (repo / "README").write_text("x\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    git(repo, "remote", "add", "origin", f"https://user:{URL_TOKEN}@github.com/org/repo.git")
    result = run_script(repo, """
        import sys, tracker
        with tracker.init(project="s", dir=sys.argv[-1], config={"api_key": "%s", "lr": 0.1}) as run:
            run.log({"loss": 1.0})
    """ % CONFIG_SECRET, "--api-key", CLI_KEY, f"--token={CLI_TOKEN}", "--lr", "0.1", str(tmp_path / "runs"),
        env=script_env(MY_SERVICE_TOKEN=ENV_TOKEN, HF_TOKEN=ENV_TOKEN), cwd=repo)
    assert result.returncode == 0, result.stderr
    files = [path for path in (tmp_path / "runs").rglob("*") if path.is_file()]
    everything = b"".join(path.read_bytes() for path in files)
    assert b'"type":"git"' in everything and b'"type":"code"' in everything  # capture did run
    assert b"github.com/org/repo.git" in everything and b"--lr" in everything
    for secret in (ENV_TOKEN, CONFIG_SECRET, CLI_KEY, CLI_TOKEN, URL_TOKEN):
        assert secret.encode() not in everything, f"{secret} leaked into {[str(p) for p in files]}"


def test_import_is_light():
    import sys

    probe = subprocess.run([sys.executable, "-c", "import sys, tracker; "
                            "print(sorted(m for m in ('git', 'psutil', 'numpy', 'jinja2', 'plotly') if m in sys.modules))"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"
