"""``tracker watch``: follow runs folders and notify when a run fails, crashes, stalls, alerts or breaks a rule."""
from __future__ import annotations

import argparse
import re
import signal
import sys
import threading

from ..notify.specs import ENV_VARIABLE, notifiers_from, specs_from_env
from . import add_runs_option

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
ONCE_SEND_WAIT_S = 120.0  # --once waits this long at most for its events to be sent


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "watch", help="notify (webhook, Slack, email, a command) when runs fail, crash, stall or alert",
        description="Follow runs folders and send a notification when a run fails (with the end of its "
                    "traceback), crashes (its heartbeat lost), stalls (alive, no new step for --stall-after), "
                    "records an alert (run.alert) or breaks a rule of --rules. Each event is sent once: "
                    "what was sent is kept in <runs>/.tracker-watch.json, so a restart sends nothing twice. "
                    "On a folder's first watch, what is already there is recorded, not sent "
                    "(--send-existing sends it). See docs/alerts.md.",
        epilog="notifier specs (--notify, or $TRACKER_NOTIFY one per line):\n"
               "  https://HOST/PATH              JSON webhook: the event POSTed as JSON\n"
               "  slack+https://HOST/PATH        Slack-compatible incoming webhook\n"
               "  smtp://HOST:PORT?to=a@b.c      email; &starttls=1, &from=; TRACKER_SMTP_USER/_PASSWORD\n"
               "  cmd:COMMAND                    a command, the event JSON on its stdin\n"
               "  '$NAME' or 'slack+$NAME'       the URL from the environment variable NAME\n"
               "examples:\n"
               "  tracker watch --runs tracker-runs --notify 'slack+$SLACK_WEBHOOK_URL' --stall-after 30m\n"
               "  tracker watch --notify 'smtp://mail.example.org:587?to=me@example.org&starttls=1' \\\n"
               "      --rules rules.yaml --base-url https://team.example.org/experiments/\n"
               "  tracker watch --once --notify 'cmd:notify-send tracker'      # e.g. from cron",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser, several=True)
    parser.add_argument("--notify", action="append", metavar="SPEC",
                        help=f"where to send (repeat for several; default ${ENV_VARIABLE})")
    parser.add_argument("--rules", metavar="FILE", help="a YAML file of metric rules (docs/alerts.md, \"Rules\")")
    parser.add_argument("--stall-after", metavar="DURATION",
                        help="notify when a running run logs no new step for this long: 90s, 30m, 2h (default: never)")
    parser.add_argument("--base-url", metavar="URL", help="where the site is published: events link to the run's page")
    parser.add_argument("--once", action="store_true", help="look once, send what is new, and exit (for cron)")
    parser.add_argument("--send-existing", action="store_true",
                        help="on a folder's first watch, send the events already there instead of recording them")
    parser.set_defaults(handler=run_watch)


def run_watch(args) -> int:
    from ..watch import Watcher
    from ..watch_rules import load_rules

    specs = args.notify or specs_from_env()
    if not specs:
        raise ValueError(f"no notifier: pass --notify SPEC or set ${ENV_VARIABLE} (see tracker watch --help)")
    notifiers = notifiers_from(specs)
    stall_after_s = parse_duration(args.stall_after) if args.stall_after else None
    rules = load_rules(args.rules) if args.rules else []
    watcher = Watcher(args.runs, notifiers, rules=rules, stall_after_s=stall_after_s, base_url=args.base_url,
                      send_existing=args.send_existing, report=lambda line: print(line, flush=True))
    if args.once:
        watcher.check()
        return 0 if watcher.sender.wait(ONCE_SEND_WAIT_S) else 1
    print(f"watching {', '.join(watcher.roots)}; notifying {', '.join(watcher.sender.notifier_names)}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    try:
        watcher.follow(stop)
    except KeyboardInterrupt:
        stop.set()
        print("stopped", file=sys.stderr, flush=True)
    return 0


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``30m``, ``2h`` or ``1d``; ValueError naming --stall-after otherwise."""
    match = DURATION.match(text.strip())
    if not match:
        raise ValueError(f"--stall-after {text!r}: expected a duration such as 90s, 30m, 2h or 1d")
    return float(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]
