"""What every part of the pipeline shares: its configuration and the handles it is given."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from ingest.http import Fetcher, FetchResult
from ingest.match import Matcher

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
#: Live feeds and sites do return these and come back: a soft failure, retried later.
SOFT_HTTP_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})


def is_soft_failure(fetched: FetchResult) -> bool:
    """A failed download worth trying again later (network trouble or a soft status)."""
    return fetched.error_kind == "network" or fetched.status in SOFT_HTTP_STATUSES


MAX_ARTICLE_ATTEMPTS = 3


@dataclass(frozen=True)
class PipelineConfig:
    max_entries_per_poll: int = 200
    max_feed_bytes: int = 5 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    min_text_chars: int = 200
    keep_raw_html: bool = False
    fetch_workers: int = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


def elapsed_ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


class PipelineParts:
    """The handles every step is given; the session factory is the only way to the database."""

    sessions: sessionmaker[Session]
    fetcher: Fetcher
    matcher: Matcher
    config: PipelineConfig
    clock: Callable[[], datetime]
