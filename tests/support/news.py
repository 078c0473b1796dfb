"""The real Pakistani news corpus (../shared/corpus/news), read at test time, never copied.

6,447 Dawn and APP articles of spring 2025 with their real dates: the inputs of the delivery,
story and report tests, so those run on prose and timing nobody here wrote.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from schema.models import Article, ArticleState

NEWS = (
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "news" / "pk-news-2025-04-15_05-31.jsonl.gz"
)


@dataclass(frozen=True)
class NewsArticle:
    id: str
    source: str  # Dawn or APP
    url: str
    title: str
    published: datetime
    text: str


@cache
def news() -> tuple[NewsArticle, ...]:
    """Every article of the corpus, in publication order (fails in CI when the corpus is missing)."""
    if not NEWS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the news corpus is required in CI: {NEWS}")
        pytest.skip(f"the news corpus is not here: {NEWS}")
    with gzip.open(NEWS, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return tuple(
        NewsArticle(
            r["id"],
            r["source"],
            r["url"],
            r["title"],
            datetime.fromisoformat(r["published"].replace("Z", "+00:00")),
            r["text"],
        )
        for r in records
    )


def news_about(*words: str, source: str | None = None, limit: int = 10) -> list[NewsArticle]:
    """The first articles whose title holds every word (case folded), optionally from one outlet."""
    wanted = [w.casefold() for w in words]
    found = [
        a
        for a in news()
        if all(w in a.title.casefold() for w in wanted) and (source is None or a.source == source)
    ]
    return found[:limit]


def processed_row(article: NewsArticle, stored_at: datetime, relevance: float = 0.8) -> Article:
    """An ``article`` row as the write path leaves a processed article (text, title, outlet)."""
    return Article(
        canonical_url=article.url,
        url=article.url,
        title=article.title,
        site_name=article.source,
        published=article.published,
        text=article.text,
        state=ArticleState.DONE,
        relevance=relevance,
        created_at=stored_at,
        processed_at=stored_at,
    )
