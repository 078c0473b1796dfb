"""News-search feeds link to the aggregator, not the article: find the article URL behind.

* Bing News RSS: ``https://www.bing.com/news/apiclick.aspx?ref=FexRss&…&url=<article URL>``
  — the target is the percent-encoded ``url`` parameter, read without any request.
* Google News, old style (``news.google.com/news/url?…&url=<article URL>``): the same.
* Google News since 2020 (``news.google.com/rss/articles/CBMi…``): the id is opaque; only
  Google can turn it into the article URL. :class:`GoogleNewsDecoder` asks it through
  ``googlenewsdecoder`` (two requests to news.google.com per link, one POST per batch).

An aggregator link that cannot be resolved is never stored as an article: its page is
Google's or Bing's, not the outlet's. The poller skips it and records why.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

#: Paths of news.google.com that carry an article id (what googlenewsdecoder accepts).
_GOOGLE_ARTICLE_SEGMENTS = ("articles", "read")


class LinkKind(enum.Enum):
    DIRECT = "direct"  # not an aggregator link: use as it is
    UNWRAPPED = "unwrapped"  # an aggregator link whose target was in its query
    NEEDS_DECODING = "needs_decoding"  # a Google News article id: only Google can resolve it
    UNUSABLE = "unusable"  # an aggregator link with no article behind it that we can find


@dataclass(frozen=True)
class ResolvedLink:
    """What an entry's link points at. ``url`` is the article URL for DIRECT and UNWRAPPED."""

    kind: LinkKind
    url: str | None
    aggregator: str | None = None  # "Google News" or "Bing News" when the link was theirs
    reason: str | None = None  # why an UNUSABLE link is skipped


def unwrap(link: str) -> ResolvedLink:
    """The article behind ``link`` as far as it can be known without a request."""
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if _is_host(host, "bing.com"):
        if parts.path.lower().startswith("/news/apiclick.aspx"):
            return _from_url_parameter(parts.query, "Bing News")
        return ResolvedLink(LinkKind.DIRECT, link)
    if host == "news.google.com":
        target = _url_parameter(parts.query)
        if target is not None:
            return ResolvedLink(LinkKind.UNWRAPPED, target, "Google News")
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) >= 2 and segments[-2] in _GOOGLE_ARTICLE_SEGMENTS:
            return ResolvedLink(LinkKind.NEEDS_DECODING, None, "Google News")
        return ResolvedLink(LinkKind.UNUSABLE, None, "Google News", "Google News link is not an article link")
    return ResolvedLink(LinkKind.DIRECT, link)


def _is_host(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _url_parameter(query: str) -> str | None:
    """The ``url`` parameter when it is an absolute http(s) URL (parse_qs decodes it once)."""
    values = parse_qs(query).get("url")
    if not values:
        return None
    target = values[0].strip()
    # Never unwrap into another scheme (javascript:, file:) or a relative path.
    return target if urlsplit(target).scheme.lower() in ("http", "https") and "//" in target else None


def _from_url_parameter(query: str, aggregator: str) -> ResolvedLink:
    target = _url_parameter(query)
    if target is None:
        return ResolvedLink(LinkKind.UNUSABLE, None, aggregator, f"{aggregator} link has no article URL")
    return ResolvedLink(LinkKind.UNWRAPPED, target, aggregator)


# --------------------------------------------------------------------------- Google News


class DecodeError(Exception):
    """Google News links could not be decoded (the message says why)."""


@dataclass(frozen=True)
class Decoded:
    """One link's result: the article URL, or why there is none."""

    url: str | None
    error: str | None = None


class LinkDecoder(Protocol):
    """Turns Google News article links into the publishers' URLs, one result per link, in order.

    Raises :class:`DecodeError` when the service cannot be reached at all, so the caller stops
    asking for the rest of the batch.
    """

    def __call__(self, links: Sequence[str]) -> list[Decoded]: ...


@dataclass(frozen=True)
class GoogleNewsDecoder:
    """:class:`LinkDecoder` through ``googlenewsdecoder`` (needs network to news.google.com).

    One article-page request per link and one ``batchexecute`` POST per call; ``timeout`` is
    per request. ``proxy`` is passed to the library (Google rate-limits busy addresses).
    """

    timeout: float = 10.0
    proxy: str | None = None
    user_agent: str | None = None

    def __call__(self, links: Sequence[str]) -> list[Decoded]:
        if not links:
            return []
        # Imported here: a deployment without Google News feeds never loads it (nor http2).
        from googlenewsdecoder import GoogleDecoder

        try:
            with GoogleDecoder(proxy=self.proxy, timeout=self.timeout, user_agent=self.user_agent) as decoder:
                # Probe with the first link alone: with no route to Google, one failure says
                # so instead of one timeout per link.
                first = decoder.decode_google_news_urls(list(links[:1]))
                if not first[0].get("success") and _unreachable(first[0]):
                    raise DecodeError(f"Google News unreachable: {first[0].get('message')}")
                rest = decoder.decode_google_news_urls(list(links[1:])) if len(links) > 1 else []
        except DecodeError:
            raise
        except Exception as exc:
            # The library catches network and parse errors itself; anything else it lets out
            # (a page Google changed, a bug) must end as a reason, not as a failed poll.
            raise DecodeError(f"googlenewsdecoder failed: {type(exc).__name__}: {exc}") from exc
        return [_decoded(result) for result in [*first, *rest]]


def _unreachable(result: dict[str, object]) -> bool:
    # The library catches httpx errors and reports them as "Request error …".
    return str(result.get("message", "")).startswith("Request error")


def _decoded(result: dict[str, object]) -> Decoded:
    url = result.get("decoded_url")
    if result.get("success") and isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
        return Decoded(url)
    return Decoded(None, str(result.get("message") or "no URL decoded"))
