"""Delivery benchmark: how fast an alert reaches its reader, and how fast digests render.

1. **Alert latency**, with the Celery service running: real ``mediamon worker`` and
   ``mediamon beat`` processes on this machine's PostgreSQL and Redis (a key prefix of the
   run's own), a feed of on-theme article pages served on loopback, one instant subscription
   with no debounce, and a real SMTP server (aiosmtpd, in this process) recording the moment it
   accepts each message. For every article, the seconds from its match being committed
   (``article.processed_at``) to the SMTP server accepting the first alert that carries it
   (the outbox row's window covers it): p50 and p95. Target: p95 under 10 s.
2. **Digest rendering**, in this process on one core: 1,000 subscriptions (no filter, entity,
   claim and stance filters, eight time zones) over 500 stories built from real corpus
   articles, each digest built (``notify.digest``) and rendered to a MIME message
   (``notify.render``, Jinja2 + css-inline): digests per CPU second. Target: at least 50.

Run: ``.venv/bin/python -m bench.delivery [--articles 40] [--subscriptions 1000] [--stories 500]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bench.service import drop_database, recreate_database, spawn, stop
from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from notify.digest import build_digest
from notify.kinds import Mode
from notify.records import Envelope
from notify.render import render_digest
from notify.rules import Filter, StoredArticle, StoredClaim
from schema.db import make_engine, make_session_factory
from schema.models import Article, ArticleState, Delivery, Feed
from services.subscriptions import NewSubscription, add_subscription
from tests.integration.test_pipeline import seed_page
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss
from tests.support.net import free_port
from tests.support.news import news
from tests.support.redis_keys import delete_prefixed

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REDIS_URL = "redis://127.0.0.1:6379/0"
ZONES = (
    "UTC",
    "Asia/Karachi",
    "Asia/Kabul",
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Australia/Sydney",
)


class Timestamps:
    """An aiosmtpd handler that keeps each accepted message's Message-ID and acceptance time."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.content, policy=default)
        self.accepted[str(message["Message-ID"])] = time.time()
        return "250 accepted"


def alert_latency(articles: int, workdir: Path) -> list[float]:
    url = recreate_database()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    kb = load_kb(DEFAULT_KB_PATH)
    add_subscription(sessions, NewSubscription(address="watch@example.org", mode=Mode.INSTANT), kb)
    prefix = f"mediamon-bench:{uuid.uuid4().hex[:8]}:"
    handler = Timestamps()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    processes = []
    try:
        with CorpusSite() as site:
            pages = [seed_page(SEEDS / source.file) for source in kb.sources.values()]
            items = []
            for i in range(articles):
                # Unique text per article, so the content fingerprint never makes it a duplicate.
                page = pages[i % len(pages)].replace(
                    b"</article>", f"<p>Dispatch number {i}.</p></article>".encode()
                )
                site.set_static(f"/a/{i}.html", page)
                items.append(FeedItem(f"article {i}", site.url(f"/a/{i}.html")))
            site.set_static("/feeds/bench.rss", build_rss(items), content_type="application/rss+xml")
            with sessions.begin() as session:
                session.add(Feed(url=site.url("/feeds/bench.rss")))
            env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
            env.update(
                MEDIAMON_DATABASE_URL=url,
                MEDIAMON_BROKER_URL=REDIS_URL,
                MEDIAMON_BROKER_KEY_PREFIX=prefix,
                MEDIAMON_ALLOWED_PRIVATE_HOSTS="127.0.0.1",
                MEDIAMON_DISPATCH_INTERVAL_S="1",
                MEDIAMON_MAX_ENTRIES_PER_POLL=str(articles),
                MEDIAMON_HOST_MIN_DELAY_S="0",
                MEDIAMON_SECRET_KEY="bench-secret",
                MEDIAMON_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                MEDIAMON_ALERT_DEBOUNCE_S="0",
                MEDIAMON_ALERT_HOURLY_CAP="1000",
            )
            processes.append(spawn(env, workdir, "worker.log", "worker", "--concurrency", "2"))
            processes.append(spawn(env, workdir, "beat.log", "beat", "--schedule", str(workdir / "beat")))
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with sessions() as session:
                    done = session.scalars(
                        select(Article.processed_at).where(Article.state == ArticleState.DONE)
                    ).all()
                    sent = session.scalars(select(Delivery).where(Delivery.sent_at.is_not(None))).all()
                if (
                    len(done) >= articles
                    and sent
                    and max(d.window_end for d in sent) >= max(p for p in done if p)
                ):
                    break
                time.sleep(0.5)
            else:
                sys.exit(f"timed out; logs in {workdir}")
        with sessions() as session:
            processed = [p for p in session.scalars(select(Article.processed_at)) if p]
            windows = [
                (d.window_start, d.window_end, handler.accepted.get(d.message_id))
                for d in session.scalars(select(Delivery).order_by(Delivery.window_start))
            ]
        latencies = []
        for moment in processed:
            accepted = next((at for start, end, at in windows if start <= moment < end and at), None)
            if accepted is not None:
                latencies.append(accepted - moment.timestamp())
        return latencies
    finally:
        for process in processes:
            stop(process)
        smtp.stop()
        engine.dispose()
        drop_database()
        client = redis.Redis.from_url(REDIS_URL)
        delete_prefixed(client, prefix)
        client.close()


