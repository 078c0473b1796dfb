"""The one email policy: how a message is built, turned into bytes and read back.

Why not ``email.policy.SMTP`` as it is: when a header line would pass 78 characters the
standard library folds an unbreakable token, such as a long ``<https://...>`` unsubscribe
link, into RFC 2047 encoded words (``=?utf-8?q?=3Chttps...?=``). Gmail and others then ignore
``List-Unsubscribe`` altogether, and one-click unsubscribe silently disappears. Headers that
carry URLs are therefore folded only between their ``<...>`` items and never encoded (RFC 2369
URLs are ASCII). A message read back from the outbox keeps its header lines as written
(``refold_source="none"``), so a resend is byte for byte the message first sent.

Apprise targets (``json://``, ``slack://``...) are not addresses: in ``To`` the standard
library would mangle them, so a message for one carries its URL in :data:`TARGET_HEADER`.
"""

from __future__ import annotations

import email
import re
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy, Policy

#: Where a message for an Apprise URL keeps its target (never an email header a client reads).
TARGET_HEADER = "X-Mediamon-Target"

#: RFC 8058's one-click value, exactly.
ONE_CLICK = "List-Unsubscribe=One-Click"

_ITEM = re.compile(r"<[^<>]*>")


class UrlListHeader(UnstructuredHeader, BaseHeader):
    """A header of ``<URL>`` items (RFC 2369): folded between items, never encoded."""

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        items = _ITEM.findall(value)
        rest = _ITEM.sub("", value).replace(",", "").strip()
        if not value.isascii() or (not items and not value.strip()) or (rest and items):
            return super().fold(policy=policy)
        if not items:
            items = [value.strip()]  # a bare URL (the Apprise target): one unbroken line
        maxlen = policy.max_line_length or 998
        lines = [f"{self.name}: {items[0]}"]
        for item in items[1:]:
            if len(lines[-1]) + 2 + len(item) <= maxlen:
                lines[-1] += f", {item}"
            else:
                lines[-1] += ","
                lines.append(f" {item}")
        return str(policy.linesep).join(lines) + str(policy.linesep)


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("list-unsubscribe", "list-help", "list-archive", TARGET_HEADER.lower()):
        registry.map_to_type(name, UrlListHeader)
    return registry


#: CRLF line ends, 7-bit headers, URL headers kept whole; source lines kept as read.
POLICY: EmailPolicy[EmailMessage] = SMTP.clone(header_factory=_registry(), refold_source="none")


def new_message() -> EmailMessage:
    return EmailMessage(policy=POLICY)


def to_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire and into the outbox."""
    return message.as_bytes(policy=POLICY)


def from_bytes(data: bytes) -> EmailMessage:
    """A message back from the outbox or a ``.eml`` file, ready to send again unchanged."""
    return email.message_from_bytes(data, policy=POLICY)
