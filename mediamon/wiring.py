"""The composition root: Settings in, ready-to-use parts out.

The CLI and the Celery app both build their pipeline here, so the embedded one-shot run
and the service run the same code with the same limits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ingest.calibration import Calibration, load_calibration
from ingest.http import Fetcher, FetchPolicy, HostGate
from ingest.kb import KnowledgeBase, load_kb
from ingest.match import Matcher
from ingest.pipeline import Pipeline, PipelineConfig
from ingest.politeness import LocalHostGate, RedisHostGate
from mediamon.settings import Settings
from schema.db import make_engine, make_session_factory, upgrade_database

if TYPE_CHECKING:
    from ingest.semantic import SemanticClaimMatcher


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """Engine and session factory; with ``migrate`` the schema is brought to the newest revision."""
    if migrate:
        upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    return Store(engine, make_session_factory(engine))


def build_matcher(settings: Settings, kb: KnowledgeBase | None = None) -> Matcher:
    """The configured claim-matching method with its calibrated threshold (or the one set)."""
    kb = kb or load_kb(settings.kb_path)
    calibration = load_calibration(settings.calibration_path)
    threshold = settings.claim_threshold
    if threshold is None:
        threshold = calibration.threshold(settings.claim_method)
    if settings.claim_method == "semantic":
        return Matcher(kb, build_semantic(settings, kb, calibration), threshold=threshold)
    return Matcher(kb, threshold=threshold)


def build_semantic(settings: Settings, kb: KnowledgeBase, calibration: Calibration) -> SemanticClaimMatcher:
    """The semantic claim matcher with the bundled model."""
    # Imported here: it loads torch (seconds, hundreds of MiB), which lexical users never need.
    from ingest.semantic import MiniLMEncoder, SemanticClaimMatcher

    return SemanticClaimMatcher(
        kb,
        MiniLMEncoder(threads=1),
        blend=calibration.blend,
        lexical_threshold=calibration.threshold("lexical"),
        cache_dir=settings.cache_dir,
        max_sentences=settings.semantic_max_sentences,
    )


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        max_entries_per_poll=settings.max_entries_per_poll,
        max_feed_bytes=settings.max_feed_bytes,
        max_page_bytes=settings.max_page_bytes,
        min_text_chars=settings.min_text_chars,
        keep_raw_html=settings.keep_raw_html,
        fetch_workers=settings.fetch_workers,
    )


def build_host_gate(settings: Settings) -> HostGate:
    """Politeness per host: shared through Redis by every worker when the broker is Redis,
    within this process otherwise (the embedded one-shot run)."""
    if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(
            settings.broker_url,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),  # an outage should show at once: the gate falls back
        )
        return RedisHostGate(
            client,
            max_concurrent=settings.per_host_concurrency,
            min_delay_s=settings.host_min_delay_s,
            lease_s=settings.host_lease_s,
            wait_timeout_s=settings.host_wait_s,
        )
    return LocalHostGate(settings.per_host_concurrency, settings.host_min_delay_s, time.sleep)


def build_pipeline(settings: Settings, store: Store, matcher: Matcher | None = None) -> Pipeline:
    """A Pipeline with one HTTP client for feed and page downloads (sizes are capped per call)."""
    policy = FetchPolicy.from_settings(settings, max_bytes=settings.max_page_bytes)
    return Pipeline(
        store.sessions,
        fetcher=Fetcher(policy, host_gate=build_host_gate(settings)),
        matcher=matcher or build_matcher(settings),
        config=pipeline_config(settings),
    )


@contextmanager
def pipeline(settings: Settings, store: Store, matcher: Matcher | None = None) -> Iterator[Pipeline]:
    """:func:`build_pipeline` for one run: its HTTP client is closed on exit."""
    built = build_pipeline(settings, store, matcher)
    try:
        yield built
    finally:
        built.fetcher.close()
