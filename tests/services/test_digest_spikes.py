"""Spikes in the digest's "since your last digest": the day the TTP drew eight articles
against about one a day is said, to readers who follow everything or the TTP, and not to a
reader who follows only something else. Real articles on their real dates (the Khuzdar
school-bus attack of 21 May 2025; tests/services/test_spikes.py builds the data)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from services.delivery import DeliveryConfig, Vocabulary
from services.digests import DigestPlanner
from services.subscriptions import NewSubscription, add_subscription
from tests.services.test_spikes import BURST_DAY, background, planted_burst, store_burst
from tests.support.stored import store_matched, sync_shipped_kb

CONFIG = DeliveryConfig(
    mail_from="mediamon <digest@mediamon.test>", public_url="https://mediamon.test", secret_key="test-secret"
)
DUE = datetime(2025, 5, 22, 2, 0, tzinfo=UTC)  # 07:00 in Karachi, the morning after the burst


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_digest_says_what_spiked_to_those_who_follow_it(sessions):
    kb = load_kb(DEFAULT_KB_PATH)
    used: set[str] = set()
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for article, entities in background(35, BURST_DAY, used):
            store_matched(session, article, entities=entities)
        store_burst(session, planted_burst(used))
    everything, ttp, fatf = (
        add_subscription(sessions, subscription, kb)
        for subscription in (
            NewSubscription(address="all@example.org"),
            NewSubscription(address="ttp@example.org", entity_ids=("ttp",)),
            NewSubscription(address="fatf@example.org", claim_ids=("fatf-kept-pakistan-grey-list",)),
        )
    )
    planner = DigestPlanner(sessions, Vocabulary.of(kb), CONFIG)

    for subscription in (everything, ttp):
        text = " ".join(_text(planner.preview(subscription, until=DUE)).split())
        assert "SINCE YOUR LAST DIGEST" in text
        assert "Spiking: Tehreek-e-Taliban Pakistan (8 articles on 21 May, usually" in text
    assert "Spiking:" not in _text(planner.preview(fatf, until=DUE))
