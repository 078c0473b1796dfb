"""The composition root: Settings in, ready-to-use parts out (the one place that happens).

The CLI, the Celery workers and the benchmarks all build their parts here, so the embedded
one-shot run and the service run the same code with the same limits. It sits at the top of
the service layer, below ``workers/`` and ``mediamon/``, so both faces use it without
importing each other.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from ingest.http import Fetcher, FetchPolicy, HostGate
from ingest.politeness import LocalHostGate, RedisHostGate
from matching.calibration import Calibration, load_calibration
from matching.kb import KnowledgeBase, load_kb
from matching.matcher import Matcher
from matching.relevance import load_relevance_model
from notify.senders import AppriseSender, FileSender, Sender, SmtpSender, sender_for
from schema.db import make_engine, make_session_factory, upgrade_database
from services.alerts import AlertPlanner
from services.articles import ArticleProcessor
from services.delivery import DeliveryConfig, Vocabulary
from services.digests import DigestPlanner
from services.limits import WriteLimits
from services.polling import FeedPoller
from services.sending import OutboxSender
from services.stories import StoryGrouper

if TYPE_CHECKING:
    from matching.semantic import SemanticClaimMatcher

_Record = TypeVar("_Record", WriteLimits, FetchPolicy)


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
    relevance_model = load_relevance_model(settings.relevance_model_path)
    claims = build_semantic(settings, kb, calibration) if settings.claim_method == "semantic" else None
    return Matcher(
        kb,
        claims,
        threshold=threshold,
        relevance_model=relevance_model,
        claim_min_relevance=settings.claim_min_relevance,
        version=matcher_version(settings, kb),
    )


def matcher_version(settings: Settings, kb: KnowledgeBase) -> str:
    """The knowledge base's version and a digest of everything else that decides matches: the
    method, thresholds, the calibration and relevance-model files (``1+3f2a…/9c41d0e2``)."""
    decides = {
        "method": settings.claim_method,
        "threshold": settings.claim_threshold,
        "claim_min_relevance": settings.claim_min_relevance,
        "calibration": _file_digest(settings.calibration_path),
        "relevance": _file_digest(settings.relevance_model_path),
    }
    digest = hashlib.sha256(json.dumps(decides, sort_keys=True).encode()).hexdigest()[:8]
    return f"{kb.full_version}/{digest}"


def _file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def build_semantic(settings: Settings, kb: KnowledgeBase, calibration: Calibration) -> SemanticClaimMatcher:
    """The semantic claim matcher with the bundled model."""
    # Imported here: it loads torch (seconds, hundreds of MiB), which lexical users never need.
    from matching.semantic import MiniLMEncoder, SemanticClaimMatcher

    return SemanticClaimMatcher(
        kb,
        MiniLMEncoder(threads=1),
        blend=calibration.blend,
        lexical_threshold=calibration.threshold("lexical"),
        claim_floors=calibration.claim_floors,
        cache_dir=settings.cache_dir,
        max_sentences=settings.semantic_max_sentences,
    )


def write_limits(settings: Settings) -> WriteLimits:
    return _from_settings(WriteLimits, settings)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The HTTP client's limits (feeds and pages each pass their own size cap per call)."""
    return _from_settings(
        FetchPolicy,
        settings,
        max_bytes=settings.max_page_bytes,
        retries=settings.http_retries,
        backoff=settings.retry_backoff,
    )


def _from_settings(record: type[_Record], settings: Settings, **named_otherwise: Any) -> _Record:
    """A dataclass of limits filled from the settings of the same names (and ``named_otherwise``),
    so a limit added to both is passed down without a line here."""
    values = {f.name: getattr(settings, f.name) for f in fields(record) if hasattr(settings, f.name)}
    return record(**{**values, **named_otherwise})


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
            prefix=f"{settings.broker_key_prefix}mediamon:host:",  # beside the deployment's queues
        )
    return LocalHostGate(settings.per_host_concurrency, settings.host_min_delay_s, time.sleep)


@dataclass
class WritePath:
    """The write path's two services sharing one HTTP client (close it when done)."""

    fetcher: Fetcher
    poller: FeedPoller
    articles: ArticleProcessor

    def close(self) -> None:
        self.fetcher.close()


def build_write_path(settings: Settings, store: Store, matcher: Matcher | None = None) -> WritePath:
    """Feed poller and article processor over ``store``, with one HTTP client for both."""
    fetcher = Fetcher(fetch_policy(settings), host_gate=build_host_gate(settings))
    limits = write_limits(settings)
    return WritePath(
        fetcher,
        FeedPoller(store.sessions, fetcher, limits),
        ArticleProcessor(store.sessions, fetcher, matcher or build_matcher(settings), limits),
    )


@contextmanager
def write_path(settings: Settings, store: Store, matcher: Matcher | None = None) -> Iterator[WritePath]:
    """:func:`build_write_path` for one run: its HTTP client is closed on exit."""
    built = build_write_path(settings, store, matcher)
    try:
        yield built
    finally:
        built.close()


class DeliveryNotConfigured(ValueError):
    """Delivery needs a setting that is missing (the message says which)."""


def delivery_config(settings: Settings) -> DeliveryConfig:
    """Delivery's settings; without ``MEDIAMON_SECRET_KEY`` no unsubscribe link can be signed."""
    if settings.secret_key is None:  # not delivery_configured (stated so for the type checker)
        raise DeliveryNotConfigured(
            "MEDIAMON_SECRET_KEY is required to send alerts and digests (it signs the unsubscribe "
            "links); set it to a long random value, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return DeliveryConfig(
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        secret_key=settings.secret_key.get_secret_value(),
        relevance_threshold=settings.relevance_threshold,
        alert_debounce_s=settings.alert_debounce_s,
        alert_hourly_cap=settings.alert_hourly_cap,
        spread_outlets=settings.spread_outlets,
        attempts=settings.delivery_attempts,
        unsubscribe_mailto=settings.unsubscribe_mailto,
    )


def build_route(settings: Settings) -> Callable[[str], Sender]:
    """The sender for each address: SMTP (or .eml files when no SMTP is configured) for email,
    Apprise for notification URLs."""
    mail: Sender = (
        SmtpSender.from_url(settings.smtp_url) if settings.smtp_url else FileSender(settings.outbox_dir)
    )
    notifications: Sender = AppriseSender()

    return partial(sender_for, mail=mail, apprise=notifications)


@dataclass
class Delivery:
    """Delivery's services over one store: digest and alert planning, and the outbox sender."""

    stories: StoryGrouper  # run first: messages show each story once
    digests: DigestPlanner
    alerts: AlertPlanner
    outbox: OutboxSender


def build_delivery(settings: Settings, store: Store, kb: KnowledgeBase | None = None) -> Delivery:
    config = delivery_config(settings)
    vocabulary = Vocabulary.of(kb or load_kb(settings.kb_path))
    return Delivery(
        StoryGrouper(store.sessions),
        DigestPlanner(store.sessions, vocabulary, config),
        AlertPlanner(store.sessions, vocabulary, config),
        OutboxSender(store.sessions, build_route(settings), config),
    )
