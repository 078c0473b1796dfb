"""Handing a rendered message to the world: one small Protocol, four implementations.

The service layer holds a :class:`Sender` chosen by the wiring from settings (SMTP when
``MEDIAMON_SMTP_URL`` is set, else a folder of ``.eml`` files, so a fresh install works end to
end) plus an :class:`AppriseSender` for non-email targets, and picks one per address with
:func:`sender_for`. A sender either returns (the message was accepted) or raises::

    SendError
    ├── TransientSendError   worth retrying with backoff: refused or reset connections,
    │                        timeouts, DNS trouble, SMTP 4xx, a webhook that did not answer
    └── PermanentSendError   retrying cannot help: SMTP 5xx, a bad address or URL,
                             a server that will not do the TLS the URL asks for

The outbox keeps the Message-ID, so a retry after a transient error resends the same message.

The SMTP URL (:meth:`SmtpSender.from_url`), one rule:

- ``smtps://user:pass@host[:465]``: implicit TLS from the first byte.
- ``smtp://user:pass@host[:587]``: STARTTLS, required, except towards a loopback host
  (``localhost``, 127.0.0.0/8, ``::1``), where a server that offers no STARTTLS (a local
  catcher) is spoken to in plain text; when offered, STARTTLS is always used.
- ``smtp+insecure://host[:25]``: plain text, no STARTTLS, for a catcher on a private network
  (docker-compose). Say it in the URL, or it does not happen.

User and password are percent-decoded (``%40`` for an ``@`` in a user name). One connection
per message: a digest run sends at most a few thousand, and a fresh connection cannot be left
half-broken by the previous message. Certificates are checked against the system's roots.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import ipaddress
import os
import smtplib
import ssl
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

from notify.addresses import address_kind, is_apprise_url, is_email
from notify.mime import TARGET_HEADER, to_bytes

Security = Literal["tls", "starttls", "plain"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtps": ("tls", 465),
    "smtp": ("starttls", 587),
    "smtp+insecure": ("plain", 25),
}


class SendError(Exception):
    """A message was not accepted; the subclass says whether to try again."""


class TransientSendError(SendError):
    """Worth retrying later: the network or the server is having a bad moment."""


class PermanentSendError(SendError):
    """Retrying cannot help: the server refused this message or this address for good."""


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to its recipient, or raise a :class:`SendError`."""


def sender_for(address: str, *, mail: Sender, apprise: Sender) -> Sender:
    """The sender for a subscriber's address: Apprise for a URL, ``mail`` for an email address."""
    kind = address_kind(address)
    if kind is not None:
        return apprise if kind == "apprise" else mail
    raise PermanentSendError(f"neither an email address nor an Apprise URL: {address!r}")


