"""Plain-data views of matches and stored articles, shared by `match`, `export` and `matches`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from matching.kb import KnowledgeBase
from matching.matcher import MatchResult
from matching.text import normalised_key
from schema import queries
from schema.models import ArticleState

CSV_FIELDS = [
    "url",
    "canonical_url",
    "title",
    "published",
    "published_source",
    "source",
    "language",
    "relevance",
    "entities",
    "claims",
    "also_at",
    "text",
]
#: Added to every record (and CSV row) when failed articles are exported too.
STATE_FIELDS = ["state", "reason", "attempts"]
_BATCH = 200


def csv_fields(include_failed: bool = False) -> list[str]:
    """The CSV columns: :data:`CSV_FIELDS`, then the state columns when failures are included."""
    return CSV_FIELDS + STATE_FIELDS if include_failed else CSV_FIELDS


def match_json(kb: KnowledgeBase, result: MatchResult) -> dict[str, Any]:
    """The `mediamon match` document: entities with every mention, claims with evidence."""
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for m in result.mentions:
        by_entity.setdefault(m.entity_id, []).append({"start": m.start, "end": m.end, "text": m.text})
    statements = {c.id: c.statement for c in kb.claims}
    return {
        "entities": [
            {"id": e.id, "name": e.name, "type": e.type, "mentions": by_entity[e.id]}
            for e in kb.entities
            if e.id in by_entity
        ],
        "claims": [
            {
                "id": c.claim_id,
                "statement": statements.get(c.claim_id, ""),
                "score": c.score,
                "method": c.method,
                "stance": c.stance,
                "evidence": {"text": c.evidence.text, "start": c.evidence.start, "end": c.evidence.end},
                "features": dict(c.features) or None,
            }
            for c in result.claims
        ],
        "relevance": result.relevance,
    }


def article_records(
    session: Session,
    kb: KnowledgeBase,
    *,
    since: datetime | None = None,
    entity_id: str | None = None,
    claim_id: str | None = None,
    include_failed: bool = False,
) -> Iterator[dict[str, Any]]:
    """One export record per stored original article, streamed in batches.

    With ``include_failed``, articles that could not be fetched or extracted come too, in the
    same order (newest first), and every record says its ``state`` (``done`` or ``failed``),
    the failure ``reason`` and the download ``attempts``. A failed article has what its feed
    entry gave (URL, title, date) and no text, entities or claims.
    """
    names = {e.id: e.name for e in kb.entities}
    statements = {c.id: c.statement for c in kb.claims}
    query = queries.stored_articles(
        session, since=since, entity_id=entity_id, claim_id=claim_id, include_failed=include_failed
    )
    result = session.scalars(query.execution_options(yield_per=_BATCH))
    for batch in result.partitions(_BATCH):
        also_at = queries.duplicate_urls(session, [a.id for a in batch])
        for article in batch:
            counts = Counter(m.entity_id for m in article.mentions)
            record = {
                "url": article.url,
                "canonical_url": article.canonical_url,
                # A failed article never got the page's title: the feed entry's is what there is.
                "title": article.feed_title if article.state is ArticleState.FAILED else article.title,
                "published": article.published.isoformat() if article.published else None,
                # Where the date came from: page, feed, url, or first_seen (then published is empty).
                "published_source": article.published_source.value if article.published_source else None,
                "source": article.site_name or (article.feed.title if article.feed else None),
                "feed": article.feed.url if article.feed else None,
                "language": article.language,
                "relevance": article.relevance,
                "text": article.text,
                "entities": [
                    {"id": eid, "name": names.get(eid, eid), "count": n} for eid, n in counts.most_common()
                ],
                "claims": [
                    {
                        "id": m.claim_id,
                        "statement": statements.get(m.claim_id, ""),
                        "score": m.score,
                        "stance": m.stance,
                        "evidence": m.evidence,
                        "features": m.features,
                    }
                    for m in sorted(article.claim_matches, key=lambda m: -m.score)
                ],
                "also_at": also_at.get(article.id, []),
            }
            if include_failed:
                record |= {
                    "state": article.state.value,
                    "reason": article.error,
                    "attempts": article.attempts,
                }
            yield record


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A CSV row: nested lists become compact JSON."""
    row = {k: record.get(k) for k in csv_fields("state" in record)}
    for key in ("entities", "claims", "also_at"):
        row[key] = json.dumps(record[key], ensure_ascii=False)
    return row


def resolve_entity(kb: KnowledgeBase, name: str) -> str | None:
    """An entity id from its id, name or any alias, compared as the matcher compares spellings."""
    wanted = normalised_key(name)
    for entity in kb.entities:
        if name == entity.id or wanted in (normalised_key(f) for f in entity.surface_forms):
            return entity.id
    return None
