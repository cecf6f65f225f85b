"""Email over TLS against a real SMTP server on 127.0.0.1: upgraded by STARTTLS and TLS from the
start (smtps://), its certificate signed by a CA made here and named with cafile= or
TRACKER_SMTP_CAFILE; an untrusted certificate fails saying so before any password is sent, and the
login never reaches a run's records."""
from __future__ import annotations

import pytest

import tracker
from tests.notify_servers import SmtpServer, make_certificates
from tests.test_notifiers import EVENT
from tracker.notify.errors import NotifyError, NotifySpecError
from tracker.notify.specs import notifier_from

PASSWORD = "hunter2-over-tls"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def login(monkeypatch):
    monkeypatch.setenv("TRACKER_SMTP_USER", "bot")
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", PASSWORD)
    monkeypatch.delenv("TRACKER_SMTP_CAFILE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


def serving(tls: str, certificates: dict, certificate: str = "cert") -> SmtpServer:
    return SmtpServer(tls=tls, certificate=certificates[certificate], key=certificates["key"])


def test_starttls_upgrades_before_logging_in_and_trusts_the_ca_of_cafile(certificates, login):
    with serving("starttls", certificates) as server:
        notifier_from(f"smtp://127.0.0.1:{server.port}?to=ops@example.org&starttls=1&cafile={certificates['ca']}").send(EVENT)
    [received] = server.messages
    assert received["tls"].startswith("TLSv1.") and received["auth"] == ("bot", PASSWORD)
    assert received["to"] == ["ops@example.org"]
    assert received["message"]["Subject"] == "[error] vision/lr-sweep-3: loss <diverged> & more"
    assert server.errors == []


def test_smtps_is_tls_from_the_start_with_the_ca_from_the_environment(certificates, login, monkeypatch):
    monkeypatch.setenv("TRACKER_SMTP_CAFILE", certificates["ca"])
    with serving("smtps", certificates) as server:
        notifier_from(f"smtps://127.0.0.1:{server.port}?to=ops@example.org").send(EVENT)
    [received] = server.messages
    assert received["tls"].startswith("TLSv1.") and received["auth"] == ("bot", PASSWORD)


def test_ssl_cert_file_is_honoured_as_openssl_does(certificates, login, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificates["ca"])
    with serving("smtps", certificates) as server:
        notifier_from(f"smtps://127.0.0.1:{server.port}?to=ops@example.org").send(EVENT)
    assert [received["auth"] for received in server.messages] == [("bot", PASSWORD)]


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
@pytest.mark.parametrize("trusted", ["ca", None])
def test_an_untrusted_certificate_fails_clearly_before_the_password_is_sent(certificates, login, tls, trusted):
    scheme, upgrade = ("smtp", "&starttls=1") if tls == "starttls" else ("smtps", "")
    cafile = f"&cafile={certificates['ca']}" if trusted else ""
    with serving(tls, certificates, certificate="self_signed") as server, pytest.raises(NotifyError) as caught:
        notifier_from(f"{scheme}://127.0.0.1:{server.port}?to=ops@example.org{upgrade}{cafile}").send(EVENT)
    by = f"the CA file {certificates['ca']}" if trusted else "the system's CAs"
    assert str(caught.value) == (
        f"email via 127.0.0.1:{server.port} to ops@example.org: the server's TLS certificate is not trusted "
        f"(self-signed certificate) by {by}; name the CA that signed it with cafile=PATH in the spec or "
        "TRACKER_SMTP_CAFILE")
    assert server.messages == [] and PASSWORD not in str(caught.value)
    assert len(server.errors) == 1 and "SSL" in server.errors[0]  # the handshake the client broke off


def test_starttls_on_a_server_without_it_fails_without_logging_in_in_the_clear(login):
    with SmtpServer() as server:  # plain, offering no STARTTLS
        with pytest.raises(NotifyError) as caught:
            notifier_from(f"smtp://127.0.0.1:{server.port}?to=ops@example.org&starttls=1").send(EVENT)
    assert str(caught.value).endswith("SMTPNotSupportedError: STARTTLS extension not supported by server.")
    assert server.messages == []


@pytest.mark.parametrize("spec, message", [
    ("smtps://mail.example.org?to=a@b.c&starttls=1",
     "notifier 'smtps://mail.example.org/...': starttls=1 upgrades a plain connection, and smtps:// is TLS from "
     "the start: use smtp://...?starttls=1 (port 587) or smtps:// (port 465)"),
    ("smtps://mail.example.org?to=a@b.c&cafile=/nonexistent/ca.pem",
     "notifier 'smtps://mail.example.org/...': cannot read the CA file /nonexistent/ca.pem (cafile= or "
     "TRACKER_SMTP_CAFILE): No such file or directory"),
    ("smtp://mail.example.org?to=a@b.c&cafile=/etc/ssl/ca.pem",
     "notifier 'smtp://mail.example.org/...': cafile= names the CA of a TLS connection: add starttls=1, "
     "or use smtps://"),
])
def test_a_tls_spec_that_cannot_work_is_refused_at_once(spec, message):
    with pytest.raises(NotifySpecError) as caught:
        notifier_from(spec)
    assert str(caught.value).startswith(f"{message}; a notifier is one of:")


def test_a_ca_file_that_holds_no_certificate_is_refused_at_once(tmp_path):
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(NotifySpecError, match=f"cannot read the CA file {junk} "):
        notifier_from(f"smtps://mail.example.org?to=a@b.c&cafile={junk}")


def test_the_login_never_reaches_the_runs_records(certificates, login, tmp_path):
    with serving("starttls", certificates) as server:
        spec = f"smtp://127.0.0.1:{server.port}?to=ops@example.org&starttls=1&cafile={certificates['ca']}"
        run = tracker.init(project="vision", name="tls", dir=str(tmp_path), capture=False, notify=spec)
        run.log({"loss": 1.0}, step=0)
        run.alert("loss is NaN", "at step 0", level="error")
        run.finish()
    [received] = server.messages
    assert received["tls"] and received["auth"] == ("bot", PASSWORD)
    assert received["message"]["Subject"] == "[error] vision/tls: loss is NaN"
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name.endswith(".jsonl") for path in written)
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), path
