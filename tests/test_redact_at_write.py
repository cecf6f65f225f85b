"""Issue 11 section 5, client side: secrets are redacted in the records themselves, as they are written.

A runs folder gets copied and shared, so no file of a run may hold a secret: checked byte for byte
over every file, in real runs and real child processes.
"""
import os
import pathlib
import subprocess
import sys

import pytest

import tracker
from tracker.reader import load_run
from tests.scripts import run_script, script_env, write_script

GITHUB_TOKEN = "ghp_" + "RunNameTokenRunNameTokenRunNameToken"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecret"
SLACK_HOOK = "https://hooks.slack.com/services/T0000/B0000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"


def everything_in(folder) -> bytes:
    return b"".join(path.read_bytes() for path in pathlib.Path(folder).rglob("*") if path.is_file())


def assert_no_secret(folder, *secrets: str) -> None:
    data = everything_in(folder)
    for secret in secrets:
        assert secret.encode() not in data, f"{secret} is in a file of {folder}"


def test_name_group_tags_notes_traceback_and_dataset_are_redacted_in_the_records(tmp_path):
    dataset = f"s3://{AWS_KEY}:{AWS_SECRET}@bucket/train.csv"
    with pytest.raises(RuntimeError):
        with tracker.init(dir=tmp_path / "runs", capture=False, project=f"p-{GITHUB_TOKEN}",
                          name=f"run {GITHUB_TOKEN}", group=f"Bearer short1", tags=[f"k-{GITHUB_TOKEN}", "plain"],
                          notes=f"export WANDB_API_KEY=notes-secret-1\nposted to {SLACK_HOOK}") as run:
            run.log({"loss": 1.0})
            run.log_dataset(dataset, name="train")
            run.set_notes(f"db at admin:notes-secret-2@db.internal:5432")
            run.add_tags(f"Authorization: Basic dGFnLXNlY3JldA==")
            raise RuntimeError(f"cannot reach https://user:{GITHUB_TOKEN}@github.com (PGPASSWORD=tb-secret-3)")
    assert_no_secret(run.path, GITHUB_TOKEN, AWS_KEY, AWS_SECRET, "short1", "notes-secret-1", "notes-secret-2",
                     "dGFnLXNlY3JldA", "tb-secret-3", "XXXXXXXXXXXXXXXXXXXXXXXX")
    record = load_run(run.path)
    assert record.name == "run [REDACTED]" and record.project == "p-[REDACTED]"
    assert record.tags == ["k-[REDACTED]", "plain", "Authorization: Basic [REDACTED]"]
    assert record.notes == "db at [REDACTED]@db.internal:5432"
    assert "RuntimeError: cannot reach https://github.com (PGPASSWORD=[REDACTED])" in record.error
    [stored] = record.datasets
    assert stored["path"] == "s3://bucket/train.csv" and stored["error"] == "s3://bucket/train.csv does not exist"
    assert run.name == record.name  # the run object shows what was stored


def test_config_values_under_new_secret_names_are_redacted_and_ordinary_ones_kept(tmp_path):
    config = {"pass": "c-secret-1", "db_pass": "c-secret-2", "PGPASSWORD": "c-secret-3", "client_secret": "c-secret-4",
              "max_tokens": 512, "keyframes": 3, "passes": 3, "p": 0.5, "eos_token": "</s>",
              "cmd": "curl -H 'Authorization: Bearer c-secret-5' https://api"}
    with tracker.init(dir=tmp_path, capture=False, config=config) as run:
        pass
    assert_no_secret(run.path, *(f"c-secret-{index}" for index in range(1, 6)))
    assert load_run(run.path).config == {
        "pass": "[REDACTED]", "db_pass": "[REDACTED]", "PGPASSWORD": "[REDACTED]", "client_secret": "[REDACTED]",
        "max_tokens": 512, "keyframes": 3, "passes": 3, "p": 0.5, "eos_token": "</s>",
        "cmd": "curl -H 'Authorization: [REDACTED]' https://api"}


