"""Real corpus articles stored through the write path with matches the test chooses.

Report tests need "articles whose dates and matches are known": each call stores one real
article (its own text, outlet and date) as the pipeline would, through
``schema.writes.replace_matches``, so the trend rollup is maintained exactly as in service.
The matches are given, not computed, so a test knows every count it asserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from config.settings import Settings
from matching.claims import ClaimHit
from matching.entities import MentionHit
from matching.kb import KnowledgeBase, load_kb
from matching.matcher import MatchResult
from matching.sentences import Sentence
from schema import writes
from schema.models import Article, ArticleState
from tests.support.news import NewsArticle


def shipped_kb() -> KnowledgeBase:
    return load_kb(Settings().kb_path)


def sync_shipped_kb(session: Session) -> KnowledgeBase:
    """The shipped entities and claims in the store (matches refer to them)."""
    kb = shipped_kb()
    writes.sync_kb(session, kb)
    return kb


def store_matched(
    session: Session,
    article: NewsArticle,
    *,
    entities: Iterable[str] = (),
    claims: Sequence[tuple[str, str]] = (),
    relevance: float = 0.8,
    dated_at: datetime | None = None,
    first_seen: datetime | None = None,
    features: tuple[tuple[str, float], ...] = (),
) -> Article:
    """Store ``article`` as processed, mentioning ``entities`` and matching ``claims``
    (``(claim_id, stance)``), each with its first sentence as evidence and ``features`` as
    what decided it."""
    when = dated_at or article.published
    row = Article(
        canonical_url=article.url,
        url=article.url,
        title=article.title,
        site_name=article.source,
        source=article.url.split("/")[2].removeprefix("www."),
        published=when,
        dated_at=when,
        text=article.text,
        state=ArticleState.PENDING,  # as accepted from a feed; done below, as the write path does
        created_at=first_seen or when,
    )
    session.add(row)
    session.flush()
    row.state, row.processed_at = ArticleState.DONE, first_seen or when
    end = article.text.find(". ") + 1 or min(len(article.text), 200)
    evidence = Sentence(0, end, article.text[:end])
    result = MatchResult(
        mentions=[MentionHit(e, 0, len(e), e) for e in entities],
        claims=[
            ClaimHit(c, 0.9, "semantic", evidence, stance, features)  # type: ignore[arg-type]
            for c, stance in claims
        ],
        relevance=relevance,
    )
    writes.replace_matches(session, row, result)
    session.flush()
    return row
