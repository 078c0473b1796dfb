"""The ONE place each query condition is written, split by concern.

feeds.py     which feeds exist and which are due
articles.py  which articles to process, which are stored, their duplicates
health.py    counts and latencies for status and metrics

Every function takes a Session and returns rows or plain values; none commits. Callers use
``from schema import queries`` and ``queries.due_feeds(...)``: the names are re-exported here.
"""

from schema.queries.articles import (
    done_article_texts,
    duplicate_urls,
    existing_canonical_urls,
    original_with_content,
    pending_article_ids,
    stale_article_ids,
    stored_articles,
)
from schema.queries.feeds import active_feeds, all_feeds, due_feeds, feeds_by_url
from schema.queries.health import (
    article_counts_by_state,
    counts,
    feed_counts,
    poll_counts_by_outcome,
    recent_article_latencies,
    recent_poll_durations,
)

__all__ = [
    "active_feeds",
    "all_feeds",
    "article_counts_by_state",
    "counts",
    "done_article_texts",
    "due_feeds",
    "duplicate_urls",
    "existing_canonical_urls",
    "feed_counts",
    "feeds_by_url",
    "original_with_content",
    "pending_article_ids",
    "poll_counts_by_outcome",
    "recent_article_latencies",
    "recent_poll_durations",
    "stale_article_ids",
    "stored_articles",
]
