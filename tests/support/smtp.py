"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and can refuse.

``reply`` sets the answer to the next DATA commands: None accepts, ``"451 ..."`` is a
temporary refusal, ``"550 ..."`` a permanent one. Messages are kept parsed, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.net import free_port


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # as received on the wire
    reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd calls the handler by this name.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self.raw.append(bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """``(smtp_url, mailbox)`` of a server listening on a free loopback port while in use."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()
