"""``tracker diff RUN_A RUN_B``: config and metric differences, as Markdown for a pull request."""
from __future__ import annotations

import argparse
import os

from ..code_diff import code_difference_text, find_repository
from ..listing import find_run
from ..reader import load_run
from ..rundiff import DIRECTION_RULE, compare, render_markdown, render_text
from . import add_runs_option


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "diff", help="compare two runs: changed config, metrics with B−A, git/data/package changes",
        description="Compare run B against baseline run A: config keys that differ, every summary metric "
                    "with the change B−A and the relative change, and a note when the git commit, datasets "
                    f"(by sha256) or package versions differ. Verdicts: {DIRECTION_RULE}.",
        epilog="examples:\n  tracker diff baseline candidate --runs tracker-runs\n"
               "  tracker diff main-runs/20261123-094237-k3x9a2bq k3x9 --format text\n"
               "  tracker diff \"$MAIN_RUN\" \"$PR_RUN\" >> \"$GITHUB_STEP_SUMMARY\"\n"
               "  tracker diff --code baseline candidate   # in the repository: git diff of their commits too",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a", metavar="RUN_A", help="baseline: run id, unique id prefix, name, or run folder path")
    parser.add_argument("run_b", metavar="RUN_B", help="compared run: run id, unique id prefix, name, or run folder path")
    add_runs_option(parser, several=True)
    parser.add_argument("--format", choices=["md", "text"], default="md",
                        help="md: GitHub Markdown tables (default); text: aligned columns")
    parser.add_argument("--all", action="store_true", help="show unchanged config keys too")
    parser.add_argument("--code", action="store_true",
                        help="print the code difference instead: git diff between the runs' commits (when run inside "
                             "the repository that has both), then between their uncommitted patches and entry scripts")
    parser.set_defaults(handler=run_diff)


def run_diff(args) -> int:
    a, b = resolve_run(args.run_a, args.runs), resolve_run(args.run_b, args.runs)
    if args.code:
        print(code_difference_text(a, b, a.name or a.id, b.name or b.id, find_repository(os.getcwd())), end="")
        return 0
    diff = compare(a, b, all_config=args.all)
    print(render_markdown(diff) if args.format == "md" else render_text(diff), end="")
    return 0


def resolve_run(query: str, roots: list[str] | None):
    """A run folder given by path (e.g. from another CI run's artifact), else a run found in ``roots``."""
    if os.path.isdir(query):
        return load_run(query)
    return find_run(query, *(roots or []))
