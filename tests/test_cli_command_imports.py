"""The ``tracker`` command imports only the module of the command it runs (start-up time), and the
parser it builds for that command is the one the full parser holds."""
import subprocess
import sys

import pytest

from tracker.cli import COMMANDS, build_parser, command_named


def subparsers(parser):
    return parser._subparsers._group_actions[0].choices


@pytest.mark.parametrize("name", COMMANDS)
def test_a_commands_own_parser_is_the_full_parsers_subparser(name):
    alone = subparsers(build_parser(name))
    assert list(alone) == [name]
    assert alone[name].format_help() == subparsers(build_parser())[name].format_help()


def test_the_command_is_the_first_argument_unless_an_option_comes_first():
    assert command_named(["ls", "--json"]) == "ls"
    assert command_named(["--help"]) is None
    assert command_named(["--version", "ls"]) is None
    assert command_named([]) is None
    assert sorted(subparsers(build_parser(None))) == sorted(COMMANDS)
    assert sorted(subparsers(build_parser("nosuch"))) == sorted(COMMANDS)


def test_tracker_ls_loads_no_other_commands_module(tmp_path):
    script = ("import sys\nfrom tracker.cli import main\nmain(['ls', '--runs', sys.argv[1]])\n"
              "print(' '.join(m for m in sys.modules if m.startswith('tracker.cli.')))")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1].split() == ["tracker.cli.ls"], done.stdout


def test_an_unknown_command_still_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "lss"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice: 'lss'" in done.stderr and all(name in done.stderr for name in COMMANDS)
