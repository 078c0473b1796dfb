"""Delivery in the Celery service for real: `mediamon worker` and two `mediamon beat` processes
on PostgreSQL and Redis, feeds served on loopback, a real SMTP server receiving.

An article that arrives through a feed reaches its instant subscriber by mail; a digest that is
due is received once although two beats dispatch it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from notify.kinds import DeliveryState, Mode
from schema.db import make_engine, make_session_factory
from schema.models import Delivery, Feed, Subscription
from services.subscriptions import NewSubscription, add_subscription
from tests.integration.conftest import wait_for
from tests.integration.test_pipeline import seed_page
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss
from tests.support.smtp import smtp_server

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.mark.integration
def test_an_article_from_a_feed_reaches_its_subscriber_and_a_due_digest_goes_out_once(
    service_env, spawn, tmp_path, request
):
    kb = load_kb(DEFAULT_KB_PATH)
    engine = make_engine(service_env["MEDIAMON_DATABASE_URL"])
    request.addfinalizer(engine.dispose)
    sessions = make_session_factory(engine)
    instant = add_subscription(sessions, NewSubscription(address="watch@example.org", mode=Mode.INSTANT), kb)
    due_at = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")
    daily = add_subscription(
        sessions, NewSubscription(address="daily@example.org", at_local=due_at, send_empty=True), kb
    )
    with sessions.begin() as session:  # subscribed yesterday: today's slot (a minute ago) is due
        session.get_one(Subscription, daily).created_at = datetime.now(UTC) - timedelta(days=1)

    with CorpusSite() as site, smtp_server() as (smtp_url, mailbox):
        site.set_static("/news/seed.html", seed_page(SEEDS_DIR / kb.sources["seed-2023"].file))
        site.set_static(
            "/feeds/alerts.rss",
            build_rss([FeedItem("seed", site.url("/news/seed.html"))]),
            content_type="application/rss+xml",
        )
        with sessions.begin() as session:
            session.add(Feed(url=site.url("/feeds/alerts.rss")))
        env = {
            **service_env,
            "MEDIAMON_SECRET_KEY": "service-test-secret",
            "MEDIAMON_SMTP_URL": smtp_url,
            "MEDIAMON_PUBLIC_URL": "https://mediamon.example",
            "MEDIAMON_DELIVERY_INTERVAL_S": "1",
            "MEDIAMON_ALERT_DEBOUNCE_S": "0",
        }
        spawn(env, "worker", "--concurrency", "2", "--hostname", "w1@%h", log="worker.log")
        for n in (1, 2):  # two beats at once must not send the digest twice
            spawn(env, "beat", "--schedule", str(tmp_path / f"beat{n}"), log=f"beat{n}.log")

        def received(address: str) -> list[EmailMessage]:
            return [m for m in list(mailbox.messages) if m["To"] == address]

        wait_for(lambda: bool(received("watch@example.org")), 300, "the instant alert", tmp_path)
        wait_for(lambda: bool(received("daily@example.org")), 300, "the daily digest", tmp_path)
        time.sleep(4)  # several more dispatch rounds from both beats

        alert = received("watch@example.org")[0]
        text = alert.get_body(preferencelist=("plain",))
        assert text is not None and "/news/seed.html" in text.get_content()
        assert len(received("daily@example.org")) == 1, "one digest, whatever the number of beats"
        with sessions() as session:
            states = {d.subscription_id: d.state for d in session.scalars(select(Delivery))}
        assert states[daily] is DeliveryState.SENT and states[instant] is DeliveryState.SENT
