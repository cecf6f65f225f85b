"""Real servers on 127.0.0.1 for the notifier tests: an HTTP server receiving webhook posts and a
small SMTP server (the standard library's socketserver speaking enough SMTP for smtplib: EHLO,
AUTH PLAIN, MAIL, RCPT, DATA, QUIT; aiosmtpd is not installed here)."""
from __future__ import annotations

import base64
import email
import email.policy
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookServer:
    """Records every POST (path, JSON body, time received). The first ``fail_first`` requests,
    or all of them with ``always_fail``, are answered ``fail_status``."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False, fail_status: int = 500):
        self.posts: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.fail_status = fail_status
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server.lock:
                    server.attempts += 1
                    failing = server.always_fail or server.attempts <= server.fail_first
                    if not failing:
                        server.posts.append({"path": self.path, "json": json.loads(body), "time": time.time(),
                                             "content_type": self.headers.get("Content-Type")})
                self.send_response(server.fail_status if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_port}/hooks/T000/B000/s3cretpath"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= count:
                    return list(self.posts)
            time.sleep(0.02)
        return list(self.posts)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


class SmtpServer:
    """Keeps each message received: its envelope, the parsed message and the AUTH PLAIN user and
    password (to check they came from the environment)."""

    def __init__(self):
        self.messages: list[dict] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")
                self.wfile.flush()

            def handle(self):
                envelope = {"from": None, "to": [], "auth": None}
                self.reply("220 127.0.0.1 test SMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").rstrip("\r\n")
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-127.0.0.1")
                        self.reply("250 AUTH PLAIN")
                    elif verb == "HELO":
                        self.reply("250 127.0.0.1")
                    elif verb == "AUTH":
                        _, user, password = base64.b64decode(command.split()[2]).decode().split("\0")
                        envelope["auth"] = (user, password)
                        self.reply("235 2.7.0 authenticated")
                    elif verb == "MAIL":
                        envelope["from"] = command.split(":", 1)[1].strip().split()[0].strip("<>")
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        envelope["to"].append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = []
                        while (part := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(part[1:] if part.startswith(b"..") else part)
                        message = email.message_from_bytes(b"".join(data), policy=email.policy.default)
                        server.messages.append({**envelope, "to": list(envelope["to"]), "message": message})
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP
                        self.reply("250 ok")

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.port = self.tcp.server_address[1]
        threading.Thread(target=self.tcp.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()
