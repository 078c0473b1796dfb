"""What the fuzz targets feed the entry points: real corpus files, mutated, and plain noise.

Seeds are read from ../shared/corpus at test time (never copied): the 2,106 feedparser
edge-case feeds, the 160 saved pages, and the real Pakistani news prose. Hypothesis picks a seed
and applies a few byte-level edits (insert, delete, duplicate, truncate, flip a bit), with
inserts drawn both from random bytes and from fragments that stress each parser (entities,
CDATA, encodings, dates, deep nesting), so it explores near the inputs the service really sees.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.corpus_site import FEEDPARSER_DIR, PAGES_DIR, build_atom, build_rss, corpus_items

#: ``FUZZ_PROFILE=fuzz`` runs fifty times the examples of the bounded default (``ci``).
PROFILE = os.environ.get("FUZZ_PROFILE", "ci")
_SCALE = {"ci": 1, "fuzz": 50}


def fuzz_settings(examples: int) -> settings:
    """Bounded runs: ``examples`` per target (times the profile's scale), no per-example
    deadline (a shared machine is slow at times; a hang is caught by the run's own timeout),
    no example database (runs stay independent, as in the schemathesis test)."""
    if PROFILE not in _SCALE:
        raise ValueError(f"FUZZ_PROFILE must be one of {sorted(_SCALE)}, not {PROFILE!r}")
    return settings(
        max_examples=examples * _SCALE[PROFILE],
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@cache
def feed_files() -> tuple[Path, ...]:
    files = tuple(sorted(p for p in FEEDPARSER_DIR.rglob("*") if p.suffix in (".xml", ".json")))
    assert len(files) > 2000, f"the feedparser corpus is missing under {FEEDPARSER_DIR}"
    return files


@cache
def page_files() -> tuple[Path, ...]:
    files = tuple(sorted(PAGES_DIR.glob("*.html")))
    assert len(files) == 160, f"the saved pages are missing under {PAGES_DIR}"
    return files


FEED_FRAGMENTS = [
    b"<item>",
    b"</item>",
    b"<entry>",
    b"</entry>",
    b"<link>",
    b"</link>",
    b"<link href='//x'/>",
    b"<guid isPermaLink='true'>http://",
    b"<![CDATA[",
    b"]]>",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&undefined;",
    b"<!DOCTYPE rss [<!ENTITY a 'aaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?xml version='1.0' encoding='x-no-such'?>",
    b"<pubDate>Mon, 31 Feb 2099 25:61:61 GMT</pubDate>",
    b"<published>-0001-00-00T00:00:00Z</published>",
    b"<ttl>99999999999999999999999</ttl>",
    b"<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>",
    b"<link>http://[::1/x</link>",
    b"<link>javascript:alert(1)</link>",
    b"\x00",
]

HTML_FRAGMENTS = [
    b"<div>" * 300,
    b"</div>" * 50,
    b"<article>",
    b"</article>",
    b"<p>",
    b"</p>",
    b"<table><tr><td>",
    b"<script>",
    b"<!--",
    b"<![CDATA[",
    b"<meta charset='utf-16'>",
    b"<meta charset='x-no-such'>",
    b'<meta property="article:published_time" content="0000-00-00T99:99:99">',
    b"<time itemprop='datePublished' datetime='9999-12-31T24:00'>",
    b'<script type="application/ld+json">{"datePublished": [',
    b"&nbsp;",
    b"&#0;",
    b"\x00",
    b"\xff\xfe",
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, fragments: list[bytes], max_edits: int = 6) -> bytes:
    """``seed`` after up to ``max_edits`` random byte-level edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, max_edits))):
        edit = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "flip"]))
        at = draw(st.integers(0, len(data)))
        if edit == "insert":
            data[at:at] = draw(st.sampled_from(fragments) | st.binary(min_size=1, max_size=64))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 512))]
        elif edit == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(1, 8))
        elif edit == "truncate":
            del data[at:]
        elif data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


