from pathlib import Path

import pytest

from config.settings import DEFAULT_FEEDS_PATH
from ingest.feeds import (
    FeedListError,
    FeedSource,
    parse_opml,
    read_feed_list,
    to_opml,
)


def test_text_feed_list_skips_comments_and_repeats(tmp_path: Path):
    path = tmp_path / "feeds.txt"
    path.write_text(
        "# comment\nhttps://a.example/feed\n\nhttps://a.example/feed  # again\nhttp://b.example/rss\n"
    )
    assert [s.url for s in read_feed_list(path)] == ["https://a.example/feed", "http://b.example/rss"]


def test_text_feed_list_rejects_non_urls_with_line_number(tmp_path: Path):
    path = tmp_path / "feeds.txt"
    path.write_text("https://a.example/feed\nftp://nope\n")
    with pytest.raises(FeedListError, match=r"feeds.txt:2: not an http\(s\) URL"):
        read_feed_list(path)


def test_missing_feed_list_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FeedListError, match="cannot read feed list"):
        read_feed_list(tmp_path / "absent.txt")


def test_opml_round_trip(tmp_path: Path):
    sources = [FeedSource("https://a.example/feed", "A & B news"), FeedSource("https://c.example/rss")]
    path = tmp_path / "feeds.opml"
    path.write_bytes(to_opml(sources))
    assert read_feed_list(path) == [sources[0], FeedSource("https://c.example/rss", "https://c.example/rss")]


def test_opml_with_entity_bomb_is_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
    <opml version="2.0"><body><outline xmlUrl="https://x.example/&b;"/></body></opml>"""
    with pytest.raises(FeedListError, match="not valid OPML"):
        parse_opml(bomb)


def test_broken_opml_is_a_clear_error():
    with pytest.raises(FeedListError, match="not valid OPML"):
        parse_opml(b"<opml><body><outline")


def test_default_feed_list_is_shipped_and_valid():
    sources = read_feed_list(DEFAULT_FEEDS_PATH)
    assert len(sources) >= 15
    assert all(s.url.startswith("https://") for s in sources)
    assert any("Tehreek-e-Taliban" in s.url for s in sources)
