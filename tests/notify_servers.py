"""Real servers on 127.0.0.1 for the notifier tests: an HTTP server receiving webhook posts and a
small SMTP server (the standard library's socketserver speaking enough SMTP for smtplib: EHLO,
STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; aiosmtpd is not installed here), plain, upgraded by
STARTTLS or TLS from the start, with a certificate for 127.0.0.1 that a CA made here signed."""
from __future__ import annotations

import base64
import datetime
import email
import email.policy
import ipaddress
import json
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


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


def make_certificates(folder: Path) -> dict:
    """A CA and a server certificate it signs for 127.0.0.1 (and one for 127.0.0.1 that signs
    itself, which no client trusts), as PEM files in ``folder``: {ca, cert, key, self_signed}."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(name, key, issuer_name, issuer_key, ca: bool):
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                            critical=True)
        else:
            builder = (builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                             critical=False)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        return builder.sign(issuer_key, hashes.SHA256())

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def pem(path: Path, cert) -> str:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return str(path)

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(name("tracker test CA"), ca_key, name("tracker test CA"), ca_key, ca=True)
    server = certificate(name("127.0.0.1"), server_key, ca.subject, ca_key, ca=False)
    alone = certificate(name("127.0.0.1"), server_key, name("127.0.0.1"), server_key, ca=False)
    key = folder / "server.key"
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return {"ca": pem(folder / "ca.pem", ca), "cert": pem(folder / "server.pem", server), "key": str(key),
            "self_signed": pem(folder / "self-signed.pem", alone)}


class SmtpServer:
    """Keeps each message received: its envelope, the parsed message, the AUTH PLAIN user and
    password (to check they came from the environment) and the TLS version it came over, if any.
    ``tls``: None (plain), "starttls" (offered after EHLO; AUTH offered only once upgraded) or
    "smtps" (TLS from the first byte), with ``certificate`` and ``key`` (PEM files). A handshake
    that failed (the client refused the certificate), or any error of a connection, is kept in
    ``errors``."""

    def __init__(self, tls: str | None = None, certificate: str | None = None, key: str | None = None):
        self.messages: list[dict] = []
        self.errors: list[str] = []
        context = None
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate, key)
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self):
                if tls == "smtps":
                    self.request = context.wrap_socket(self.request, server_side=True)
                super().setup()

            def upgrade(self) -> None:
                self.connection = context.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")

            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")
                self.wfile.flush()

            def handle(self):
                envelope = {"from": None, "to": [], "auth": None,
                            "tls": self.connection.version() if isinstance(self.connection, ssl.SSLSocket) else None}
                self.reply("220 127.0.0.1 test SMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").rstrip("\r\n")
                    verb = command.split(" ", 1)[0].upper()
                    upgraded = isinstance(self.connection, ssl.SSLSocket)
                    if verb == "EHLO":
                        self.reply("250-127.0.0.1")
                        if tls == "starttls" and not upgraded:
                            self.reply("250 STARTTLS")
                        else:
                            self.reply("250 AUTH PLAIN")
                    elif verb == "STARTTLS" and tls == "starttls" and not upgraded:
                        self.reply("220 2.0.0 ready to start TLS")
                        self.upgrade()
                        envelope = {"from": None, "to": [], "auth": None, "tls": self.connection.version()}
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

        class Server(socketserver.ThreadingTCPServer):
            def handle_error(self, request, client_address):
                server.errors.append(repr(sys.exc_info()[1]))

        self.tcp = Server(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.port = self.tcp.server_address[1]
        threading.Thread(target=self.tcp.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()

    def __enter__(self) -> SmtpServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
