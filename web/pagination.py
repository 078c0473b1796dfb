"""Opaque cursors for the read API's pages.

A cursor is the position of the last item of a page (``(date, id)`` for newest-first lists,
an id for the knowledge base and feeds), written as URL-safe base64 of JSON. Clients pass it
back as it is; its content is no contract, so the listing order may change without breaking
them. A cursor that does not decode is the client's mistake: :class:`BadCursor` (a 422).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeGuard

from services.browse import Position

#: The longest cursor any page hands out is far shorter; longer input is not even decoded.
MAX_CURSOR = 512


_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")  # a knowledge-base id (matching.kb)


class BadCursor(ValueError):
    """Not a cursor this API handed out."""


def encode(value: Position | str | int) -> str:
    payload: Any = [value[0].isoformat(), value[1]] if isinstance(value, tuple) else value
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _payload(cursor: str) -> Any:
    if len(cursor) > MAX_CURSOR:
        raise BadCursor("the cursor is too long")
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(f"not a cursor of this listing: {cursor[:40]!r}") from exc


def position(cursor: str | None) -> Position | None:
    """The (date, id) a newest-first cursor holds."""
    if cursor is None:
        return None
    payload = _payload(cursor)
    try:
        at, row_id = payload
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("a naive time")
        moment = moment.astimezone(UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BadCursor(f"not a cursor of this listing: {cursor[:40]!r}") from exc
    if not _row_id(row_id):
        raise BadCursor(f"not a cursor of this listing: {cursor[:40]!r}")
    return moment, row_id


def key(cursor: str | None) -> str | None:
    """The id a knowledge-base cursor holds."""
    if cursor is None:
        return None
    payload = _payload(cursor)
    if not isinstance(payload, str) or not _KEY.fullmatch(payload):
        raise BadCursor(f"not a cursor of this listing: {cursor[:40]!r}")
    return payload


def number(cursor: str | None) -> int | None:
    """The id a feed cursor holds."""
    if cursor is None:
        return None
    payload = _payload(cursor)
    if not _row_id(payload):
        raise BadCursor(f"not a cursor of this listing: {cursor[:40]!r}")
    return payload


def _row_id(value: Any) -> TypeGuard[int]:
    """A row id as the store keeps them (32-bit on PostgreSQL)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
