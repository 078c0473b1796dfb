"""trafilatura → :class:`CleanArticle`: main text and metadata of one HTML page.

A page trafilatura cannot extract (or that yields too little text to be an article) comes
back as :class:`ExtractionFailed` with the reason, so the pipeline stores the article in
state ``failed`` instead of silently dropping it.

A page nested deeper than libxml2 allows (:data:`LIBXML2_MAX_DEPTH`) is cut off where the
limit is reached: lxml stops parsing there, so the text below is lost. Such a failure says so,
instead of the "no main text found" it would otherwise look like.

The published date comes from the page's own markup only (:mod:`ingest.page_dates`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import py3langid
import trafilatura
from lxml import etree
from trafilatura.settings import Document

from ingest.page_dates import page_published

#: trafilatura dates the page too; its answer is not used (ingest.page_dates reads the
#: date), so keep that pass cheap.
_TRAFILATURA_DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}

#: The deepest element nesting libxml2 parses without its XML_PARSE_HUGE option (lxml's
#: ``huge_tree``, which trafilatura does not set): an element 257 levels down stops it with
#: "Excessive depth in document: 256", and the rest of the page is dropped.
LIBXML2_MAX_DEPTH = 256
NESTED_TOO_DEEP = f"page nested deeper than libxml2's limit of {LIBXML2_MAX_DEPTH} levels; text lost"


@dataclass(frozen=True)
class CleanArticle:
    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ExtractionFailed:
    reason: str


def clean_html(
    html: bytes | str, url: str | None = None, *, charset: str | None = None, min_chars: int = 200
) -> CleanArticle | ExtractionFailed:
    """Extract the main text and metadata. Never raises for bad HTML."""
    if isinstance(html, bytes) and charset:
        # The server's declared charset wins; without one trafilatura sniffs meta tags and bytes.
        with contextlib.suppress(LookupError):  # an unknown charset name: let trafilatura sniff
            html = html.decode(charset, errors="replace")
    if not html or not html.strip():
        return ExtractionFailed("empty page")
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=False,
            deduplicate=False,
            date_extraction_params=_TRAFILATURA_DATE_PARAMS,
        )
    except Exception as exc:
        return ExtractionFailed(f"extractor crashed: {type(exc).__name__}: {exc}")
    if not isinstance(document, Document) or not document.text:
        return ExtractionFailed(NESTED_TOO_DEEP if nested_too_deep(html) else "no main text found")
    text = document.text.strip()
    if len(text) < min_chars:
        # What was kept may be only the part above the cut-off.
        if nested_too_deep(html):
            return ExtractionFailed(NESTED_TOO_DEEP)
        return ExtractionFailed(f"main text too short ({len(text)} < {min_chars} characters)")
    return CleanArticle(
        text=text,
        title=_clean(document.title),
        author=_clean(document.author),
        published=page_published(html),
        site_name=_clean(document.sitename),
        language=_language(document.language, text),
    )


def nested_too_deep(html: bytes | str) -> bool:
    """Whether libxml2's HTML parser stops at its depth limit on this page.

    Asked only when extraction has failed, so the second parse costs nothing on the common
    path. The parser's own error log is the evidence, not a count of tags: HTML closes many
    elements implicitly, which only the parser knows.
    """
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    parser = etree.HTMLParser(encoding="utf-8" if isinstance(html, str) else None)
    # A page lxml cannot make a tree of still leaves its log: was the depth limit among its problems?
    with contextlib.suppress(etree.LxmlError, ValueError):
        etree.fromstring(data, parser)
    return any("Excessive depth" in error.message for error in parser.error_log)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _language(declared: str | None, text: str) -> str | None:
    """The page's declared language if it has one, else a guess from the text itself."""
    if declared:
        return declared.split("-")[0].split("_")[0].lower()[:16]
    language, _score = py3langid.classify(text[:5000])
    return str(language)


def clean_text(html: bytes) -> str:
    """The main text of a page as the pipeline extracts it; empty when there is none."""
    cleaned = clean_html(html)
    return cleaned.text if isinstance(cleaned, CleanArticle) else ""
