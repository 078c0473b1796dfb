"""ingest/parse.py: corpus feeds over real HTTP, hostile XML, and feedparser's own 2,100 test feeds."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import pytest

from ingest.dedupe import canonical_url
from ingest.http import Fetcher
from ingest.parse import ParsedFeed, parse_feed
from tests.support.corpus_site import (
    FEED_EPOCH,
    FEEDPARSER_DIR,
    CorpusSite,
    FeedItem,
    build_atom,
    build_rss,
    load_manifest,
    page_title,
)

FEED_URL = "http://feeds.example.test/dir/feed.xml"


# --------------------------------------------------------------------------- corpus feeds over HTTP


@pytest.mark.parametrize("path", ["/feeds/corpus.rss", "/feeds/corpus.atom"])
def test_corpus_feed_served_and_parsed(corpus_site: CorpusSite, fetcher: Fetcher, path: str) -> None:
    fetched = fetcher.fetch(corpus_site.url(f"{path}?n=25"))
    assert fetched.ok, fetched.error
    parsed = parse_feed(fetched.content, fetched.final_url, fetched.content_type)
    assert parsed.error is None, parsed
    assert parsed.problem is None, parsed
    assert parsed.title == "mediamon corpus"
    assert len(parsed.entries) == 25
    manifest = load_manifest()
    for index, entry in enumerate(parsed.entries):
        file = manifest[index]["file"]
        assert entry.link == corpus_site.url(f"/pages/{file}")
        assert entry.title == page_title(file)
        assert entry.entry_id == f"urn:mediamon-corpus:{file}"
        assert entry.published is not None
        assert entry.published.tzinfo is not None
        assert entry.published.utcoffset() == timedelta(0)
        assert entry.published == FEED_EPOCH - timedelta(hours=index)
    # every entry's link really serves its page
    page = fetcher.fetch(parsed.entries[3].link)
    assert page.ok
    assert page.content.startswith(b"<")
    assert len(page.content) > 1000


def test_full_corpus_feed_and_tracking_params(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    fetched = fetcher.fetch(corpus_site.url("/feeds/corpus.rss?utm=1"))
    parsed = parse_feed(fetched.content, fetched.final_url, fetched.content_type)
    assert len(parsed.entries) == len(load_manifest()) == 160
    entry = parsed.entries[0]
    assert "utm_source=rss" in entry.link  # the parser keeps links as published...
    assert canonical_url(entry.link) == corpus_site.url(
        f"/pages/{load_manifest()[0]['file']}"
    )  # ...dedupe strips


def test_relative_links_become_absolute() -> None:
    items = [
        FeedItem(title="rooted", link="/news/one.html", guid="a"),
        FeedItem(title="relative", link="two.html?x=1", guid="b"),
        FeedItem(title="absolute", link="https://other.example/three", guid="c"),
    ]
    expected = [
        "http://feeds.example.test/news/one.html",
        "http://feeds.example.test/dir/two.html?x=1",
        "https://other.example/three",
    ]
    for body in (build_rss(items), build_atom(items)):
        parsed = parse_feed(body, FEED_URL)
        assert [entry.link for entry in parsed.entries] == expected


def test_guid_only_items_and_items_without_any_link() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>guid permalink</title><guid>https://example.org/a</guid></item>
      <item><title>no link at all</title><guid isPermaLink="false">tag:x,2024:1</guid></item>
      <item><title>normal</title><link>https://example.org/b</link></item>
    </channel></rss>"""
    parsed = parse_feed(body, FEED_URL, "application/rss+xml")
    assert [entry.link for entry in parsed.entries] == ["https://example.org/a", "https://example.org/b"]


def test_dates_are_aware_utc() -> None:
    items = [
        {"title": "t", "link": "https://example.org/x", "pubDate": datetime(2024, 5, 1, 8, 30, tzinfo=UTC)}
    ]
    parsed = parse_feed(build_rss(items), FEED_URL)
    assert parsed.entries[0].published == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    offset = b"""<rss version="2.0"><channel><title>t</title><item><link>https://e.org/1</link>
      <pubDate>Wed, 01 May 2024 10:30:00 +0200</pubDate></item></channel></rss>"""
    entry = parse_feed(offset, FEED_URL).entries[0]
    assert entry.published == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert entry.published is not None
    assert entry.published.tzinfo is UTC


def test_ttl_is_read() -> None:
    parsed = parse_feed(build_rss([], ttl=90), FEED_URL)
    assert parsed.error is None
    assert parsed.ttl_minutes == 90


def test_partially_broken_feed_keeps_every_good_entry() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>one</title><link>https://example.org/1</link></item>
<item><title>two &nbsp; AT&T <b>unclosed</title><link>https://example.org/2</link></item>
<item><title>three</title><link>https://example.org/3</link><description>cut off mid-"""
    parsed = parse_feed(body, FEED_URL, "application/rss+xml")
    assert parsed.problem is not None
    assert parsed.error is None
    assert [entry.link for entry in parsed.entries] == [f"https://example.org/{n}" for n in (1, 2, 3)]


