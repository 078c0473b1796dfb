"""trafilatura → :class:`CleanArticle`: main text and metadata of one HTML page.

A page trafilatura cannot extract (or that yields too little text to be an article) comes
back as :class:`ExtractionFailed` with the reason, so the pipeline stores the article in
state ``failed`` instead of silently dropping it.

The published date comes from the page's own markup only (:mod:`ingest.page_dates`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import py3langid
import trafilatura
from trafilatura.settings import Document

from ingest.page_dates import page_published

#: trafilatura dates the page too; its answer is not used (ingest.page_dates reads the
#: date), so keep that pass cheap.
_TRAFILATURA_DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}


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
        return ExtractionFailed("no main text found")
    text = document.text.strip()
    if len(text) < min_chars:
        return ExtractionFailed(f"main text too short ({len(text)} < {min_chars} characters)")
    return CleanArticle(
        text=text,
        title=_clean(document.title),
        author=_clean(document.author),
        published=page_published(html),
        site_name=_clean(document.sitename),
        language=_language(document.language, text),
    )


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
