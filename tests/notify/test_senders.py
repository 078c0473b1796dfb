"""notify/senders.py against real servers on 127.0.0.1: aiosmtpd (plain, STARTTLS, implicit
TLS, AUTH, refusals), dead ports and silent sockets, a folder, and a JSON webhook for Apprise.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notify import mime
from notify.addresses import is_apprise_url, is_email
from notify.render import render_digest
from notify.senders import (
    AppriseSender,
    FileSender,
    MemorySender,
    PermanentSendError,
    SendError,
    SmtpSender,
    TransientSendError,
    sender_for,
)
from tests.notify.digest_data import CorpusDigest, build_corpus_digest, envelope_for
from tests.support.net import free_port

USER = "digest@mediamon.example"
PASSWORD = "p@ss:w/rd%"  # every character a URL must escape
URL_CREDENTIALS = "digest%40mediamon.example:p%40ss%3Aw%2Frd%25"


@pytest.fixture(scope="module")
def corpus_digest() -> CorpusDigest:
    return build_corpus_digest()


# --- a real SMTP server ---------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: bytes | None
    tls: bool


@dataclass
class Mailbox:
    """aiosmtpd's handler: refuses ``nobody@`` at RCPT (550) and ``later@`` at DATA (451)."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(r.startswith("later@") for r in envelope.rcpt_tos):
            return "451 4.3.0 Mailbox busy, try again later"
        login = session.auth_data.login if session.authenticated else None
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login, tls(server, session)
            )
        )
        return "250 2.0.0 Accepted"


