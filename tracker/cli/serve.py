"""``tracker serve``: build the site, serve it on localhost and rebuild it live as runs log (see docs/site.md)."""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading

from ..store_urls import is_store_url, without_credentials
from . import SERVE_MODULES, add_runs_option, add_site_options, require_site_packages

LOCAL_HOST = "127.0.0.1"


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "serve", help="serve the site locally and rebuild it live while runs log",
        description="Build the site, serve it over HTTP and watch the runs folders: a change rebuilds "
                    "the pages it touches and open pages reload themselves, keeping their view.",
        epilog="examples:\n  tracker serve --runs tracker-runs            # then open http://127.0.0.1:8000/\n"
               "  tracker serve --runs tracker-runs --out site --port 8080 --host 0.0.0.0",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_runs_option(parser, several=True)
    parser.add_argument("--out", metavar="DIR",
                        help="where to build the site (default: a temporary folder, removed on exit)")
    parser.add_argument("--host", default=LOCAL_HOST,
                        help=f"address to listen on (default: {LOCAL_HOST}, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--reports", metavar="DIR",
                        help="folder of report Markdown files, watched like the runs: saving a report "
                             "rebuilds its page (default: reports/ beside the runs folder)")
    add_site_options(parser)
    parser.set_defaults(handler=run_serve)


def run_serve(args) -> int:
    require_site_packages("serve", SERVE_MODULES)
    from sitegen.build import BuildOptions
    from sitegen.live import LiveSite, bind

    from .build import report_line, report_warnings

    def on_build(report) -> None:
        for line in report_warnings(report):
            print(line, file=sys.stderr, flush=True)
        print(report_line(report), flush=True)

    if args.out and is_store_url(args.out):
        print(f"tracker serve: --out {without_credentials(args.out)}: serve builds into a local folder; "
              "publish to a bucket with 'tracker build --out URL'", file=sys.stderr)
        return 2
    temporary = None if args.out else tempfile.mkdtemp(prefix="tracker-site-")
    try:
        live = LiveSite(BuildOptions(runs=args.runs, out=args.out or temporary, title=args.title,
                                     theme=args.theme, reports=args.reports), on_build=on_build)
        server = bind(live, args.host, args.port)  # before building: a taken port fails at once
        try:
            live.rebuild()
            print(f"serving {live.options.out} at http://{args.host}:{server.server_port}/", flush=True)
            if args.host == LOCAL_HOST:
                print(f"serving on {LOCAL_HOST} only; use --host 0.0.0.0 to share on your network", flush=True)
            stop = threading.Event()
            watcher = threading.Thread(target=live.watch, args=(stop,), name="tracker-watch", daemon=True)
            watcher.start()
            stop_serving_on_signals(server)
            try:
                server.serve_forever()
                print("stopped", flush=True)
                # A late signal of a burst would now kill the process (the interpreter restores
                # the default handlers as it exits) and turn a clean stop into exit status -15.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            finally:
                stop.set()
                watcher.join(timeout=5)
        finally:
            server.server_close()
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


def stop_serving_on_signals(server) -> None:
    """Ctrl-C and SIGTERM end serve_forever() between two requests. Left to raise KeyboardInterrupt,
    Ctrl-C can land just after a connection is accepted; socketserver then closes that socket under
    the thread handling it, which prints a traceback and can stall the exit.

    The handler only writes a byte to a pipe, and a thread waiting on the pipe stops the server.
    Python runs a handler in the main thread between two bytecodes, even inside another handler, so
    a handler that takes a lock (Event.set, starting a thread) deadlocks when a second signal lands
    while the first holds it: 8 of 10 servers hung under a burst of signals. The pipe is never
    closed, so a signal after the stop is as harmless as one during it."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def request_stop(signum, frame):
        try:
            os.write(wake_write, b"\0")
        except OSError:
            pass  # the pipe is full: a stop is long requested

    def stop_when_asked():
        os.read(wake_read, 1)
        server.shutdown()  # returns once serve_forever() has

    threading.Thread(target=stop_when_asked, name="tracker-stop", daemon=True).start()
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