def test_command_line_password_flags_and_headers_are_redacted(tmp_path):
    result = run_script(tmp_path, """
        import sys, tracker
        with tracker.init(dir=sys.argv[1], capture={"git": False, "environment": False, "hardware": False}) as run:
            run.log({"x": 1})
    """, str(tmp_path / "runs"), "-p", "argv-secret-1", "--pass", "argv-secret-2", "PGPASSWORD=argv-secret-3",
        "-H", "Authorization: Basic YXJndi1zZWNyZXQ=", "--header", "X-Api-Key: argv-secret-5", "p", "7")
    assert result.returncode == 0, result.stderr
    [record] = tracker.runs(tmp_path / "runs")
    assert_no_secret(record.path, "argv-secret-1", "argv-secret-2", "argv-secret-3", "YXJndi1zZWNyZXQ",
                     "argv-secret-5")
    assert record.code["command"][2:] == ["-p", "[REDACTED]", "--pass", "[REDACTED]", "PGPASSWORD=[REDACTED]",
                                          "-H", "Authorization: Basic [REDACTED]", "--header",
                                          "X-Api-Key: [REDACTED]", "p", "7"]


PRINTER = """
    import os, sys, time, tracker
    run = tracker.init(dir=sys.argv[1], capture={"git": False, "code": False, "environment": False,
                                                  "hardware": False, "system": False})
    print("step 1 loss=0.5 max_tokens=512", flush=True)
    print("token %s in a line" % sys.argv[2], flush=True)
    sys.stderr.write("export API_KEY=console-secret-1\\n")
    sys.stderr.flush()
    os.write(1, b"split ghp_" + b"Split" * 3)          # a token cut across two writes ...
    time.sleep(0.05)
    os.write(1, b"TokenSplitTokenSplitToken1 end\\n")  # ... is still redacted whole
    os.write(1, b"not utf-8: caf\\xe9 Authorization: Bearer console-secret-2\\n")
    print("progress 50%\\rprogress 100% Bearer console-secret-3", end="", flush=True)
    run.finish()
"""


def test_console_log_is_redacted_line_by_line_and_the_terminal_is_unchanged(tmp_path):
    script = write_script(tmp_path, PRINTER)
    result = subprocess.run([sys.executable, script, str(tmp_path / "runs"), GITHUB_TOKEN], capture_output=True,
                            env=script_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    split_token = "ghp_" + "Split" * 3 + "TokenSplitTokenSplitToken1"
    # The terminal sees exactly what was printed, secrets included: redaction is for the copy on disk.
    assert f"token {GITHUB_TOKEN} in a line".encode() in result.stdout
    assert split_token.encode() in result.stdout and b"caf\xe9" in result.stdout
    assert b"API_KEY=console-secret-1" in result.stderr
    [record] = tracker.runs(tmp_path / "runs")
    log = pathlib.Path(record.path, "console.log").read_bytes()
    for secret in (GITHUB_TOKEN, split_token, "console-secret-1", "console-secret-2", "console-secret-3"):
        assert secret.encode() not in log
    assert log.split(b"\n") == [
        b"step 1 loss=0.5 max_tokens=512", b"token [REDACTED] in a line", b"export API_KEY=[REDACTED]",
        b"split [REDACTED] end", b"not utf-8: caf\xe9 Authorization: [REDACTED]",
        b"progress 50%\rprogress 100% [REDACTED]"]


def test_console_cap_still_holds_with_redaction(tmp_path):
    result = run_script(tmp_path, """
        import sys
        from tracker.console import ConsoleCapture
        capture = ConsoleCapture(sys.argv[1], max_bytes=4096)
        capture.start()
        for index in range(500):
            print(f"line {index} token=abcdefgh{index}")
        capture.stop()
    """, str(tmp_path / "console.log"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("token=abcdefgh") == 500
    log = (tmp_path / "console.log").read_bytes()
    assert log.endswith(b"[console capture stopped at 4096 bytes]\n")
    assert len(log) <= 4096 + len(b"\n[console capture stopped at 4096 bytes]\n")
    assert b"abcdefgh" not in log and b"token=[REDACTED]" in log


def test_secret_environment_is_never_in_the_run_even_through_the_console(tmp_path):
    env = script_env(WANDB_API_KEY="env-secret-value-1")
    result = run_script(tmp_path, """
        import os, sys, tracker
        with tracker.init(dir=sys.argv[1]) as run:
            print("WANDB_API_KEY=" + os.environ["WANDB_API_KEY"])
    """, str(tmp_path / "runs"), env=env)
    assert result.returncode == 0, result.stderr
    assert "env-secret-value-1" in result.stdout
    assert_no_secret(tmp_path / "runs", "env-secret-value-1")
    assert os.environ.get("WANDB_API_KEY") != "env-secret-value-1"
