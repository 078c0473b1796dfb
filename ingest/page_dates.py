"""The publication date a page's own markup states, never a guess.

trafilatura's default date search reads free text and copyright lines, and once dated a
dateless page "1 Jan 2014". Here the date comes from the fields that name a publication time,
then from htmldate over the markup with comments, footers and sidebars removed. Where a date
does not come from the page, :func:`ingest.dates.choose_published` falls back to the feed, the
URL or first seen and says so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import htmldate
from trafilatura.utils import load_html

#: htmldate reading markup only: no free-text search (extensive_search), the first
#: publication rather than the last update (original_date), no date from the URL (``url=""``;
#: the URL is a candidate of its own, with its own provenance). The time is kept when the
#: markup gives one with a zone. No upper bound: a date in the future reaches
#: choose_published, which refuses it and says so instead of htmldate silently picking another.
_HTMLDATE_OPTIONS: dict[str, Any] = {
    "extensive_search": False,
    "original_date": True,
    "url": "",
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "max_date": "2099-12-31",
}

#: Markup that states a publication time by name (lower-cased name/property/itemprop).
#: Read before htmldate, whose header pass stops at the first generic date field (some
#: sites put the last revision in ``sailthru.date`` or ``date``).
_PUBLISHED_META = frozenset(
    {
        "article:published_time",
        "og:article:published_time",
        "og:published_time",
        "article:published",
        "datepublished",
        "parsely-pub-date",
        "pub_date",
        "publishdate",
        "publish_date",
        "publish-date",
        "dc.date.issued",
        "dcterms.issued",
        "prism.publicationdate",
        "dcsext.articlefirstpublished",
        "originalpublicationdate",
    }
)
_JSON_LD = './/script[@type="application/ld+json"]'
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_TIME_PUBLISHED = './/time[@datetime][@itemprop="datePublished" or @pubdate]'

_REGEXP_NS = {"re": "http://exslt.org/regular-expressions"}
#: A class or id token naming a comment section, a sidebar, a site footer or last-modified
#: line (``has-sidebar`` on ``<body>`` describes the layout, not a part, and does not match).
_PART_NAMES = (
    r"(?:^|\s)(?!has-|with-|no-)[\w-]*(?:sidebar|footer|lastmod|pageinfo)"
    r"|(?:^|\s)(?:comments?|commentlist|comment-list|comments-area|comment-meta|comment-metadata"
    r"|comment-body|respond|disqus_thread)(?:\s|$)"
)
#: Parts of a page whose dates are not the article's: readers' comments, site footers (a
#: wiki's "last modified"), sidebars, navigation; and meta tags that date the last update,
#: the URL, an image or the copyright. Removed before htmldate reads the markup. A part
#: holding the headline or an ``<article>`` is a wrapper named after its layout
#: (``sticky-sidebar-parent``) and stays, as does a footer inside ``<article>`` (some themes
#: put the byline there).
_NOT_THE_ARTICLE = f"""
    .//body//*[self::aside or self::nav or self::footer[not(ancestor::article)]
        or re:test(@id, '{_PART_NAMES}', 'i') or re:test(@class, '{_PART_NAMES}', 'i')]
        [not(self::article or self::main or .//article or .//h1)]
        [not(ancestor::article) or not(re:test(concat(@id, ' ', @class), 'footer', 'i'))]
    | .//meta[re:test(concat(@name, ' ', @property, ' ', @itemprop),
        'modif|updat|revision|lastmod|copyright|url|image', 'i')]
"""


def page_published(html: bytes | str) -> datetime | None:
    """The publication date the page's markup states, in UTC; ``None`` if it states none.

    First the fields that name a publication time (``article:published_time``, JSON-LD
    ``datePublished``), then, without comments, footers and sidebars, ``<time
    itemprop="datePublished">`` and htmldate over the rest of the markup. A time with a zone
    is kept as the exact moment; a day, or a time without a zone (the publisher's local
    clock), is that day at UTC midnight, so the day is the one the page shows.
    """
    try:
        tree = load_html(html)
    except Exception:  # lxml on hostile input; the text was extracted, the date just is unknown
        return None
    if tree is None:
        return None
    stated = _stated_in_metadata(tree)
    if stated is not None:
        return stated
    for element in tree.xpath(_NOT_THE_ARTICLE, namespaces=_REGEXP_NS):
        if element.getparent() is not None:
            element.drop_tree()
    for time in tree.xpath(_TIME_PUBLISHED):  # after pruning: comments use <time pubdate> too
        stated = _as_published(time.get("datetime"))
        if stated is not None:
            return stated
    try:
        found = htmldate.find_date(tree, **_HTMLDATE_OPTIONS)
    except Exception:  # htmldate's heuristics on odd markup
        return None
    return _as_published(found)


def _stated_in_metadata(tree: Any) -> datetime | None:
    """The first ISO 8601 value among the meta tags and JSON-LD fields that name a
    publication time."""
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key.strip().lower() in _PUBLISHED_META:
            value = _as_published(meta.get("content") or meta.get("datetime"))
            if value is not None:
                return value
    for script in tree.xpath(_JSON_LD):
        for match in _JSON_LD_PUBLISHED.finditer(script.text or ""):
            value = _as_published(match[1])
            if value is not None:
                return value
    return None


def _as_published(value: str | None) -> datetime | None:
    """An ISO 8601 date or time as stored: the moment if it has a zone, else its day at UTC
    midnight. Anything else (``Tue Feb 20 2018 …``) is ``None``: htmldate reads those."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.utcoffset() is not None:
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601; or "0001-01-01T00:00+05:00"
        return None
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
