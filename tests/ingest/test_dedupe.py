"""ingest/dedupe.py: canonical URLs and content fingerprints."""

from __future__ import annotations

import pytest

from ingest.dedupe import canonical_url, content_fingerprint
from tests.support.corpus_site import PAGES_DIR, load_manifest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # tracking parameters go, the rest is sorted
        (
            "https://example.com/story?b=2&utm_source=rss&a=1&utm_medium=feed&fbclid=XyZ",
            "https://example.com/story?a=1&b=2",
        ),
        ("https://example.com/story?utm_campaign=x&utm_content=y", "https://example.com/story"),
        ("https://example.com/story?gclid=abc&id=5", "https://example.com/story?id=5"),
        # fragment dropped
        ("https://example.com/story#comments", "https://example.com/story"),
        # scheme and host lower-cased, default port dropped, path case kept
        ("HTTPS://News.Example.COM:443/World/Story", "https://news.example.com/World/Story"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        # dot segments resolved, never above the root
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/../../../c", "https://example.com/c"),
        # an empty path is "/"; surrounding white space is ignored
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/x\n", "https://example.com/x"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_url_merges_variants_of_one_article() -> None:
    variants = [
        "https://www.example.com/news/2024/03/story.html?id=7&page=2",
        "HTTPS://WWW.EXAMPLE.COM/news/2024/03/story.html?page=2&id=7#top",
        "https://www.example.com:443/news/2024/./03/story.html?page=2&id=7&utm_source=twitter",
        "https://www.example.com/news/2024/x/../03/story.html?fbclid=1&page=2&id=7",
    ]
    assert len({canonical_url(url) for url in variants}) == 1


def test_canonical_url_keeps_different_articles_apart() -> None:
    urls = [
        "https://example.com/story?id=1",
        "https://example.com/story?id=2",
        "https://example.com/Story?id=1",
        "https://other.example.com/story?id=1",
        "http://example.com:8080/story?id=1",
    ]
    assert len({canonical_url(url) for url in urls}) == len(urls)


def test_canonical_url_is_idempotent() -> None:
    for page in load_manifest():
        url = str(page["url"])
        if url.startswith("http"):
            once = canonical_url(url)
            assert canonical_url(once) == once, url


TEXT = (
    "Officials said on Tuesday that the border crossing would reopen next week.\n\n"
    "Traders, who have waited for months, welcomed the news: 'At last,' one said."
)


def test_fingerprint_survives_wrapping_punctuation_and_case() -> None:
    base = content_fingerprint(TEXT)
    rewrapped = " ".join(TEXT.split())
    reflowed = TEXT.replace(" ", "\n", 5).replace("\n\n", "\n   \n")
    repunctuated = TEXT.replace(":", " -").replace("'", "\u201c").replace(",", "")
    shouting = TEXT.upper()
    fullwidth = TEXT.replace("Officials", "Ｏｆｆｉｃｉａｌｓ")  # NFKC folds full-width letters
    for variant in (rewrapped, reflowed, repunctuated, shouting, fullwidth):
        assert content_fingerprint(variant) == base


def test_fingerprint_differs_for_different_text() -> None:
    base = content_fingerprint(TEXT)
    assert content_fingerprint(TEXT.replace("Tuesday", "Wednesday")) != base
    assert content_fingerprint(TEXT.replace("reopen", "close")) != base
    assert content_fingerprint(TEXT + " More.") != base
    assert content_fingerprint("border crossing reopen") != content_fingerprint("reopen border crossing")


def test_fingerprint_shape_and_corpus_pages_are_distinct() -> None:
    digest = content_fingerprint(TEXT)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert content_fingerprint("") == content_fingerprint("  ... !!! ")  # nothing but punctuation
    pages = [PAGES_DIR / page["file"] for page in load_manifest()]
    fingerprints = {content_fingerprint(path.read_text(encoding="utf-8", errors="replace")) for path in pages}
    assert len(fingerprints) == len(pages)
