"""The ONE place each query condition is written, split by concern.

feeds.py     which feeds exist and which are due
articles.py  which articles to process, which are stored, their duplicates, which failed and why
health.py    counts and latencies for status and metrics
search.py    full-text search over stored articles (ranked, with snippets)
browse.py    pages of stored rows for the read API and the dashboard (keyset, newest first)
spikes.py    where the store's history starts, and the outlets, entities and stories of a spike

Every function takes a Session and returns rows or plain values; none commits. Callers use
``from schema import queries`` and ``queries.due_feeds(...)``: the names are re-exported here.
"""

from schema.queries.articles import (
    FailureCount,
    articles_in_state,
    articles_to_rematch,
    count_awaiting_rematch,
    count_in_state,
    done_article_texts,
    duplicate_urls,
    existing_canonical_urls,
    failure_counts,
    newest_kb_version,
    original_with_content,
    pending_article_ids,
    pending_article_urls,
    stale_article_ids,
    stored_articles,
)
from schema.queries.browse import (
    BrowseFilter,
    article_page,
    claim_page,
    entity_page,
    feed_page,
    known_ids,
    match_page,
    stored_article,
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
from schema.queries.search import SearchHit, SearchQuery, search_articles
from schema.queries.spikes import first_stored_at, spike_entities, spike_sources, spike_stories

__all__ = [
    "BrowseFilter",
    "FailureCount",
    "SearchHit",
    "SearchQuery",
    "active_feeds",
    "all_feeds",
    "article_counts_by_state",
    "article_page",
    "articles_in_state",
    "articles_to_rematch",
    "claim_page",
    "count_awaiting_rematch",
    "count_in_state",
    "counts",
    "done_article_texts",
    "due_feeds",
    "duplicate_urls",
    "entity_page",
    "existing_canonical_urls",
    "failure_counts",
    "feed_counts",
    "feed_page",
    "feeds_by_url",
    "first_stored_at",
    "known_ids",
    "match_page",
    "newest_kb_version",
    "original_with_content",
    "pending_article_ids",
    "pending_article_urls",
    "poll_counts_by_outcome",
    "recent_article_latencies",
    "recent_poll_durations",
    "search_articles",
    "spike_entities",
    "spike_sources",
    "spike_stories",
    "stale_article_ids",
    "stored_article",
    "stored_articles",
]