def recipient(message: EmailMessage) -> str:
    """The one email address in ``To``, checked; a missing or bad one is permanent."""
    header = message["To"]
    addresses: tuple[Address, ...] = getattr(header, "addresses", ()) if header is not None else ()
    if len(addresses) != 1 or not is_email(addresses[0].addr_spec):
        raise PermanentSendError(f"the message needs exactly one valid To address, not {str(header)!r}")
    return addresses[0].addr_spec


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 30, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpSender:
        """``smtp://``, ``smtps://`` or ``smtp+insecure://`` (see the module docstring).

        A malformed URL is a :class:`ValueError`: it is a setting, read once at start-up, and
        must fail loudly there rather than per message.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ValueError(f"SMTP URL must be smtp://, smtps:// or smtp+insecure://, not {scheme!r}")
        if not parts.hostname:
            raise ValueError("SMTP URL has no host")
        security, default_port = _SCHEMES[scheme]
        try:
            port = parts.port or default_port
        except ValueError as exc:
            raise ValueError(f"SMTP URL has a bad port: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
            ssl_context=ssl_context,
        )

    def send(self, message: EmailMessage) -> None:
        to = recipient(message)
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        try:
            self._secure_and_login(smtp)
            refused = smtp.send_message(message, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        finally:
            # The server has the message once send_message returns: a failed QUIT must not
            # turn that into an error, or a retry would send it twice.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
        if refused:
            code, reply = refused[to]
            raise _by_code(code, f"recipient refused: {code} {reply.decode(errors='replace')}")

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self.security == "starttls":
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._context())
                smtp.ehlo()
            elif not _is_loopback(self.host):
                raise PermanentSendError(
                    f"{self.host} does not offer STARTTLS; use smtps:// or, on a private network, smtp+insecure://"
                )
        if self.username is not None:
            smtp.login(self.username, self.password or "")

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()


def _classify(exc: BaseException) -> SendError:
    """Map what smtplib and the socket raise to the two kinds of send error."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return _by_code(min(codes, default=550), f"recipient refused: {exc.recipients}")
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data, auth, connect, helo
        reply = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return _by_code(exc.smtp_code, f"SMTP {exc.smtp_code} {reply}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # no AUTH, no SMTPUTF8 for this address
        return PermanentSendError(f"SMTP server cannot do what this message needs: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentSendError(f"TLS certificate not trusted: {exc}")
    # Disconnects, refused or reset connections, timeouts, DNS failures, TLS hiccups, and any
    # other SMTP trouble without a reply code: try again later (the outbox bounds the attempts).
    return TransientSendError(f"{type(exc).__name__}: {exc}")


def _by_code(code: int, text: str) -> SendError:
    return PermanentSendError(text) if 500 <= code < 600 else TransientSendError(text)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- folder, Apprise, memory --------------------------------------------------------------


@dataclass(frozen=True)
class FileSender:
    """Writes each message as ``<UTC timestamp>-<message id>.eml``: the embedded default.

    Written to a temporary name in the same folder and renamed, so a reader (or a crash) never
    sees half a file.
    """

    folder: Path

    def send(self, message: EmailMessage) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{stamp}-{_file_safe(str(message['Message-ID'] or 'no-id'))}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".eml.tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(to_bytes(message))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:  # a full disk empties again; a read-only folder is fixed by hand
            raise TransientSendError(f"cannot write {path}: {exc}") from exc


def _file_safe(message_id: str) -> str:
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in message_id.strip("<> "))
    return kept[:120] or "no-id"


@dataclass(frozen=True)
class AppriseSender:
    """Non-email targets (Slack, Teams, a JSON webhook...) through Apprise.

    The title is the subject, the body the text/plain part. The target URL comes from the
    message (:data:`notify.mime.TARGET_HEADER`); Apprise reports only success or failure, so a
    failure is transient, and the outbox's attempt limit ends a target that never answers.
    """

    def send(self, message: EmailMessage) -> None:
        apprise = _apprise()

        url = str(message[TARGET_HEADER] or "").strip()
        if not is_apprise_url(url):
            raise PermanentSendError(f"the message has no Apprise URL in {TARGET_HEADER}")
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
        notifier = apprise.Apprise(asset=asset)
        if not notifier.add(url):
            raise PermanentSendError("Apprise does not understand this URL")
        text = message.get_body(preferencelist=("plain",))
        body = text.get_content() if isinstance(text, EmailMessage) else ""
        title = str(message["Subject"] or "").strip()
        if not notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
            raise TransientSendError("Apprise could not deliver the notification")


@functools.cache
def _apprise() -> ModuleType:
    """Apprise, imported on first use: its plugins make the import heavy. Its e-mail plugin
    (loaded lazily, on the first URL) imports ``imghdr``, deprecated on Python 3.11-3.12: a
    warning that is Apprise's to fix, so the module is imported here once, quietly."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
        with contextlib.suppress(ImportError):  # gone in 3.13, where Apprise brings a shim
            importlib.import_module("imghdr")
        import apprise
    return apprise


@dataclass
class MemorySender:
    """Keeps what it is given, for unit tests; ``failures`` are raised first, one per send."""

    sent: list[EmailMessage] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