def render_rate(subscriptions: int, stories: int) -> tuple[int, float, int]:
    kb = load_kb(DEFAULT_KB_PATH)
    claims, entities = [c.id for c in kb.claims], [e.id for e in kb.entities]
    statements = {c.id: c.statement for c in kb.claims}
    names = {e.id: e.name for e in kb.entities}
    corpus = [a for a in news() if a.published >= datetime(2025, 5, 1, tzinfo=UTC)][:stories]
    start = min(a.published for a in corpus)
    stances = cycle(("asserts", "reports", "denies", "asserts"))
    articles = []
    for n, item in enumerate(corpus):
        evidence = item.text[:240]
        mentioned = (entities[n % len(entities)], entities[(n * 7) % len(entities)])
        articles.append(
            StoredArticle(
                article_id=n + 1,
                story_id=n + 1,
                url=item.url,
                title=item.title,
                site=item.source,
                published=item.published,
                stored_at=item.published,
                relevance=0.4 + (n % 6) / 10,
                entity_ids=frozenset(mentioned),
                claims=tuple(
                    StoredClaim(claims[(n + k) % len(claims)], 0.7, next(stances), evidence, 0, len(evidence))
                    for k in range(n % 3)
                ),
                mentions=tuple((e, 0, 5) for e in mentioned),
            )
        )
    window = (start, max(a.published for a in corpus) + timedelta(hours=1))
    rules = []
    for n in range(subscriptions):
        kind = n % 4
        rules.append(
            Filter(
                entity_ids=frozenset({entities[n % len(entities)]}) if kind == 1 else frozenset(),
                claim_ids=frozenset(claims[n % len(claims) : n % len(claims) + 5])
                if kind == 2
                else frozenset(),
                stances=frozenset({"denies"}) if kind == 3 else frozenset(),
            )
        )
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    total_stories = 0
    began = time.process_time()
    for n, rule in enumerate(rules):
        digest = build_digest(
            subscription_id=n,
            address=f"reader{n}@example.org",
            mode=Mode.DAILY,
            timezone=ZONES[n % len(ZONES)],
            window=window,
            rule=rule,
            articles=articles,
            statements=statements,
            entity_names=names,
        )
        envelope = Envelope(
            mail_from="mediamon <digest@mediamon.example>",
            to=digest.address,
            message_id=f"<bench.{n}@mediamon.example>",
            date=window[1],
            list_id="mediamon digest <digest.mediamon.example>",
            unsubscribe_url=f"https://mediamon.example/unsubscribe/{n}",
        )
        render_digest(digest, envelope).as_bytes()
        total_stories += digest.story_count
    return subscriptions, time.process_time() - began, total_stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=40, help="articles through the service")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--skip-service", action="store_true", help="only the rendering figure")
    args = parser.parse_args()

    count, cpu, shown = render_rate(args.subscriptions, args.stories)
    print(
        f"digest rendering: {count} digests over {args.stories} stories in {cpu:.2f} s CPU on one core "
        f"= {count / cpu:.1f} digests/s (target >= 50); {shown / count:.1f} stories per digest on average"
    )
    if args.skip_service:
        return
    with tempfile.TemporaryDirectory(prefix="mediamon-bench-") as workdir:
        latencies = alert_latency(args.articles, Path(workdir))
    if not latencies:
        sys.exit("no alert carried any article")
    cuts = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    print(
        f"alert latency over {len(latencies)} articles (match committed -> SMTP accepted, no debounce): "
        f"p50 {statistics.median(latencies):.2f} s, p95 {cuts[18]:.2f} s, max {max(latencies):.2f} s "
        f"(target p95 < 10 s)"
    )


if __name__ == "__main__":
    main()