def test_garbage_is_an_error_not_an_exception() -> None:
    for junk in (b"", b"\x00\xff\xfe garbage", b"<html><body>not a feed</body></html>", b"{]"):
        parsed = parse_feed(junk, FEED_URL)
        assert parsed.error is not None
        assert parsed.entries == []


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://example.org/laughs</link><description>&lol9;</description></item>
</channel></rss>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>feed &xxe;</title>
<item><title>item &xxe;</title><link>https://example.org/xxe</link><description>&xxe;</description></item>
</channel></rss>
"""


def _all_text(parsed: ParsedFeed) -> str:
    parts = [parsed.title or "", parsed.problem or "", parsed.error or ""]
    for entry in parsed.entries:
        parts += [entry.link, entry.title or "", entry.summary or "", entry.entry_id or ""]
    return "\n".join(parts)


@pytest.mark.parametrize("content_type", [None, "application/rss+xml"])
def test_billion_laughs_is_not_expanded(content_type: str | None) -> None:
    started = time.monotonic()
    parsed = parse_feed(BILLION_LAUGHS, FEED_URL, content_type)
    # Not a speed target (those live in bench/): an expanding parser would run for minutes.
    assert time.monotonic() - started < 30
    text = _all_text(parsed)
    assert len(text) < 10_000  # fully expanded, one field would be 3 * 10**9 characters
    assert "lollollol" not in text
    # the good entry survives the hostile DOCTYPE
    assert [entry.link for entry in parsed.entries] == ["https://example.org/laughs"]


@pytest.mark.parametrize("content_type", [None, "application/rss+xml"])
def test_external_entity_does_not_leak_files(content_type: str | None) -> None:
    passwd = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    first_line = passwd.splitlines()[0]
    assert first_line  # there is something to leak
    parsed = parse_feed(XXE, FEED_URL, content_type)
    text = _all_text(parsed)
    assert first_line not in text
    assert "root:" not in text
    assert [entry.link for entry in parsed.entries] == ["https://example.org/xxe"]


# --------------------------------------------------------------------------- feedparser's test corpus

_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
_EXPECT = re.compile(rb"Expect:\s*(.*)")


def _simulated_content_type(data: bytes) -> str | None:
    """Files under encoding/ and http/ carry the HTTP headers they expect in a comment."""
    for name, value in _HEADER.findall(data[:2000]):
        if name.lower() == b"content-type":
            return str(value.decode("latin-1"))
    return None


def _feedparser_links(data: bytes, url: str, content_type: str | None) -> list[str]:
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    raw: Any = feedparser.parse(data, response_headers=headers, sanitize_html=True)
    links = []
    for entry in raw.get("entries", []):
        link = entry.get("link")
        if isinstance(link, str) and link.strip():
            links.append(urljoin(url, link.strip()))
    return links


def test_feedparser_corpus_never_crashes_and_keeps_good_entries() -> None:
    files = sorted(p for p in FEEDPARSER_DIR.rglob("*") if p.is_file() and p.name != "LICENSE")
    totals: Counter[str] = Counter()
    lost: list[str] = []
    expected_bozo_missed: list[str] = []
    started = time.monotonic()
    for path in files:
        relative = path.relative_to(FEEDPARSER_DIR).as_posix()
        data = path.read_bytes()
        url = f"http://127.0.0.1:8097/{relative}"
        content_type = _simulated_content_type(data)
        parsed = parse_feed(data, url, content_type)  # must not raise, whatever the file holds
        assert isinstance(parsed, ParsedFeed)
        assert not (parsed.error or "").startswith("feed parser crashed"), (relative, parsed.error)
        folder = relative.split("/")[0]
        totals["files"] += 1
        totals[f"files:{folder}"] += 1
        totals["entries"] += len(parsed.entries)
        totals["problem"] += parsed.problem is not None
        totals["error"] += parsed.error is not None
        if parsed.problem or parsed.error:
            totals[f"flagged:{folder}"] += 1
        for entry in parsed.entries:
            assert entry.link.startswith(("http://", "https://")), (relative, entry.link)

        expected = _feedparser_links(data, url, content_type)
        if expected:
            totals["files_with_linked_entries"] += 1
            totals["linked_entries"] += len(expected)
            ours = [entry.link for entry in parsed.entries]
            if not set(expected) <= set(ours):
                lost.append(f"{relative}: feedparser {expected} ours {ours}")
            if parsed.problem:
                totals["bozo_but_entries_kept"] += 1

        match = _EXPECT.search(data)
        if match and match.group(1).strip().startswith(b"bozo") and not (parsed.problem or parsed.error):
            expected_bozo_missed.append(relative)
    elapsed = time.monotonic() - started
    print(f"\nfeedparser corpus: {dict(sorted(totals.items()))} in {elapsed:.1f}s")

    assert not lost, "good entries lost:\n" + "\n".join(lost[:20])
    assert not expected_bozo_missed, expected_bozo_missed
    assert totals["files"] > 2000
    assert totals["files:wellformed"] > 1500
    assert totals["files:illformed"] >= 15
    assert totals["files_with_linked_entries"] > 50
    assert totals["entries"] >= totals["linked_entries"]
    assert totals["bozo_but_entries_kept"] >= 1  # a broken feed still yields its entries
    # every entities/ file uses undeclared HTML entities: flagged, yet usable
    assert totals["flagged:entities"] == totals["files:entities"]
    assert totals["flagged:illformed"] >= totals["files:illformed"] * 2 // 3
    # well-formed files are not flagged (the ones that are have no entries and no version: CDF)
    assert totals["flagged:wellformed"] < totals["files:wellformed"] // 50
