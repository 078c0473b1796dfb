"""What a subscriber's address is: an email address, or an Apprise URL for anything else.

One rule, used by the CLI when a subscription is added, by the renderer (``To`` or the target
header) and by :func:`notify.senders.sender_for`: an address with a scheme (``slack://``,
``json://``, ``mailto://``...) is an Apprise URL; one without a scheme and with an ``@`` is an
email address. Email addresses are checked with a simple but strict rule: a bare ``addr-spec``
(no display name, no comments, no quoted local part, no IP literal) whose domain has at least
two DNS labels; anything else is refused before it reaches an SMTP server.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Literal

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# RFC 5322 atext, dot-separated (no leading, trailing or double dot).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def address_kind(address: str) -> Literal["email", "apprise"] | None:
    """What the address is, or None when it is neither (the callers say why in their terms)."""
    if is_apprise_url(address):
        return "apprise"
    return "email" if is_email(address) else None


def is_apprise_url(address: str) -> bool:
    """``slack://...``, ``json://host/path``: a notification URL Apprise understands."""
    return bool(_SCHEME.match(address.strip()))


def is_email(address: str) -> bool:
    """A bare, plausible email address such as ``analyst@example.org``."""
    if address != address.strip() or is_apprise_url(address) or len(address) > 254:
        return False
    name, parsed = parseaddr(address)
    if name or parsed != address:
        return False
    local, at, domain = parsed.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL.match(local):
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")  # IDN domains, as DNS sees them
    except UnicodeError:
        return False
    labels = ascii_domain.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()
