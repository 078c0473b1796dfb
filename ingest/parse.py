"""feedparser → :class:`Entry` records, from bytes.

feedparser never raises on bad input; it sets ``bozo``. A malformed feed that still yields
entries is used and its problem recorded (``ParsedFeed.problem``); one that yields no entry
and is not even recognisable as a feed is an error for that feed (``ParsedFeed.error``).

XML entity expansion: feedparser strips ``<!ENTITY`` declarations from the DOCTYPE before
parsing (``feedparser.api.replace_doctype``) and its SAX parser does not resolve external
entities, so neither "billion laughs" nor external-entity reads reach the parser; a test
feeds it both.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser


@dataclass(frozen=True)
class Entry:
    """One feed item: the unit the pipeline accepts into the store."""

    link: str
    entry_id: str | None = None
    title: str | None = None
    summary: str | None = None
    published: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None = None
    entries: list[Entry] = field(default_factory=list)
    problem: str | None = None  # bozo but usable
    error: str | None = None  # unusable: no entries and not a feed
    ttl_minutes: int | None = None  # what the feed says about how often to poll it


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes. Never raises: problems come back as ``problem``/``error``."""
    headers = {"content-location": url}
    # Fix: with response headers but no content-type, feedparser flags every feed as bozo
    # ("NonXMLContentType: no Content-type specified") and falls back to ISO-8859-1 instead of
    # UTF-8 for a feed without an XML declaration. Undeclared bytes are treated as generic XML.
    headers["content-type"] = content_type or "application/xml"
    try:
        parsed: Any = feedparser.parse(content, response_headers=headers, sanitize_html=True)
    except Exception as exc:
        return ParsedFeed(error=f"feed parser crashed: {type(exc).__name__}: {exc}")

    problem = None
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        problem = f"{type(reason).__name__}: {reason}" if reason else "malformed feed"

    entries = [entry for raw in parsed.get("entries", []) if (entry := _to_entry(raw, url)) is not None]
    if not entries and not parsed.get("version"):
        return ParsedFeed(error=f"not a feed or no entries ({problem or 'unknown format'})")
    return ParsedFeed(
        title=_text(parsed.get("feed", {}).get("title")),
        entries=entries,
        problem=problem,
        ttl_minutes=_ttl_minutes(parsed.get("feed", {})),
    )


def _to_entry(raw: Any, base_url: str) -> Entry | None:
    link = _text(raw.get("link"))
    if not link:
        # Some feeds only carry the permalink as the guid.
        guid = _text(raw.get("id"))
        if guid and guid.startswith(("http://", "https://")):
            link = guid
    if not link:
        return None
    return Entry(
        link=urljoin(base_url, link),
        entry_id=_text(raw.get("id")),
        title=_text(raw.get("title")),
        summary=_text(raw.get("summary")),
        published=_to_datetime(raw.get("published_parsed")),
        # dict.get: FeedParserDict.get would fall back to published_parsed with a DeprecationWarning.
        updated=_to_datetime(dict.get(raw, "updated_parsed")),
    )


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _to_datetime(value: Any) -> datetime | None:
    """feedparser normalises dates to UTC ``struct_time``; make them aware datetimes."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _ttl_minutes(feed: Any) -> int | None:
    """Minimum poll interval the feed advertises (RSS ``ttl`` or ``sy:updatePeriod``/``updateFrequency``)."""
    candidates: list[int] = []
    ttl = _text(feed.get("ttl"))
    if ttl and ttl.isdigit():
        candidates.append(int(ttl))
    period = _text(feed.get("sy_updateperiod"))
    frequency = _text(feed.get("sy_updatefrequency")) or "1"
    minutes = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}
    if period and period.lower() in minutes and frequency.isdigit() and int(frequency) > 0:
        candidates.append(minutes[period.lower()] // int(frequency))
    return max(candidates) if candidates else None
