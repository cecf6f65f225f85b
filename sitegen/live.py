"""Live preview for ``tracker serve``: serve a built site over HTTP and rebuild it as the runs change.

The site on disk stays a plain static site. Live reload is a layer of this server only: each
.html response gets one <script> that polls the server for the page's version and reloads the
page when a rebuild changed it (the URL hash survives a reload; the scroll position is kept in
sessionStorage). Rebuilds are incremental (see manifest.py) and coalesced: the watcher hands over
every change seen since the last rebuild as one batch, so a sweep of twenty runs logging at once
costs one rebuild, not twenty.
"""
from __future__ import annotations

import errno
import functools
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import watchfiles

from tracker.run_keys import is_run_folder_name
from tracker.layout import runs_root

from .build import BuildOptions, BuildReport, build
from .errors import PortInUseError, SiteError
from .reports import default_reports_folder

LIVE_SCRIPT_PATH = "/__tracker_live.js"
VERSION_PATH = "/__tracker_live/version"
DEBOUNCE_MS = 400           # changes are gathered this long at most before a rebuild starts
MIN_REBUILD_GAP_S = 0.5     # rebuilds start at most this often; changes meanwhile wait as one batch
RUNNING_RECHECK_S = 2.0     # while a run is running, rebuild this often even when no file changes,
                            # so a killed run (its heartbeat gone stale) turns "crashed" on its page
WATCH_TIMEOUT_MS = 1000     # how often the watcher wakes without changes to check the above
WATCH_RETRY_S = 1.0         # pause before watching again after watching itself failed

LIVE_RELOAD_JS = """\
/* Live reload, added by `tracker serve` to the pages it serves; never written into the site.
 * Reads: GET /__tracker_live/version?page=PATH -> {"version": n}, once a second; the version the
 * page was served at is this <script>'s data-version. Keeps the scroll position and any chart the
 * reader zoomed (plotly axis ranges, by the chart's figure) across the reload, in sessionStorage. */
(function () {
  "use strict";
  var served = document.currentScript && document.currentScript.dataset.version;
  var key = "tracker-live-scroll:" + location.pathname;
  var zoomKey = "tracker-live-zoom:" + location.pathname;
  function chartName(plot) {
    var figure = plot.closest("figure");
    return plot.id || (figure ? (figure.dataset.kind || "") + ":" + figure.dataset.metric : "");
  }
  function saveZoom() {
    var zoom = {};
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      var layout = plot.layout || {}, x = layout.xaxis || {}, y = layout.yaxis || {};
      if (x.autorange === false || y.autorange === false) {
        zoom[chartName(plot)] = {x: x.autorange === false ? x.range : null, y: y.autorange === false ? y.range : null};
      }
    });
    sessionStorage.setItem(zoomKey, JSON.stringify(zoom));
  }
  function restoreZoom() {
    var saved = JSON.parse(sessionStorage.getItem(zoomKey) || "{}");
    sessionStorage.removeItem(zoomKey);
    if (!window.Plotly) return;
    var tries = 0;
    // Charts are drawn as they come into view (run-charts.js), so some are drawn after "load":
    // look for the zoomed ones a while, and zoom each once it is drawn.
    (function apply() {
      document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
        var name = chartName(plot), zoom = saved[name];
        if (!zoom) return;
        delete saved[name];
        var update = {};
        if (zoom.x) update["xaxis.range"] = zoom.x;
        if (zoom.y) update["yaxis.range"] = zoom.y;
        window.Plotly.relayout(plot, update);
      });
      if (Object.keys(saved).length && ++tries < 50) setTimeout(apply, 100);
    })();
  }
  var saved = sessionStorage.getItem(key);
  // This script comes after the page's own: the charts in view are drawn already, so zoom them now,
  // before the page's first paint where the browser allows, not at "load".
  restoreZoom();
  var restore = function () {
    if (saved) {
      sessionStorage.removeItem(key);
      var xy = JSON.parse(saved);
      window.scrollTo(xy[0], xy[1]);
    }
  };
  if (document.readyState === "complete") { restore(); } else { window.addEventListener("load", restore); }
  function check() {
    fetch("__VERSION_PATH__?page=" + encodeURIComponent(location.pathname), {cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (String(data.version) !== served) {
          sessionStorage.setItem(key, JSON.stringify([window.scrollX, window.scrollY]));
          saveZoom();
          location.reload();
          return;
        }
        setTimeout(check, 1000);
      })
      .catch(function () { setTimeout(check, 1000); });  // the server is restarting or gone
  }
  setTimeout(check, 1000);
})();
""".replace("__VERSION_PATH__", VERSION_PATH)


