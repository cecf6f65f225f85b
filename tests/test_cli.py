"""The ``tracker`` command: exit codes, exact error lines, then the data."""
import json
import pathlib
import subprocess
import sys

import pytest

import tracker


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, lr, status_tags in [("base", 0.001, ["baseline"]), ("fast", 0.01, []), ("faster", 0.1, [])]:
        with tracker.init(project="mnist", name=name, config={"lr": lr, "opt": {"name": "adam"}},
                          tags=status_tags, dir=root, capture=False) as run:
            run.log({"acc": lr * 5, "loss": 1 - lr})
    with pytest.raises(RuntimeError):
        with tracker.init(project="other", name="broken", config={"lr": 0.5}, dir=root, capture=False) as run:
            raise RuntimeError("boom")
    return root


def test_version_and_help():
    assert cli("--version").stdout.strip() == f"tracker {tracker.__version__}"
    help_text = cli("--help").stdout
    for command in ("demo", "ls", "show"):
        assert command in help_text


def test_every_command_help_has_an_example():
    from tracker.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        assert "example" in (parser.epilog or ""), f"'tracker {name} --help' shows no example"


def test_a_command_whose_module_is_missing_is_an_error_not_a_missing_command(monkeypatch):
    import tracker.cli

    monkeypatch.setattr(tracker.cli, "COMMANDS", [*tracker.cli.COMMANDS, "publish"])
    with pytest.raises(ModuleNotFoundError, match="tracker.cli.publish"):
        tracker.cli.build_parser()


def test_ls_lists_runs_with_params_and_metrics(sweep):
    result = cli("ls", "--runs", str(sweep))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "project", "status", "start", "duration", "lr", "opt.name", "acc", "loss"]
    assert len(lines) == 2 + 4
    assert any("broken" in line and "failed" in line for line in lines)


def test_ls_filter_and_sort(sweep):
    result = cli("ls", "--runs", str(sweep), "--filter", "lr>=0.01 status=finished", "--sort=-lr")
    names = [line.split()[1] for line in result.stdout.splitlines()[2:]]
    assert names == ["faster", "fast"]
    tagged = cli("ls", "--runs", str(sweep), "--filter", "tag=baseline", "--json")
    assert [json.loads(line)["name"] for line in tagged.stdout.splitlines()] == ["base"]
    failed = cli("ls", "--runs", str(sweep), "--filter", "status=failed", "--json")
    assert [json.loads(line)["name"] for line in failed.stdout.splitlines()] == ["broken"]
    by_project = cli("ls", "--runs", str(sweep), "--project", "other", "--json")
    assert [json.loads(line)["project"] for line in by_project.stdout.splitlines()] == ["other"]


def test_invalid_filter_is_one_clear_line(sweep):
    result = cli("ls", "--runs", str(sweep), "--filter", "lr>=")
    assert result.returncode == 2
    assert result.stderr == "tracker: error: invalid filter 'lr>=': missing value after '>=' at position 4\n"


def test_show_by_name_and_id_prefix(sweep):
    by_name = cli("show", "broken", "--runs", str(sweep))
    assert by_name.returncode == 0, by_name.stderr
    assert "broken  [failed]" in by_name.stdout and "RuntimeError: boom" in by_name.stdout
    run_id = json.loads(cli("show", "base", "--runs", str(sweep), "--json").stdout)["id"]
    by_prefix = cli("show", run_id[:-3], "--runs", str(sweep))
    assert by_prefix.returncode == 0 and f"id        {run_id}" in by_prefix.stdout
    assert "opt.name" in by_prefix.stdout and "adam" in by_prefix.stdout


def test_show_unknown_and_ambiguous_runs_are_clear_errors(sweep):
    missing = cli("show", "nope", "--runs", str(sweep))
    assert missing.returncode == 2
    assert missing.stderr == f"tracker: error: no run with id, id prefix or name 'nope' in {sweep}\n"
    ambiguous = cli("show", "2", "--runs", str(sweep))
    assert ambiguous.returncode == 2 and "matches 4 runs" in ambiguous.stderr and "Traceback" not in ambiguous.stderr


def test_demo_logs_a_sweep_that_ls_shows(tmp_path):
    result = cli("demo", "--runs", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stdout + result.stderr
    listing = {json.loads(line)["name"]: json.loads(line) for line in
               cli("ls", "--runs", str(tmp_path / "runs"), "--json").stdout.splitlines()}
    assert len(listing) == 7
    assert listing["broken-loader"]["status"] == "failed"
    assert listing["baseline"]["status"] == "finished" and listing["baseline"]["summary"]["valid/acc"] > 0.7


def test_a_warning_is_one_plain_line_not_pythons_userwarning_format(tmp_path):
    with tracker.init(project="p", name="a", dir=tmp_path, capture=False) as run:
        run.log({"loss": 1.0})
    events = tmp_path / run.id / "events.jsonl"
    with open(events, "a") as handle:
        handle.write("not json\n")
    line_number = len(events.read_text().splitlines())
    result = cli("ls", "--runs", str(tmp_path))
    assert result.returncode == 0 and f"{run.id}  a  " in result.stdout
    assert result.stderr == f"tracker: warning: {events}:{line_number}: corrupt line (Expecting value); skipped\n"


def test_the_site_install_hint_names_the_folder_this_checkout_was_installed_from():
    """The README and .ci/run install this checkout editable; a light install from a folder gets
    the same kind of line (one from a wheel or the index names the distribution: test_light_install)."""
    from tracker.cli import site_install_command

    root = pathlib.Path(__file__).resolve().parents[1]
    assert site_install_command() == f"pip install -e '{root}[site]'"
