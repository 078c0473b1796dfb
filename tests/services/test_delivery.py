"""Digests and alerts from the store to a real SMTP server on loopback, exactly once
(services/digests.py, alerts.py, sending.py, subscriptions.py), on SQLite and PostgreSQL.

Articles are real corpus articles (title, URL, outlet, date); the matches attached are the
test's own. Time is passed in (``now``), never waited for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import KnowledgeBase, load_kb
from notify.kinds import DeliveryState, MessageKind, Mode
from notify.senders import SmtpSender
from schema import outbox
from schema.models import ClaimMatch, Delivery, Mention, Subscription
from services.alerts import AlertPlanner
from services.delivery import DeliveryConfig, Vocabulary
from services.digests import DigestPlanner
from services.knowledge import sync_kb
from services.sending import OutboxSender
from services.subscriptions import NewSubscription, SubscriptionError, add_subscription, unsubscribe
from tests.support.net import free_port
from tests.support.news import NewsArticle, news_about, processed_row
from tests.support.smtp import Mailbox, smtp_server

CLAIM = "ttp-isk-attacks-inside-pakistan"
OTHER_CLAIM = "fatf-kept-pakistan-grey-list"
CONFIG = DeliveryConfig(
    mail_from="mediamon <digest@mediamon.test>", public_url="https://mediamon.test", secret_key="test-secret"
)
DAY1 = datetime(2025, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture
def mail() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def parts(sessions: sessionmaker[Session], kb: KnowledgeBase, mail: tuple[str, Mailbox]):
    sync_kb(sessions, kb)
    url, _ = mail
    vocabulary = Vocabulary.of(kb)
    return (
        DigestPlanner(sessions, vocabulary, CONFIG),
        AlertPlanner(sessions, vocabulary, CONFIG),
        OutboxSender(sessions, lambda address: SmtpSender.from_url(url), CONFIG),
    )


def store(
    sessions, article: NewsArticle, stored_at: datetime, claim: str | None = CLAIM, stance="asserts"
) -> int:
    """A processed article as the write path leaves it: text, a mention, a claim match."""
    with sessions.begin() as session:
        row = processed_row(article, stored_at)
        session.add(row)
        session.flush()
        evidence_end = min(len(article.text), 200)
        session.add(Mention(article_id=row.id, entity_id="ttp", start=0, end=3, text="TTP"))
        if claim:
            session.add(
                ClaimMatch(
                    article_id=row.id,
                    claim_id=claim,
                    score=0.9,
                    method="semantic",
                    evidence=article.text[:evidence_end],
                    evidence_start=0,
                    evidence_end=evidence_end,
                    stance=stance,
                )
            )
        return row.id


def subscribe(sessions, kb, created: datetime, **options) -> int:
    subscription_id = add_subscription(
        sessions, NewSubscription(address="analyst@example.org", **options), kb
    )
    with sessions.begin() as session:  # subscribed before the articles of the test arrive
        session.get_one(Subscription, subscription_id).created_at = created
    return subscription_id


def rows(sessions) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_a_daily_digest_is_written_once_and_received_once(sessions, kb, parts, mail):
    digests, _, sender = parts
    _, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(days=2), at_local="07:00", timezone="Asia/Karachi")
    for n, article in enumerate(news_about("Pakistan", limit=3)):
        store(sessions, article, DAY1 + timedelta(hours=n))
    due = datetime(2025, 5, 11, 2, 0, tzinfo=UTC)  # 07:00 in Karachi

    first = digests.plan(due)
    again = digests.plan(due + timedelta(minutes=30))  # a second beat, or a re-run
    summary = sender.send_due(due)
    sender.send_due(due + timedelta(minutes=1))

    assert len(first) == 1 and again == []
    assert summary.sent >= 1
    digest_rows = [r for r in rows(sessions) if r.window_key == "2025-05-11"]
    assert len(digest_rows) == 1 and digest_rows[0].state is DeliveryState.SENT
    received = [m for m in mailbox.messages if m["Message-ID"] == digest_rows[0].message_id]
    assert len(received) == 1, "exactly one copy of the digest"
    assert received[0]["To"] == "analyst@example.org"
    assert digest_rows[0].items == 3


def test_two_schedulers_at_the_same_moment_write_one_digest(sessions, kb, parts):
    digests, _, _ = parts
    subscribe(sessions, kb, DAY1 - timedelta(days=2))
    store(sessions, news_about("Pakistan", limit=1)[0], DAY1)
    due = datetime(2025, 5, 11, 7, 0, tzinfo=UTC)
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda: results.append(digests.plan(due))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1], "one scheduler wrote it, the other found it written"
    assert len([r for r in rows(sessions) if r.window_key == "2025-05-11"]) == 1


def test_an_empty_digest_is_not_sent_but_closes_its_window(sessions, kb, parts, mail):
    digests, _, sender = parts
    _, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(days=2))
    quiet = datetime(2025, 5, 11, 7, 0, tzinfo=UTC)
    digests.plan(quiet)
    sender.send_due(quiet)
    assert mailbox.messages == []
    (row,) = rows(sessions)
    assert row.state is DeliveryState.SKIPPED and row.window_end == quiet

    store(sessions, news_about("Pakistan", limit=1)[0], quiet + timedelta(hours=3))
    digests.plan(quiet + timedelta(days=1))
    sender.send_due(quiet + timedelta(days=1))
    (message,) = mailbox.messages
    latest = rows(sessions)[-1]
    assert latest.window_start == quiet, "the next digest covers from where the skipped one ended"
    assert latest.items == 1 and message["Message-ID"] == latest.message_id


def test_smtp_down_is_retried_with_backoff_and_nothing_is_lost(sessions, kb, parts, mail):
    digests, _, _ = parts
    url, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(days=2))
    store(sessions, news_about("Pakistan", limit=1)[0], DAY1)
    due = datetime(2025, 5, 11, 7, 0, tzinfo=UTC)
    digests.plan(due)
    down = OutboxSender(sessions, lambda a: SmtpSender.from_url(f"smtp://127.0.0.1:{free_port()}"), CONFIG)

    first = down.send_due(due)
    (row,) = rows(sessions)
    assert first.retried == 1 and row.state is DeliveryState.PENDING and row.attempts == 1
    assert row.last_error and row.next_attempt_at > due
    assert down.send_due(due + timedelta(seconds=1)).retried == 0, "not before its backoff"

    up = OutboxSender(sessions, lambda a: SmtpSender.from_url(url), CONFIG)
    assert up.send_due(row.next_attempt_at).sent == 1
    (row,) = rows(sessions)
    assert row.state is DeliveryState.SENT and row.attempts == 2
    assert [m["Message-ID"] for m in mailbox.messages] == [row.message_id]


def test_a_permanent_refusal_fails_the_row_with_the_reason(sessions, kb, parts, mail):
    digests, _, sender = parts
    _, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(days=2))
    store(sessions, news_about("Pakistan", limit=1)[0], DAY1)
    due = datetime(2025, 5, 11, 7, 0, tzinfo=UTC)
    digests.plan(due)
    mailbox.reply = "550 5.1.1 no such user"
    summary = sender.send_due(due)
    (row,) = rows(sessions)
    assert summary.failed == 1 and row.state is DeliveryState.FAILED
    assert "550" in (row.last_error or "")
    assert sender.send_due(due + timedelta(days=1)).sent == 0, "a failed row is not sent again"


def test_a_crash_after_the_server_accepted_sends_again_once_with_the_same_message_id(
    sessions, kb, parts, mail
):
    digests, _, sender = parts
    url, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(days=2))
    store(sessions, news_about("Pakistan", limit=1)[0], DAY1)
    due = datetime(2025, 5, 11, 7, 0, tzinfo=UTC)
    (delivery_id,) = digests.plan(due)
    # What a worker does up to the moment it dies: claim, send, and never record the result.
    with sessions.begin() as session:
        assert outbox.claim(session, delivery_id, due, CONFIG.lease)
        message = session.get_one(Delivery, delivery_id).message
        SmtpSender.from_url(url).send(message_from_bytes(message, policy=default))

    assert sender.send_due(due + timedelta(minutes=1)).sent == 0, "the lease still holds"
    after_lease = due + CONFIG.lease + timedelta(seconds=1)
    assert sender.send_due(after_lease).sent == 1
    assert sender.send_due(after_lease + CONFIG.lease * 2).sent == 0
    (row,) = rows(sessions)
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert ids == [row.message_id, row.message_id], "sent again once, recognisably the same message"
    assert row.state is DeliveryState.SENT


def test_unsubscribed_means_no_more_digests(sessions, kb, parts, mail):
    digests, _, _ = parts
    _, mailbox = mail
    subscription_id = subscribe(sessions, kb, DAY1 - timedelta(days=2))
    store(sessions, news_about("Pakistan", limit=1)[0], DAY1)
    assert unsubscribe(sessions, subscription_id, DAY1)
    assert unsubscribe(sessions, subscription_id, DAY1), "safe to repeat"
    assert digests.plan(datetime(2025, 5, 11, 7, 0, tzinfo=UTC)) == []
    assert mailbox.messages == []


def test_instant_alerts_collect_a_burst_and_respect_the_hourly_cap(sessions, kb, parts, mail):
    _, alerts, sender = parts
    _, mailbox = mail
    subscribe(sessions, kb, DAY1 - timedelta(hours=1), mode=Mode.INSTANT)  # sent through the real SMTP server
    burst = news_about("Pakistan", limit=3)
    for n, article in enumerate(burst):
        store(sessions, article, DAY1 + timedelta(seconds=10 * n))

    assert alerts.plan(DAY1 + timedelta(seconds=30)) == [], "still arriving: the debounce holds it"
    written = alerts.plan(DAY1 + timedelta(seconds=20 + CONFIG.alert_debounce_s + 1))
    assert len(written) == 1
    sender.send_due(DAY1 + timedelta(minutes=5))
    (message,) = mailbox.messages
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and all(a.title.split(" - ")[0][:30] in body.get_content() for a in burst)

    # Past the cap, windows stay open and the next allowed message carries everything.
    start = DAY1 + timedelta(minutes=10)
    for hour_step in range(CONFIG.alert_hourly_cap + 2):
        moment = start + timedelta(minutes=5 * hour_step)
        store(sessions, news_about("Pakistan", limit=40)[10 + hour_step], moment)
        alerts.plan(moment + timedelta(seconds=CONFIG.alert_debounce_s + 1))
    with sessions() as session:
        in_hour = session.scalar(
            select(func.count()).where(
                Delivery.kind == MessageKind.ALERT, Delivery.created_at >= start - timedelta(minutes=50)
            )
        )
    assert in_hour <= CONFIG.alert_hourly_cap
    later = start + timedelta(hours=2)
    alerts.plan(later)
    carried = sum(r.items for r in rows(sessions) if r.kind is MessageKind.ALERT)
    assert carried == 3 + CONFIG.alert_hourly_cap + 2, "every story reached an alert, none twice"


def test_a_bad_subscription_is_refused_with_the_reason(sessions, kb):
    for options, reason in (
        ({"address": "not an address"}, "neither an email"),
        ({"address": "a@example.org", "entity_ids": ("no-such",)}, "unknown entity"),
        ({"address": "a@example.org", "stances": ("doubts",)}, "unknown stance"),
        ({"address": "a@example.org", "timezone": "Mars/Base"}, "IANA"),
        ({"address": "a@example.org", "at_local": "25:00"}, "HH:MM"),
    ):
        with pytest.raises(SubscriptionError, match=reason):
            add_subscription(sessions, NewSubscription(**options), kb)
    assert add_subscription(sessions, NewSubscription(address="json://127.0.0.1:9/hook"), kb) > 0


def test_a_london_digest_arrives_at_seven_local_on_both_sides_of_the_spring_change(sessions, kb, parts, mail):
    """07:00 Europe/London is 07:00 UTC on 28 March 2026 (GMT) and 06:00 UTC on 29 March (BST)."""
    digests, _, sender = parts
    _, mailbox = mail
    subscribe(
        sessions,
        kb,
        datetime(2026, 3, 27, 8, tzinfo=UTC),  # after that day's slot
        at_local="07:00",
        timezone="Europe/London",
        send_empty=True,
    )
    moments = [
        datetime(2026, 3, 28, 6, 59, tzinfo=UTC),  # 06:59 GMT: not yet
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC),  # 07:00 GMT
        datetime(2026, 3, 29, 5, 59, tzinfo=UTC),  # 06:59 BST: not yet
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # 07:00 BST
    ]
    written = []
    for moment in moments:
        written.append(len(digests.plan(moment)))
        sender.send_due(moment)
    assert written == [0, 1, 0, 1]
    dates = [m["Date"].datetime.astimezone(UTC) for m in mailbox.messages]
    assert dates == [moments[1], moments[3]], "each received at 07:00 local"
    assert [r.window_key for r in rows(sessions)] == ["2026-03-28", "2026-03-29"]
    assert rows(sessions)[1].window_start == moments[1], "the second covers from the first, 23 hours"
