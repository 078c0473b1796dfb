"""Opaque, signed unsubscribe tokens: the subscription id, signed with the secret key.

A token in a link must say which subscription to end without letting anyone end another
(an id alone could be counted up), and without a login (RFC 8058 one-click). itsdangerous
signs the id with ``MEDIAMON_SECRET_KEY`` and the salt ``"unsubscribe"``, so a token made for
another purpose with the same key cannot be replayed here.

No expiry, on purpose: an unsubscribe link in a digest from last year must still work, and
laws on commercial mail (CAN-SPAM, the GDPR's right to object) expect exactly that. Rotating
the secret key is how every outstanding token is withdrawn.
"""

from __future__ import annotations

from itsdangerous import BadData, URLSafeSerializer

SALT = "unsubscribe"


def _serializer(secret: str) -> URLSafeSerializer:
    if not secret:
        raise ValueError("an empty secret key signs nothing: set MEDIAMON_SECRET_KEY")
    return URLSafeSerializer(secret, salt=SALT)


def make_token(secret: str, subscription_id: int) -> str:
    """A URL-safe token naming ``subscription_id``, e.g. ``NDI.x3b...``."""
    return _serializer(secret).dumps(subscription_id)


def read_token(secret: str, token: str) -> int | None:
    """The subscription id, or None for a tampered, foreign or garbled token."""
    try:
        value = _serializer(secret).loads(token)
    except BadData:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value