@cache
def feeds_with_entries() -> tuple[bytes, ...]:
    """The corpus feeds the parser takes entries from (most of feedparser's edge cases test
    one element and have no linked entry), and RSS and Atom feeds of the saved pages."""
    from ingest.parse import parse_feed

    taken = tuple(
        p.read_bytes() for p in feed_files() if parse_feed(p.read_bytes(), "http://feeds.test/").entries
    )
    assert len(taken) > 50
    items = corpus_items("http://pages.test", 20)
    return (*taken, build_rss(items), build_atom(items))


def feed_documents() -> st.SearchStrategy[bytes]:
    """A corpus feed, usually edited, more often one with entries; sometimes plain noise."""
    any_feed = st.sampled_from(feed_files()).map(lambda path: path.read_bytes())
    with_entries = st.sampled_from(feeds_with_entries())
    seeded = st.one_of(any_feed, with_entries, with_entries).flatmap(
        lambda data: mutated(data, FEED_FRAGMENTS)
    )
    return st.one_of(seeded, seeded, seeded, st.binary(max_size=2048))


def html_documents() -> st.SearchStrategy[bytes | str]:
    """A saved page (as bytes or as text), usually edited; sometimes plain noise."""
    seeded = st.sampled_from(page_files()).flatmap(lambda path: mutated(path.read_bytes(), HTML_FRAGMENTS))
    as_text = seeded.map(lambda data: data.decode("utf-8", "replace"))
    noise: st.SearchStrategy[bytes | str] = st.binary(max_size=4096) | st.text(max_size=4096)
    return st.one_of(seeded, seeded, as_text, noise)


#: Text that stresses offsets and sentence splitting: case folding that changes length (İ, ß,
#: ﬁ), invisible and combining characters, odd line ends, abbreviations, denial words.
TEXT_FRAGMENTS = [
    "İ",
    "ß",
    "ﬁ",
    "\u200b",
    "\u202e",
    "\u0301",
    "\ufeff",
    "\r\n",
    "\n\n",
    "\x00",
    "...",
    " Mr. ",
    " U.S. ",
    " never ",
    " denied that ",
    "«",
    "”",
]


@cache
def news_texts() -> tuple[str, ...]:
    """The real news prose (the first 500 articles: every kind of story, spring 2025)."""
    from tests.support.news import news  # reads 6,447 articles: only when a target asks

    return tuple(article.text for article in news()[:500])


@st.composite
def mutated_text(draw: st.DrawFn, seed: str, fragments: list[str], max_edits: int = 6) -> str:
    """``seed`` after up to ``max_edits`` random edits (insert, delete, duplicate, truncate, case)."""
    text = seed
    for _ in range(draw(st.integers(0, max_edits))):
        edit = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "case"]))
        at = draw(st.integers(0, len(text)))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(fragments) | st.text(min_size=1, max_size=32)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 512)) :]
        elif edit == "duplicate":
            text = text[:at] + text[at : at + draw(st.integers(1, 256))] * draw(st.integers(1, 8)) + text[at:]
        elif edit == "truncate":
            text = text[:at]
        else:
            change = draw(st.sampled_from([str.upper, str.lower, str.casefold, str.swapcase]))
            end = at + draw(st.integers(1, 512))
            text = text[:at] + change(text[at:end]) + text[end:]
    return text


def prose(names: list[str]) -> st.SearchStrategy[str]:
    """A real news text, usually edited, with the knowledge base's own ``names`` among the
    inserts (so entities and claims are found, not only missed); sometimes plain noise."""
    fragments = TEXT_FRAGMENTS + [f" {name} " for name in names]
    seeded = st.sampled_from(news_texts()).flatmap(lambda text: mutated_text(text, fragments))
    return st.one_of(seeded, seeded, seeded, st.text(max_size=2048))
