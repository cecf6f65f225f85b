"""Email over SMTP (smtplib): ``smtp://HOST:PORT?to=a@b.c,d@e.f`` with STARTTLS on request, ``smtps://`` for TLS.

The user and password come from ``TRACKER_SMTP_USER`` and ``TRACKER_SMTP_PASSWORD`` only (a URL
holding them is refused: specs end up in shell history and scripts). The host and port may come
from ``TRACKER_SMTP_HOST`` and ``TRACKER_SMTP_PORT`` (``smtp://?to=...``); the sender address
from ``from=`` or ``TRACKER_SMTP_FROM``, else ``tracker@<this host>``. Over TLS the server's
certificate is checked against the system's CAs (OpenSSL's ``SSL_CERT_FILE`` replaces them for the
whole process), or against ``cafile=PATH`` or ``TRACKER_SMTP_CAFILE`` alone: a server whose
certificate a private CA signed.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from .errors import NotifyError, NotifySpecError
from .event import Event

SMTP_TIMEOUT_S = 20.0
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE_WORDS = ("1", "true", "yes", "on")


class EmailNotifier:
    """One email per event to ``to``; ``starttls`` upgrades a plain connection before logging in,
    and ``cafile`` names the CA that signed the server's certificate."""

    def __init__(self, spec: str):
        url = urlsplit(spec)
        if url.username or url.password:
            raise NotifySpecError(spec, "put the SMTP user and password in TRACKER_SMTP_USER and "
                                        "TRACKER_SMTP_PASSWORD, not in the spec")
        query = parse_qs(url.query)
        unknown = sorted(set(query) - {"to", "from", "starttls", "cafile"})
        if unknown:
            raise NotifySpecError(spec, f"unknown parameter(s) {', '.join(unknown)}; use to=, from=, starttls=1, cafile=")
        self.to = [address.strip() for value in query.get("to", []) for address in value.split(",") if address.strip()]
        if not self.to:
            raise NotifySpecError(spec, "no recipient: add ?to=someone@example.org")
        self.tls = url.scheme == "smtps"
        self.host = url.hostname or os.environ.get("TRACKER_SMTP_HOST")
        if not self.host:
            raise NotifySpecError(spec, "no host: smtp://HOST:PORT?to=... or TRACKER_SMTP_HOST")
        try:
            port = url.port or os.environ.get("TRACKER_SMTP_PORT") or DEFAULT_PORTS[url.scheme]
            self.port = int(port)
        except ValueError:
            raise NotifySpecError(spec, "the port is not a number (in the spec or TRACKER_SMTP_PORT)") from None
        self.starttls = query.get("starttls", ["0"])[-1].lower() in TRUE_WORDS
        if self.starttls and self.tls:
            raise NotifySpecError(spec, "starttls=1 upgrades a plain connection, and smtps:// is TLS from the start: "
                                        "use smtp://...?starttls=1 (port 587) or smtps:// (port 465)")
        if "cafile" in query and not (self.tls or self.starttls):
            raise NotifySpecError(spec, "cafile= names the CA of a TLS connection: add starttls=1, or use smtps://")
        cafile = (query.get("cafile") or [os.environ.get("TRACKER_SMTP_CAFILE") or None])[-1]
        self.cafile = os.path.abspath(cafile) if cafile else None  # a script that changes directory still finds it
        if self.cafile:
            try:  # a CA file that cannot be read is found now, not at the first alert
                self.tls_context()
            except (OSError, ssl.SSLError) as exc:
                raise NotifySpecError(spec, f"cannot read the CA file {self.cafile} (cafile= or TRACKER_SMTP_CAFILE): "
                                            f"{exc.strerror or exc}") from None
        self.sender = (query.get("from") or [os.environ.get("TRACKER_SMTP_FROM") or f"tracker@{socket.gethostname()}"])[-1]
        self.name = f"email via {self.host}:{self.port} to {', '.join(self.to)}"

    def send(self, event: Event) -> None:
        message = EmailMessage()
        message["Subject"] = event.subject()
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message.set_content(event.plain_text())
        user, password = os.environ.get("TRACKER_SMTP_USER"), os.environ.get("TRACKER_SMTP_PASSWORD")
        try:
            if self.tls:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_S, context=self.tls_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S)
            with connection:
                if self.starttls:
                    connection.starttls(context=self.tls_context())
                if user and password:
                    connection.login(user, password)
                connection.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(self.name, f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except ssl.SSLCertVerificationError as exc:
            trusted = f"the CA file {self.cafile}" if self.cafile else "the system's CAs"
            raise NotifyError(self.name, f"the server's TLS certificate is not trusted ({exc.verify_message}) by "
                                         f"{trusted}; name the CA that signed it with cafile=PATH in the spec or "
                                         "TRACKER_SMTP_CAFILE") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(self.name, f"{type(exc).__name__}: {exc}") from None

    def tls_context(self) -> ssl.SSLContext:
        """Checks the server's certificate and host name: against ``cafile`` alone when given."""
        return ssl.create_default_context(cafile=self.cafile)


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
