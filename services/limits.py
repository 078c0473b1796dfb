"""What the write-path services are given besides their handles: limits, a clock, a stopwatch."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class WriteLimits:
    """The write path's limits (``services.wiring`` fills them from Settings)."""

    max_entries_per_poll: int = 200
    max_feed_bytes: int = 5 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    min_text_chars: int = 200
    keep_raw_html: bool = False
    fetch_workers: int = 8  # download threads of the one-shot run
    per_host_concurrency: int = 2  # of them, at most this many on one host's pages at once
    # Google News article links name no article: ask Google (network) or skip them.
    decode_google_news: bool = True
    decode_timeout_s: int = 10  # seconds per request to news.google.com


def utc_now() -> datetime:
    return datetime.now(UTC)


def elapsed_ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
