"""Text lost to libxml2's nesting limit is reported as such, not as "no main text found".

The pages are real corpus pages whose body is wrapped, at test time, in nested ``<div>``s.
"""

from __future__ import annotations

import pytest

from ingest.clean import LIBXML2_MAX_DEPTH, CleanArticle, ExtractionFailed, clean_html, nested_too_deep
from tests.support.corpus_site import PAGES_DIR, load_manifest
from tests.support.extraction_quality import page_url
from tests.support.nesting import nest_body

NESTED_REASON = "page nested deeper than libxml2's limit of 256 levels; text lost"
# Three pages the extractor reads well when they are not nested (checked below).
CHOSEN = {"tonedeaf.thebrag.com.luboku.html", "blog.python.org.html", "reuters.com.parasite.html"}
PAGES = [page for page in load_manifest() if page["file"] in CHOSEN]


@pytest.fixture(params=PAGES, ids=lambda page: page["file"])
def page(request: pytest.FixtureRequest) -> dict[str, object]:
    chosen: dict[str, object] = request.param
    return chosen


def _raw(page: dict[str, object]) -> bytes:
    return (PAGES_DIR / str(page["file"])).read_bytes()


def test_the_pages_extract_when_not_nested_or_nested_within_the_limit(page):
    for depth in (0, 200):
        result = clean_html(nest_body(_raw(page), depth), page_url(page))
        assert isinstance(result, CleanArticle), (depth, result)
        assert str(page["must_include"][0]) in result.text


def test_an_article_nested_in_300_divs_says_the_nesting_limit_lost_its_text(page):
    nested = nest_body(_raw(page), 300)

    as_bytes = clean_html(nested, page_url(page))
    as_text = clean_html(nested.decode("utf-8", "replace"), page_url(page), charset=None)

    assert as_bytes == ExtractionFailed(NESTED_REASON)
    assert as_text == ExtractionFailed(NESTED_REASON)
    assert str(LIBXML2_MAX_DEPTH) in NESTED_REASON


def test_text_kept_above_the_cut_off_is_not_mistaken_for_a_short_article(page):
    """The parser keeps what comes before the deep part: too short, because the rest was lost."""
    nested = nest_body(_raw(page), 300, before=b"<p>A short note above the story, kept by the parser.</p>")

    result = clean_html(nested, page_url(page))

    assert result == ExtractionFailed(NESTED_REASON)


def test_the_limit_is_libxml2s_not_a_guess():
    """<html> and <body> are two levels: 254 divs inside reach 256 levels, one more is over."""

    def skeleton(divs: int) -> bytes:
        return b"<html><body>" + b"<div>" * divs + b"deep" + b"</div>" * divs + b"</body></html>"

    assert not nested_too_deep(skeleton(LIBXML2_MAX_DEPTH - 2))
    assert nested_too_deep(skeleton(LIBXML2_MAX_DEPTH - 1))
    assert nested_too_deep(skeleton(100_000))


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (b"<html><body>" + b"<div>" * 100 + b"</div>" * 100 + b"</body></html>", "no main text found"),
        (b"\x00" * 5000, "no main text found"),
        (b'{"json": true, "items": [1, 2, 3]}', "no main text found"),
        (
            "<html><body><article><p>Too short to be an article.</p></article></body></html>",
            "main text too short",
        ),
    ],
    ids=["empty nesting within the limit", "nul bytes", "json", "short text"],
)
def test_other_failures_keep_their_own_reason(html, reason):
    result = clean_html(html, "http://example.test/page")
    assert isinstance(result, ExtractionFailed)
    assert result.reason.startswith(reason)
