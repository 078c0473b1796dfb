"""Why a match was made, from the matcher to the reader: the features that decided it are kept
with the stored match (``claim_match.features``), come back through the delivery query, and the
digest says them under the evidence, in the text and the HTML part (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from notify.digest import build_digest, why_matched
from notify.kinds import Mode
from notify.render import render_digest
from notify.rules import Filter
from schema.models import ClaimMatch
from schema.queries.delivery import stored_between
from tests.notify.digest_data import envelope_for
from tests.notify.test_render import parts, received
from tests.support.news import news_about
from tests.support.stored import store_matched, sync_shipped_kb

CLAIM = "ttp-isk-attacks-inside-pakistan"
FEATURES = (
    ("cosine", 0.7812),
    ("margin", 0.0412),
    ("entity_share", 1.0),
    ("term_share", 0.8),
    ("denial", 0.0),
)
WHY = (
    "matched by meaning: close in meaning to the claim (similarity 0.78), 80% of its key terms, "
    "100% of its subjects named"
)


def test_the_digest_says_why_each_stored_match_was_made(sessions):
    [article] = news_about("Waziristan", source="Dawn", limit=1)
    with sessions.begin() as session:
        kb = sync_shipped_kb(session)
        store_matched(session, article, entities=["ttp"], claims=[(CLAIM, "asserts")], features=FEATURES)
    with sessions() as session:
        [row] = session.query(ClaimMatch).all()
        assert row.features == dict(FEATURES)
        [stored] = stored_between(
            session, article.published - timedelta(hours=1), article.published + timedelta(hours=1)
        )
    [claim] = stored.claims
    assert (claim.method, claim.features) == ("semantic", dict(FEATURES))

    digest = build_digest(
        subscription_id=42,
        address="reader@example.org",
        mode=Mode.DAILY,
        timezone="Asia/Karachi",
        window=(article.published - timedelta(hours=1), article.published + timedelta(hours=1)),
        rule=Filter(min_relevance=0.3),
        articles=[stored],
        statements={c.id: c.statement for c in kb.claims},
        entity_names={e.id: e.name for e in kb.entities},
    )
    [section] = digest.claims
    assert section.stories[0].why == WHY
    text, html = parts(received(render_digest(digest, envelope_for("reader@example.org"))))
    assert "Why it matched: matched by meaning: close in meaning to the claim" in " ".join(text.split())
    assert f"Why it matched: {WHY}" in " ".join(html.split())


def test_a_match_kept_without_features_says_nothing_of_why_and_a_denial_says_so():
    assert why_matched("semantic", None) == why_matched("lexical", {}) == ""
    lexical = why_matched("lexical", {"entity_share": 0.5, "term_share": 0.6})
    assert lexical == "matched by its words: 60% of its key terms, 50% of its subjects named"
    assert why_matched("semantic", {"cosine": 0.61, "denial": 1.0}).endswith("worded as a denial")
