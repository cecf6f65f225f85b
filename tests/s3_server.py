"""A real S3-compatible server for tests: moto's S3 app under werkzeug on 127.0.0.1, recording every request.

As s3fs's own test suite does, but in this process, so a test counts the requests a command made
(``requests``: method, path, query) and reads what was stored. ``s3_environment`` sets what a CI
job sets for s3fs: dummy credentials and the endpoint (botocore reads AWS_ENDPOINT_URL).
"""
from __future__ import annotations

import socket
import threading

import pytest

from frameworks import require_framework

require_framework("s3fs", extra="s3")
moto_server = require_framework("moto.server", extra="dev")

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402  (comes with moto[server])

ACCESS_KEY_ID = "AKIATRACKERSTORETEST1"
SECRET_ACCESS_KEY = "tracker-store-test-secret-never-in-a-record"


class QuietRequestHandler(WSGIRequestHandler):
    def log(self, *args) -> None:  # one line per request would bury a failure's output
        pass

    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        super().finish()
        self.server.open_connections.discard(self.connection)


class S3Server:
    """moto's S3 app on a free port of 127.0.0.1; ``requests`` lists what it answered, in order. It
    can go down (``stop``: listening socket closed, open connections reset, a real outage) and come
    back on the same port (``start``) with the objects it held: moto keeps them in this process."""

    def __init__(self):
        self.requests: list[tuple[str, str, str]] = []
        app = moto_server.DomainDispatcherApplication(moto_server.create_backend_app)

        def recording(environ, start_response):
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                  environ.get("QUERY_STRING", "")))
            return app(environ, start_response)

        self.app = recording
        self.port = 0
        self.start()

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True, request_handler=QuietRequestHandler)
        self.server.open_connections = set()
        self.port = self.server.server_port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def object_gets(self, bucket: str) -> list[str]:
        """The keys of the objects read (GET of a key; a listing is a GET of the bucket itself)."""
        prefix = f"/{bucket}/"
        return sorted(path[len(prefix):] for method, path, query in self.requests
                      if method == "GET" and path.startswith(prefix) and len(path) > len(prefix))

    def listings(self, bucket: str) -> int:
        """How many listing requests (ListObjectsV2 pages) the bucket answered."""
        return sum(1 for method, path, query in self.requests
                   if method == "GET" and path.rstrip("/") == f"/{bucket}" and "list-type=2" in query)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for connection in list(self.server.open_connections):  # keep-alive connections too
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def s3_server():
    """One server for a test module (import this fixture into it)."""
    server = S3Server()
    yield server
    server.stop()


def s3_environment(monkeypatch, endpoint: str) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