class LiveSite:
    """A site kept up to date: rebuilds on demand and remembers which build last wrote each page."""

    def __init__(self, options: BuildOptions, on_build=None, on_error=None):
        self.options = options
        self.on_build = on_build or (lambda report: None)
        self.on_error = on_error or (lambda message: print(f"tracker: warning: {message}", file=sys.stderr))
        self.roots = [runs_root(root) for root in (options.runs or [None])]
        # Reports are pages too: saving one rebuilds the site as a run's new record does.
        self.reports = os.path.abspath(options.reports or default_reports_folder(options.runs))
        self._lock = threading.Lock()
        self._build_number = 0
        self._page_builds: dict[str, int] = {}
        self._running = False
        self._last_build = 0.0

    def rebuild(self, quiet_if_unchanged: bool = False) -> BuildReport:
        """Build (incrementally once a site exists) and bump the version of every page written.
        ``quiet_if_unchanged``: no on_build for a build that rendered no run (a check that found
        nothing changed)."""
        report = build(self.options)
        with self._lock:
            self._build_number += 1
            for relative in report.written:
                if relative.endswith(".html"):
                    self._page_builds[relative] = self._build_number
            self._running = report.runs_running > 0
            self._last_build = time.monotonic()
        if report.runs_rendered or not quiet_if_unchanged:
            self.on_build(report)
        return report

    def page_version(self, url_path: str) -> int:
        """The number of the build that last wrote the page at ``url_path`` (the latest build if unknown)."""
        relative = urllib.parse.unquote(url_path).lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        with self._lock:
            return self._page_builds.get(relative, self._build_number)

    def watched_folders(self) -> list[str]:
        """The runs folders and the reports folder that exist now."""
        return [folder for folder in [*self.roots, self.reports] if os.path.isdir(folder)]

    def watch(self, stop: threading.Event) -> None:
        """Rebuild on each batch of changes under the runs and reports folders until ``stop`` is set.

        Nothing but ``stop`` ends it: a failed rebuild (a broken template, a worker killed, a bug)
        is reported in one line and the last good site stays served; if watching itself fails,
        or a runs folder appears or goes, watching starts again (and rebuilds)."""
        watched = None
        while not stop.is_set():
            roots = self.watched_folders()
            if watched is not None and roots != watched:
                self._rebuild_reporting_errors()
            watched = roots
            if not roots:  # no runs folder yet: look again in a while
                stop.wait(WATCH_TIMEOUT_MS / 1000)
                continue
            try:
                self._watch_roots(roots, stop)
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive anything that goes wrong
                self.on_error(f"watching {', '.join(roots)} failed: {_one_line(exc)}; watching again")
                stop.wait(WATCH_RETRY_S)

    def _watch_roots(self, roots: list[str], stop: threading.Event) -> None:
        """Watch ``roots`` until ``stop`` is set or the runs and reports folders that exist change."""
        out = os.path.abspath(self.options.out) + os.sep
        ignore = watchfiles.DefaultFilter()

        reports = self.reports + os.sep

        def in_a_run(path: str) -> bool:
            """Below a folder that may be a run: not, say, tracker ls's cache beside the runs; or a report."""
            if path.startswith(reports):
                return path.lower().endswith(".md")
            for root in roots:
                relative = os.path.relpath(path, root)
                if not relative.startswith(os.pardir):
                    return is_run_folder_name(relative.split(os.sep, 1)[0])
            return True

        caught_up = False
        for changes in watchfiles.watch(*roots, stop_event=stop, debounce=DEBOUNCE_MS, step=100,
                                        rust_timeout=WATCH_TIMEOUT_MS, yield_on_timeout=True,
                                        raise_interrupt=False,
                                        watch_filter=lambda change, path: ignore(change, path)
                                        and not path.startswith(out) and in_a_run(path)):
            if self.watched_folders() != roots:
                return
            if not caught_up:
                caught_up = True
                if not changes:
                    # The watch has begun (it waited a timeout for changes): what changed before it,
                    # during or after the last build, was not seen. A build finds it, and says
                    # nothing when it found nothing.
                    self._rebuild_reporting_errors(quiet_if_unchanged=True)
                    continue
            with self._lock:
                due = self._running and time.monotonic() - self._last_build >= RUNNING_RECHECK_S
                wait = MIN_REBUILD_GAP_S - (time.monotonic() - self._last_build)
            if not (changes or due):
                continue
            if wait > 0 and stop.wait(wait):
                break
            self._rebuild_reporting_errors()

    def _rebuild_reporting_errors(self, quiet_if_unchanged: bool = False) -> None:
        try:
            self.rebuild(quiet_if_unchanged)
        except Exception as exc:  # noqa: BLE001 - keep serving the last good site, and keep watching
            with self._lock:
                self._last_build = time.monotonic()  # the gap holds after a failure too
            self.on_error(f"rebuild failed: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    """An error as one line: the message of the tracker's own errors, the type too for the others."""
    text = str(exc) if isinstance(exc, (SiteError, OSError)) else f"{type(exc).__name__}: {exc}"
    return " ".join(line.strip() for line in text.splitlines())


class LiveHandler(SimpleHTTPRequestHandler):
    """Serves the site's files, adding the live-reload script to .html pages; nothing is cached."""

    def __init__(self, *args, live: LiveSite, **kwargs):
        self.live = live
        super().__init__(*args, **kwargs)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == VERSION_PATH:
            page = urllib.parse.parse_qs(url.query).get("page", ["/"])[0]
            return self._send(json.dumps({"version": self.live.page_version(page)}).encode(), "application/json")
        if url.path == LIVE_SCRIPT_PATH:
            return self._send(LIVE_RELOAD_JS.encode(), "text/javascript; charset=utf-8")
        path = self.translate_path(self.path)
        if os.path.isdir(path) and url.path.endswith("/"):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            version = self.live.page_version(url.path)  # read before the file: at worst one extra reload
            try:
                with open(path, encoding="utf-8") as handle:
                    html = handle.read()
            except OSError:
                return self.send_error(404, "File not found")
            return self._send(with_live_script(html, version).encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def end_headers(self):
        # Data files change in place between rebuilds; a cached copy would show a stale chart.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        pass  # one line per request would drown the rebuild reports

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def with_live_script(html: str, version: int) -> str:
    """``html`` with the live-reload <script> before its last </body> (at the end if it has none)."""
    tag = f'<script src="{LIVE_SCRIPT_PATH}" data-version="{version}"></script>\n'
    head, found, tail = html.rpartition("</body>")
    return f"{head}{tag}{found}{tail}" if found else html + tag


def bind(live: LiveSite, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``live``'s site on host:port (port 0: any free port); not yet serving."""
    handler = functools.partial(LiveHandler, live=live, directory=os.path.abspath(live.options.out))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from exc
        raise
    server.daemon_threads = True
    return server
