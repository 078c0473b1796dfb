"""Aggregator links (ingest.aggregators): the saved news-search feeds of tests/data/aggregators,
parsed as the poller parses them, and the real googlenewsdecoder when Google is out of reach."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ingest.aggregators import DecodeError, GoogleNewsDecoder, LinkKind, unwrap
from ingest.dedupe import canonical_url
from ingest.intake import DECODING_OFF, candidates, describe_skipped, select
from ingest.parse import parse_feed

DATA = Path(__file__).resolve().parents[1] / "data" / "aggregators"
GOOGLE_ANSWERS: dict[str, str] = json.loads((DATA / "google_news_search.decoded.json").read_text())


def parsed(name: str) -> list[str]:
    feed = parse_feed((DATA / name).read_bytes(), "https://example.invalid/feed", "application/rss+xml")
    assert feed.error is None
    return [entry.link for entry in feed.entries]


def test_bing_news_links_are_unwrapped_to_the_article() -> None:
    links = parsed("bing_news_search.rss")
    resolved = [unwrap(link) for link in links]
    assert [r.kind for r in resolved] == [LinkKind.UNWRAPPED] * 5 + [LinkKind.UNUSABLE]
    assert (
        resolved[0].url
        == "https://www.dawn.com/news/1904942/russia-removes-afghan-taliban-from-terrorist-list"
    )
    # The target's own query survives unwrapping; canonicalising then drops the tracking part.
    assert resolved[1].url is not None and "utm_source=bing" in resolved[1].url
    assert (
        canonical_url(resolved[1].url)
        == "https://www.dawn.com/news/1906189/russia-allows-taliban-to-have-ambassador-in-moscow"
    )
    assert all("bing.com" not in (r.url or "") for r in resolved)
    assert resolved[-1].reason == "Bing News link has no article URL"


def test_old_google_news_links_carry_their_target() -> None:
    resolved = [unwrap(link) for link in parsed("google_news_legacy.rss")]
    assert [(r.kind, r.aggregator) for r in resolved] == [(LinkKind.UNWRAPPED, "Google News")] * 2
    assert (
        resolved[1].url
        == "https://www.dawn.com/news/1912539/govt-sets-up-digital-assets-authority-as-per-fatf-requirement"
    )


def test_google_news_article_links_need_google_and_cluster_pages_are_no_articles() -> None:
    resolved = [unwrap(link) for link in parsed("google_news_search.rss")]
    assert [r.kind for r in resolved] == [LinkKind.NEEDS_DECODING] * 5 + [LinkKind.UNUSABLE]
    assert all(r.url is None for r in resolved)
    assert resolved[-1].reason == "Google News link is not an article link"


@pytest.mark.parametrize(
    ("link", "kind", "url"),
    [
        ("https://www.dawn.com/news/1904942", LinkKind.DIRECT, "https://www.dawn.com/news/1904942"),
        # Not an apiclick link: a Bing page that is not wrapped is left alone.
        ("https://www.bing.com/news/search?q=x", LinkKind.DIRECT, "https://www.bing.com/news/search?q=x"),
        # Never unwrap into another scheme, nor a relative target.
        ("https://www.bing.com/news/apiclick.aspx?url=javascript%3aalert(1)", LinkKind.UNUSABLE, None),
        ("https://www.bing.com/news/apiclick.aspx?url=%2fnews%2f1", LinkKind.UNUSABLE, None),
        (
            "https://cn.bing.com/news/apiclick.aspx?url=https%3a%2f%2fexample.org%2fa",
            LinkKind.UNWRAPPED,
            "https://example.org/a",
        ),
        ("https://news.google.com/__i/rss/rd/articles/CBMiSWh0dHBzOi8v?oc=5", LinkKind.NEEDS_DECODING, None),
        ("https://news.google.com/read/CBMi2AFBVV95cUxP?hl=en-US", LinkKind.NEEDS_DECODING, None),
        ("https://news.google.com/topics/CAAqJggKIiBDQkFT?hl=en-US", LinkKind.UNUSABLE, None),
        # A look-alike host is not Google's.
        (
            "https://news.google.com.example.org/rss/articles/CBMi",
            LinkKind.DIRECT,
            "https://news.google.com.example.org/rss/articles/CBMi",
        ),
    ],
)
def test_unwrap(link: str, kind: LinkKind, url: str | None) -> None:
    resolved = unwrap(link)
    assert (resolved.kind, resolved.url) == (kind, url)


def test_selection_skips_google_links_when_decoding_is_off_and_keeps_them_when_on() -> None:
    feed = parse_feed(
        (DATA / "google_news_search.rss").read_bytes(), "https://news.google.com/rss/search?q=TTP"
    )
    found = candidates(feed.entries)
    off = select(found, known_keys=set(), known_entry_ids=set(), cap=200, decoding=False)
    assert off.take == [] and off.left == 0
    assert off.skipped == {DECODING_OFF: 5, "Google News link is not an article link": 1}
    assert describe_skipped(off.skipped) == (
        f"5 entries skipped: {DECODING_OFF}; 1 entry skipped: Google News link is not an article link"
    )

    # Entry ids the feed already stored are known without asking Google again.
    stored_id = feed.entries[0].entry_id
    assert stored_id is not None and stored_id.startswith("CBMi")
    on = select(found, known_keys=set(), known_entry_ids={stored_id}, cap=3, decoding=True)
    assert (on.known, len(on.take), on.left) == (1, 3, 1)
    assert [c.entry.link for c in on.take] == [e.link for e in feed.entries[1:4]]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the with block ends


def test_the_real_decoder_reports_google_out_of_reach_after_one_try() -> None:
    """googlenewsdecoder itself, through a proxy on a closed loopback port: the network path
    fails as it does without a route to Google, fast and the same on every machine."""
    decoder = GoogleNewsDecoder(timeout=5, proxy=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(DecodeError, match="Google News unreachable"):
        decoder(list(GOOGLE_ANSWERS))


def test_the_real_decoder_refuses_a_link_that_is_not_google_news_without_a_request() -> None:
    decoder = GoogleNewsDecoder(timeout=5, proxy=f"http://127.0.0.1:{closed_port()}")
    [result] = decoder(["https://www.dawn.com/news/1904942"])
    assert result.url is None and result.error == "Invalid Google News URL format."
