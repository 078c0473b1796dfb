"""Feed lists (plain text or OPML) and per-feed schedule arithmetic.

Schedule rules, after Media Cloud's rss-fetcher:

* a successful poll adapts the interval to the share of entries already seen: all old →
  poll less often (×1.5), mostly new → more often (÷1.5), bounded by ``MIN_INTERVAL``,
  ``MAX_INTERVAL`` and never below what the feed itself advertises (RSS ``ttl``,
  ``sy:updatePeriod``);
* 304 Not Modified and an unchanged body count as "all old";
* soft failures (404, 429, 5xx, network) add 0.5 to the failure score, hard failures 1.0;
  the next attempt backs off exponentially in the score, honouring ``Retry-After``;
* a feed whose score reaches ``DEAD_SCORE`` with no success for ``DEAD_AFTER`` is dead:
  reported, no longer polled until re-added.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only to *write* OPML; reading goes through defusedxml
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_INTERVAL = timedelta(minutes=30)
MAX_INTERVAL = timedelta(hours=12)
MAX_BACKOFF = timedelta(days=1)
DEAD_SCORE = 10.0
DEAD_AFTER = timedelta(days=3)


class FeedListError(Exception):
    """A feed list file cannot be read or parsed."""


@dataclass(frozen=True)
class FeedSource:
    url: str
    title: str | None = None


def read_feed_list(path: Path) -> list[FeedSource]:
    """Read feed URLs from OPML (by content) or a text file: one URL per line, ``#`` comments."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror}") from exc
    if raw.lstrip().startswith(b"<"):
        return parse_opml(raw, str(path))
    sources: list[FeedSource] = []
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith(("http://", "https://")):
            raise FeedListError(f"{path}:{number}: not an http(s) URL: {line!r}")
        sources.append(FeedSource(line))
    return _unique(sources)


def parse_opml(raw: bytes, name: str = "OPML") -> list[FeedSource]:
    try:
        root = SafeET.fromstring(raw)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise FeedListError(f"{name} is not valid OPML: {exc}") from exc
    sources = [
        FeedSource(url.strip(), outline.get("title") or outline.get("text"))
        for outline in root.iter("outline")
        if (url := outline.get("xmlUrl")) and url.strip().startswith(("http://", "https://"))
    ]
    return _unique(sources)


def to_opml(sources: Iterable[FeedSource], title: str = "mediamon feeds") -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for source in sources:
        text = source.title or source.url
        ET.SubElement(body, "outline", type="rss", text=text, title=text, xmlUrl=source.url)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _unique(sources: list[FeedSource]) -> list[FeedSource]:
    seen: dict[str, FeedSource] = {}
    for source in sources:
        seen.setdefault(source.url, source)
    return list(seen.values())


# --- schedule arithmetic -------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    interval: timedelta
    failure_score: float
    next_poll_at: datetime
    dead: bool = False


def after_success(
    schedule: Schedule, now: datetime, *, seen_share: float, advertised_minutes: int | None = None
) -> Schedule:
    """Next schedule after a poll that worked (``seen_share`` 1.0 for 304/unchanged)."""
    interval = schedule.interval
    if seen_share >= 0.99:
        interval *= 1.5
    elif seen_share < 0.5:
        interval /= 1.5
    floor = max(MIN_INTERVAL, timedelta(minutes=advertised_minutes or 0))
    interval = min(max(interval, floor), max(MAX_INTERVAL, floor))
    interval = timedelta(seconds=round(interval.total_seconds()))
    return Schedule(interval=interval, failure_score=0.0, next_poll_at=now + interval)


def after_failure(
    schedule: Schedule,
    now: datetime,
    *,
    soft: bool,
    last_success_at: datetime | None,
    created_at: datetime,
    retry_after: float | None = None,
) -> Schedule:
    """Next schedule after a failed poll: exponential backoff in the failure score."""
    score = schedule.failure_score + (0.5 if soft else 1.0)
    backoff = min(schedule.interval * (2**score), MAX_BACKOFF)
    if retry_after is not None:
        backoff = max(backoff, timedelta(seconds=retry_after))
    quiet_since = last_success_at or created_at
    dead = score >= DEAD_SCORE and now - quiet_since >= DEAD_AFTER
    return replace(schedule, failure_score=score, next_poll_at=now + backoff, dead=dead)
