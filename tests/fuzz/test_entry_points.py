"""Fuzzing the pure entry points the pipeline feeds with what remote servers send.

    ingest.parse.parse_feed     feed bytes (any content type) → ParsedFeed
    ingest.clean.clean_html     page bytes or text (any charset) → CleanArticle | ExtractionFailed
    matching.matcher.Matcher    clean text → MatchResult (the lexical matcher: no model to load)

Properties, for every input: it never raises, it returns the documented types with their
documented invariants, and its output is bounded by its input. Inputs are real corpus files
mutated by Hypothesis (tests/fuzz/strategies.py), plus noise.

Bounded for CI: a fixed number of examples per target (``FUZZ_PROFILE=ci``, the default; about
half a minute for the three on this machine), no deadline per example. ``FUZZ_PROFILE=fuzz``
runs fifty times as many, for a longer hunt by hand.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from config.settings import DEFAULT_KB_PATH
from ingest.clean import CleanArticle, ExtractionFailed, clean_html
from ingest.parse import Entry, ParsedFeed, parse_feed
from matching.claims import ClaimHit
from matching.entities import MentionHit
from matching.kb import load_kb
from matching.matcher import Matcher, MatchResult
from services.failures import reason_key
from tests.fuzz.strategies import feed_documents, fuzz_settings, html_documents, prose

pytestmark = pytest.mark.fuzz

FEED_URL = "http://feeds.test/rss"
CONTENT_TYPES = [
    None,
    "application/rss+xml",
    "application/atom+xml; charset=utf-8",
    "text/html",
    "application/json",
]
CHARSETS = [None, "utf-8", "iso-8859-1", "windows-1252", "utf-16", "shift_jis", "x-no-such-charset"]

KB = load_kb(DEFAULT_KB_PATH)
MATCHER = Matcher(KB)
NAMES = sorted({form for entity in KB.entities for form in entity.surface_forms})
STANCES = {"asserts", "reports", "denies"}


def _aware(moment: datetime | None) -> bool:
    return moment is None or (isinstance(moment, datetime) and moment.utcoffset() is not None)


def _text_or_none(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == value.strip() and value != "")


@fuzz_settings(examples=150)
@given(content=feed_documents(), content_type=st.sampled_from(CONTENT_TYPES))
def test_parse_feed(content: bytes, content_type: str | None) -> None:
    parsed = parse_feed(content, FEED_URL, content_type)

    assert isinstance(parsed, ParsedFeed)
    event(
        "error"
        if parsed.error
        else f"{'bozo' if parsed.problem else 'clean'}, entries: {bool(parsed.entries)}"
    )
    if parsed.error is not None:
        assert isinstance(parsed.error, str) and parsed.error
        assert parsed.entries == [] and parsed.title is None
    assert parsed.problem is None or isinstance(parsed.problem, str)
    assert _text_or_none(parsed.title)
    assert parsed.ttl_minutes is None or (isinstance(parsed.ttl_minutes, int) and parsed.ttl_minutes >= 0)
    # Bounded: an entry takes bytes of the document, and no text is longer than the document
    # (a link may be longer: it is resolved against the feed's URL).
    assert len(parsed.entries) * 8 <= len(content)
    for entry in parsed.entries:
        assert isinstance(entry, Entry)
        assert isinstance(entry.link, str) and entry.link
        assert all(_text_or_none(v) for v in (entry.entry_id, entry.title, entry.summary))
        assert _aware(entry.published) and _aware(entry.updated)
        for value in (entry.title, entry.summary, entry.entry_id):
            assert len(value or "") <= 8 * len(content) + len(FEED_URL)


@fuzz_settings(examples=30)
@given(
    html=html_documents(),
    charset=st.sampled_from(CHARSETS),
    min_chars=st.sampled_from([0, 1, 200, 5000]),
)
def test_clean_html(html: bytes | str, charset: str | None, min_chars: int) -> None:
    result = clean_html(html, "http://news.test/story", charset=charset, min_chars=min_chars)

    assert isinstance(result, CleanArticle | ExtractionFailed)
    event(reason_key(result.reason) if isinstance(result, ExtractionFailed) else "article")
    if isinstance(result, ExtractionFailed):
        assert isinstance(result.reason, str) and result.reason
        return
    assert isinstance(result.text, str) and result.text == result.text.strip()
    assert min_chars <= len(result.text) <= len(html), "bounded by the page"
    assert all(_text_or_none(v) for v in (result.title, result.author, result.site_name))
    assert result.language is None or (isinstance(result.language, str) and 0 < len(result.language) <= 16)
    assert _aware(result.published)


@fuzz_settings(examples=150)
@given(text=prose(NAMES))
def test_match(text: str) -> None:
    result = MATCHER.match(text)

    assert isinstance(result, MatchResult)
    event(f"mentions: {bool(result.mentions)}, claims: {bool(result.claims)}")
    assert 0.0 <= result.relevance <= 1.0
    assert len(result.mentions) <= len(text), "bounded by the text"
    entity_ids = {entity.id for entity in KB.entities}
    for mention in result.mentions:
        assert isinstance(mention, MentionHit)
        assert mention.entity_id in entity_ids
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start : mention.end] == mention.text, "offsets point into the text given"
    if not result.mentions:
        assert result.claims == [] and result.relevance == 0.0
    claim_ids = [claim.claim_id for claim in result.claims]
    assert len(claim_ids) == len(set(claim_ids)) <= len(KB.claims), "one hit per claim at most"
    for claim in result.claims:
        assert isinstance(claim, ClaimHit)
        assert 0.0 < claim.score <= 1.0
        assert claim.stance in STANCES
        evidence = claim.evidence
        assert 0 <= evidence.start <= evidence.end <= len(text)
        assert text[evidence.start : evidence.end] == evidence.text
