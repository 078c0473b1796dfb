"""An article's published date, with where it came from.

A trend is only as good as each article's date, so the date is chosen from candidates in
order of trust and every refusal is said out loud:

1. the page's own metadata (``article:published_time``, JSON-LD, ``<time>``; trafilatura's
   date extraction with the guessing search turned off),
2. the feed entry's ``published``/``updated``,
3. a date in the URL's path (``/2025/04/15/``, ``/2025-04-15-``),
4. the time the article was first seen.

A candidate later than first seen (plus a day of clock skew and time zones) is in the future
and refused; one earlier than ``not_before`` (by default 1995, before news sites had feeds)
is refused too. The refusal is kept in ``note`` so a reader of the store knows why the
date is not the page's.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: How far past first seen a date may lie (time zones, clock skew, embargoed pages).
FUTURE_SLACK = timedelta(days=1)
#: Dates before this are taken for parsing noise unless the caller knows better.
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)

_URL_DATE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})[/_-](?P<m>0?[1-9]|1[0-2])[/_-](?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9])"
)


class DateSource(enum.StrEnum):
    """Where an article's published date came from, most trusted first."""

    PAGE = "page"
    FEED = "feed"
    URL = "url"
    FIRST_SEEN = "first_seen"


@dataclass(frozen=True)
class DatedArticle:
    """The chosen date, its provenance, and what was refused on the way (``None`` if nothing)."""

    published: datetime
    source: DateSource
    note: str | None = None


def date_in_url(url: str) -> datetime | None:
    """A ``YYYY/MM/DD`` (or ``-``/``_`` separated) date in the URL's path, as UTC midnight."""
    match = _URL_DATE.search(url.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    try:
        return datetime(int(match["y"]), int(match["m"]), int(match["d"]), tzinfo=UTC)
    except ValueError:  # 2025/02/30
        return None


def choose_published(
    *,
    first_seen: datetime,
    page: datetime | None = None,
    feed: datetime | None = None,
    url: str | None = None,
    not_before: datetime = EARLIEST_PLAUSIBLE,
) -> DatedArticle:
    """The most trusted plausible date among the candidates, falling back to first seen."""
    refused: list[str] = []
    plausible: list[tuple[DateSource, datetime]] = []
    candidates = (
        (DateSource.PAGE, page),
        (DateSource.FEED, feed),
        (DateSource.URL, date_in_url(url) if url else None),
    )
    for source, value in candidates:
        if value is None:
            continue
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        if value > first_seen + FUTURE_SLACK:
            refused.append(f"{source} date {value:%Y-%m-%d %H:%M} is after first seen")
        elif value < not_before:
            refused.append(f"{source} date {value:%Y-%m-%d} is before {not_before:%Y-%m-%d}")
        else:
            plausible.append((source, value))
    if not plausible:
        return DatedArticle(first_seen, DateSource.FIRST_SEEN, _joined(refused))
    source, value = plausible[0]
    # A page usually gives a day only; a feed entry on the same day gives the time as well.
    for other, precise in plausible[1:]:
        if other == DateSource.FEED and _day_only(value) and abs(precise - value) <= timedelta(days=1):
            return DatedArticle(precise, DateSource.FEED, _joined(refused))
    return DatedArticle(value, source, _joined(refused))


def _day_only(value: datetime) -> bool:
    return value.hour == value.minute == value.second == value.microsecond == 0


def _joined(refused: list[str]) -> str | None:
    return "; ".join(refused) + "; used the next candidate" if refused else None