def tls(server: Any, session: Any) -> bool:
    """Upgraded by STARTTLS (session.ssl) or TLS from the first byte (an SSL transport)."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd answers 235, or 535 on failure, itself.
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, **options
    )
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made by Debian's openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@pytest.fixture(scope="module")
def digest_message(corpus_digest: CorpusDigest) -> EmailMessage:
    return render_digest(corpus_digest.digest, corpus_digest.envelope)


def message_to(corpus_digest: CorpusDigest, address: str) -> EmailMessage:
    digest = corpus_digest.digest
    return render_digest(digest, envelope_for(address, subscription_id=digest.subscription_id))


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def assert_same_digest(received: bytes, sent: EmailMessage) -> None:
    got = parse(received)
    assert got["Message-ID"] == sent["Message-ID"] == "<digest.42.20250429@mediamon.example>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["List-Unsubscribe"] == str(sent["List-Unsubscribe"])
    assert got.get_content_type() == "multipart/alternative"
    text, html = (p for p in got.iter_parts())
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert "YOUR WEEKLY DIGEST" in text.get_content()
    assert "<mark" in html.get_content()


# --- SMTP -----------------------------------------------------------------------------------


def test_smtp_delivers_with_login_from_the_url(digest_message: EmailMessage) -> None:
    with smtp_server(auth_require_tls=False) as (port, mailbox):
        SmtpSender.from_url(f"smtp://{URL_CREDENTIALS}@127.0.0.1:{port}", timeout=5).send(digest_message)
    [got] = mailbox.received
    assert got.rcpt_tos == ["analyst@example.org"]
    assert got.mail_from == "digest@mediamon.example"
    assert got.login == USER.encode()
    assert not got.tls  # loopback catcher without STARTTLS: plain is allowed there
    assert_same_digest(got.content, digest_message)
    # The wire carries the message exactly as rendered (and as the outbox keeps it).
    assert got.content.rstrip(b"\r\n") == mime.to_bytes(digest_message).rstrip(b"\r\n")


def test_smtp_uses_starttls_when_offered(digest_message: EmailMessage, certificate: Certificate) -> None:
    options = {"tls_context": certificate.server(), "require_starttls": True}
    with smtp_server(**options) as (port, mailbox):  # AUTH only after STARTTLS (the default)
        url = f"smtp://{URL_CREDENTIALS}@127.0.0.1:{port}"
        SmtpSender.from_url(url, timeout=5, ssl_context=certificate.client()).send(digest_message)
    [got] = mailbox.received
    assert got.tls and got.login == USER.encode()
    assert_same_digest(got.content, digest_message)


def test_smtps_is_tls_from_the_first_byte(digest_message: EmailMessage, certificate: Certificate) -> None:
    # aiosmtpd does not see implicit TLS as TLS for its AUTH rule: it is, so AUTH is allowed.
    with smtp_server(ssl_context=certificate.server(), auth_require_tls=False) as (port, mailbox):
        url = f"smtps://{URL_CREDENTIALS}@127.0.0.1:{port}"
        SmtpSender.from_url(url, timeout=5, ssl_context=certificate.client()).send(digest_message)
        with pytest.raises(PermanentSendError, match="certificate"):  # the system does not trust it
            SmtpSender.from_url(url, timeout=5).send(digest_message)
    [got] = mailbox.received
    assert got.tls
    assert_same_digest(got.content, digest_message)


def test_smtp_refusals_by_reply_code(corpus_digest: CorpusDigest) -> None:
    with smtp_server(auth_require_tls=False) as (port, mailbox):
        sender = SmtpSender.from_url(f"smtp://127.0.0.1:{port}", timeout=5)
        with pytest.raises(PermanentSendError, match="550"):
            sender.send(message_to(corpus_digest, "nobody@example.org"))
        with pytest.raises(TransientSendError, match="451"):
            sender.send(message_to(corpus_digest, "later@example.org"))
        wrong = SmtpSender.from_url(f"smtp://{USER}:wrong@127.0.0.1:{port}", timeout=5)
        with pytest.raises(PermanentSendError, match="535"):
            wrong.send(message_to(corpus_digest, "analyst@example.org"))
    assert mailbox.received == []


def test_smtp_connection_refused_is_transient(digest_message: EmailMessage) -> None:
    with pytest.raises(TransientSendError, match="ConnectionRefused"):
        SmtpSender.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=2).send(digest_message)


def test_smtp_silent_server_times_out_transiently(digest_message: EmailMessage) -> None:
    with socket.socket() as listener:  # accepts the connection (backlog), never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(TransientSendError, match=r"[Tt]imeout|timed out"):
            SmtpSender.from_url(f"smtp://127.0.0.1:{port}", timeout=0.3).send(digest_message)


def test_smtp_dropped_connection_is_transient(digest_message: EmailMessage) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        with pytest.raises(TransientSendError, match=r"Disconnected|closed"):
            SmtpSender.from_url(f"smtp://127.0.0.1:{port}", timeout=2).send(digest_message)
        thread.join(timeout=2)


def test_smtp_url_rules() -> None:
    plain = SmtpSender.from_url("smtp+insecure://mailpit")
    assert (plain.host, plain.port, plain.security, plain.username) == ("mailpit", 25, "plain", None)
    tls = SmtpSender.from_url("smtps://u%40x.org:p%2Fw@mail.example.org")
    assert (tls.port, tls.security, tls.username, tls.password) == (465, "tls", "u@x.org", "p/w")
    assert SmtpSender.from_url("smtp://mail.example.org").port == 587
    assert "p/w" not in repr(tls)  # the password never lands in a log line
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ValueError, match="SMTP URL"):
            SmtpSender.from_url(bad)


def test_smtp_refuses_a_message_without_a_good_address(corpus_digest: CorpusDigest) -> None:
    message = message_to(corpus_digest, "json://127.0.0.1:9/hook")  # no To at all
    with pytest.raises(PermanentSendError, match="To"):
        SmtpSender.from_url("smtp://127.0.0.1:9").send(message)


# --- folder and memory ----------------------------------------------------------------------


def test_file_sender_writes_a_whole_eml(tmp_path: Path, digest_message: EmailMessage) -> None:
    folder = tmp_path / "outbox"
    FileSender(folder).send(digest_message)
    [written] = folder.iterdir()  # no temporary file left behind
    assert re.fullmatch(r"\d{8}T\d{12}Z-digest\.42\.20250429_mediamon\.example\.eml", written.name)
    assert written.read_bytes() == mime.to_bytes(digest_message)
    assert_same_digest(written.read_bytes(), digest_message)


def test_file_sender_unwritable_folder_is_transient(tmp_path: Path, digest_message: EmailMessage) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TransientSendError, match="cannot write"):
        FileSender(blocker).send(digest_message)


def test_memory_sender(digest_message: EmailMessage) -> None:
    sender = MemorySender(failures=[TransientSendError("down")])
    with pytest.raises(TransientSendError):
        sender.send(digest_message)
    sender.send(digest_message)
    assert sender.sent == [digest_message]


# --- Apprise --------------------------------------------------------------------------------


class Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, str, dict[str, Any]]]  # set per server below
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers.get("Content-Type", ""), json.loads(body)))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return


@contextmanager
def webhook(status: int = 200) -> Iterator[tuple[int, list[tuple[str, str, dict[str, Any]]]]]:
    received: list[tuple[str, str, dict[str, Any]]] = []
    handler = type("BoundHook", (Hook,), {"received": received, "status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_apprise_posts_the_json_webhook(corpus_digest: CorpusDigest) -> None:
    with webhook() as (port, received):
        message = message_to(corpus_digest, f"json://127.0.0.1:{port}/hook")
        AppriseSender().send(message)
    [(path, content_type, payload)] = received
    assert path == "/hook"
    assert content_type.startswith("application/json")
    assert payload["title"] == "mediamon weekly digest, 30 Apr 2025: 11 stories, 3 claims"
    assert payload["message"].startswith("YOUR WEEKLY DIGEST")
    assert corpus_digest.titles[0].split(":")[0] in payload["message"]


def test_apprise_failures(corpus_digest: CorpusDigest, digest_message: EmailMessage) -> None:
    with webhook(status=503) as (port, received):
        with pytest.raises(TransientSendError):
            AppriseSender().send(message_to(corpus_digest, f"json://127.0.0.1:{port}/hook"))
        assert len(received) == 1
    with pytest.raises(TransientSendError):  # nobody listening
        AppriseSender().send(message_to(corpus_digest, f"json://127.0.0.1:{free_port()}/hook"))
    with pytest.raises(PermanentSendError):  # an email message has no Apprise target
        AppriseSender().send(digest_message)
    with pytest.raises(PermanentSendError, match="does not understand"):
        AppriseSender().send(message_to(corpus_digest, "nosuchservice://token"))


# --- addresses and routing ------------------------------------------------------------------


def test_sender_for_routes_by_address() -> None:
    mail, apprise = MemorySender(), MemorySender()
    assert sender_for("analyst@example.org", mail=mail, apprise=apprise) is mail
    assert sender_for("slack://TokenA/TokenB/TokenC/#desk", mail=mail, apprise=apprise) is apprise
    assert sender_for("json://127.0.0.1:8080/hook", mail=mail, apprise=apprise) is apprise
    with pytest.raises(PermanentSendError):
        sender_for("not an address", mail=mail, apprise=apprise)


@pytest.mark.parametrize(
    "address",
    ["analyst@example.org", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x@bücher.example"],
)
def test_good_email_addresses(address: str) -> None:
    assert is_email(address)
    assert not is_apprise_url(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "analyst",
        "analyst@",
        "@example.org",
        "analyst@localhost",
        "analyst@example",
        "two@at@example.org",
        "a..b@example.org",
        ".a@example.org",
        "a b@example.org",
        " analyst@example.org",
        "Analyst <analyst@example.org>",
        "analyst@example.org, other@example.org",
        "analyst@-example.org",
        "analyst@example.123",
        "analyst@[127.0.0.1]",
        "mailto://analyst@example.org",
        "analyst@example.org\r\nBcc: victim@example.org",
        "x" * 65 + "@example.org",
    ],
)
def test_bad_email_addresses(address: str) -> None:
    assert not is_email(address)


def test_send_errors_form_one_tree() -> None:
    assert issubclass(TransientSendError, SendError) and issubclass(PermanentSendError, SendError)
    assert not issubclass(TransientSendError, PermanentSendError)
