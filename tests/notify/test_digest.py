"""Digest and alert contents (notify/digest.py, notify/rules.py, notify/spread.py) on real
corpus articles: their titles, URLs, outlets and publication times. The claims and mentions
attached are the test's own (matching is tested elsewhere)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from notify.digest import build_alert, build_digest
from notify.kinds import Mode
from notify.rules import Filter, StoredArticle, StoredClaim, wants
from notify.spread import find_spreads
from tests.support.news import NewsArticle, news, news_about

STATEMENTS = {
    "c-ttp-haven": "Afghanistan gives the TTP a safe haven.",
    "c-india-proxy": "India backs the BLA.",
}
NAMES = {"ttp": "Tehrik-i-Taliban Pakistan", "afghanistan": "Afghanistan", "waziristan": "Waziristan"}
EVERYTHING = Filter(min_relevance=0.3)


def stored(
    article: NewsArticle, n: int, *, story: int | None = None, claims=(), entities=("ttp",), relevance=0.6
):
    evidence = article.title
    return StoredArticle(
        article_id=n,
        story_id=story or n,
        url=article.url,
        title=article.title,
        site=article.source,
        published=article.published,
        stored_at=article.published + timedelta(minutes=5),
        relevance=relevance,
        entity_ids=frozenset(entities),
        claims=tuple(StoredClaim(c, 0.8, s, evidence, 0, len(evidence)) for c, s in claims),
        mentions=tuple((e, 0, 3) for e in entities),
    )


def test_a_story_told_by_both_outlets_is_shown_once_with_the_other_outlet():
    dawn = news_about("Waziristan", source="Dawn", limit=1)[0]
    app = news_about("Waziristan", source="APP", limit=1)[0]
    articles = [
        stored(dawn, 1, claims=[("c-ttp-haven", "asserts")]),
        stored(app, 2, story=1, claims=[("c-ttp-haven", "reports")]),
    ]
    digest = build_digest(
        subscription_id=7,
        address="analyst@example.org",
        mode=Mode.DAILY,
        timezone="Asia/Karachi",
        window=(
            min(a.published for a in (dawn, app)),
            max(a.published for a in (dawn, app)) + timedelta(hours=1),
        ),
        rule=EVERYTHING,
        articles=articles,
        statements=STATEMENTS,
        entity_names=NAMES,
    )
    assert digest.story_count == 1
    (section,) = digest.claims
    (story,) = section.stories
    assert section.statement == STATEMENTS["c-ttp-haven"]
    lead = min((dawn, app), key=lambda a: a.published)
    assert story.url == lead.url and story.more_outlets == 1
    assert {o.name for o in story.outlets} == {"Dawn", "APP"}
    assert not digest.entities, "a story shown under its claim is not repeated under an entity"
    assert [t.claim_id for t in digest.since_last.first_seen] == ["c-ttp-haven"]


def test_filters_narrow_and_mutes_silence():
    items = news_about("terror", limit=4)
    articles = [
        stored(items[0], 1, claims=[("c-ttp-haven", "denies")]),
        stored(items[1], 2, claims=[("c-india-proxy", "asserts")], entities=("waziristan",)),
        stored(items[2], 3, relevance=0.1),
        stored(items[3], 4),
    ]
    assert [a.article_id for a in articles if wants(EVERYTHING, a)] == [1, 2, 4]
    denials = Filter(stances=frozenset({"denies"}))
    assert [a.article_id for a in articles if wants(denials, a)] == [1]
    on_ttp = Filter(entity_ids=frozenset({"ttp"}))
    assert [a.article_id for a in articles if wants(on_ttp, a)] == [1, 4]
    host = articles[3].host.removeprefix("www.")
    muted = Filter(muted_sources=frozenset({host}), muted_keywords=(items[0].title.split()[0].casefold(),))
    assert 4 not in [a.article_id for a in articles if wants(muted, a)]
    assert 1 not in [a.article_id for a in articles if wants(muted, a)]


def test_the_since_last_section_names_new_growing_and_denied_claims():
    items = news_about("Afghanistan", limit=6)
    articles = [stored(a, n, claims=[("c-ttp-haven", "asserts")]) for n, a in enumerate(items[:4], 1)]
    articles.append(stored(items[4], 5, claims=[("c-india-proxy", "denies")]))
    digest = build_digest(
        subscription_id=1,
        address="a@example.org",
        mode=Mode.DAILY,
        timezone="UTC",
        window=(items[0].published, items[5].published),
        rule=EVERYTHING,
        articles=articles,
        statements=STATEMENTS,
        entity_names=NAMES,
        seen_before=frozenset({"c-ttp-haven"}),
        previous_counts={"c-ttp-haven": 1},
    )
    assert [t.claim_id for t in digest.since_last.first_seen] == ["c-india-proxy"]
    assert [(t.claim_id, t.count, t.previous) for t in digest.since_last.growing] == [("c-ttp-haven", 4, 1)]
    assert [t.claim_id for t in digest.since_last.denied] == ["c-india-proxy"]
    assert [s.claim_id for s in digest.claims] == ["c-ttp-haven", "c-india-proxy"], "most stories first"


def test_an_alert_lists_what_fits_and_counts_the_rest_in_the_same_message():
    items = news_about("Pakistan", limit=14)
    articles = [stored(a, n) for n, a in enumerate(items, 1)]
    alert = build_alert(
        subscription_id=1,
        address="a@example.org",
        timezone="UTC",
        window=(items[0].published, items[-1].published),
        rule=EVERYTHING,
        articles=articles,
        room=10,
    )
    assert alert is not None
    assert len(alert.stories) == 10 and alert.overflow == 4
    quiet = [replace(a, relevance=0.0) for a in articles]
    assert (
        build_alert(
            subscription_id=1,
            address="a",
            timezone="UTC",
            window=(items[0].published, items[-1].published),
            rule=EVERYTHING,
            articles=quiet,
            room=10,
        )
        is None
    )


def test_a_claim_repeated_by_three_outlets_within_a_day_is_a_spread_with_lags():
    first, *later = news_about("Pakistan", limit=3)
    start = first.published
    articles = [
        stored(first, 1, claims=[("c-india-proxy", "asserts")]),
        replace(
            stored(later[0], 2, claims=[("c-india-proxy", "reports")]),
            site="Reuters",
            published=start + timedelta(hours=2),
        ),
        replace(
            stored(later[1], 3, claims=[("c-india-proxy", "asserts")]),
            site="BBC",
            published=start + timedelta(hours=30),
        ),
        replace(
            stored(later[1], 4, claims=[("c-india-proxy", "denies")]),
            site="ARY",
            published=start + timedelta(hours=3),
        ),
    ]
    assert find_spreads(articles, min_outlets=3) == [], "a denial is not a repeat, and 30 h is too late"
    articles.append(
        replace(
            stored(later[1], 5, claims=[("c-india-proxy", "asserts")]),
            site="Geo",
            published=start + timedelta(hours=5),
        )
    )
    (spread,) = find_spreads(articles, min_outlets=3)
    assert spread.first.name == first.source and spread.outlets == 3
    assert [(f.outlet.name, f.lag_s) for f in spread.followers] == [("Reuters", 7200.0), ("Geo", 18000.0)]
    assert spread.key == "c-india-proxy@1"


def test_a_busy_day_stays_readable_and_under_gmails_clipping_size():
    """500 stories on 60 claims: sections and stories are capped, the rest counted, and the
    HTML stays under the 102 kB at which Gmail clips a message."""
    from notify.records import Envelope
    from notify.render import render_digest

    items = [a for a in news() if a.published.month == 5][:500]
    claims = [f"claim-{n}" for n in range(60)]
    articles = [
        stored(a, n, claims=[(claims[n % 60], "asserts")], entities=("ttp", "afghanistan")[: 1 + n % 2])
        for n, a in enumerate(items, 1)
    ]
    digest = build_digest(
        subscription_id=1,
        address="a@example.org",
        mode=Mode.DAILY,
        timezone="Asia/Karachi",
        window=(items[0].published, items[-1].published + timedelta(hours=1)),
        rule=EVERYTHING,
        articles=articles,
        statements={c: f"Statement of {c}" for c in claims},
        entity_names=NAMES,
    )
    assert digest.total_stories == 500
    assert len(digest.claims) + digest.more_claims == 60
    assert len(digest.since_last.first_seen) == 3 and digest.since_last.more == 57, "a short section"
    shown_claims = {s.claim_id for s in digest.claims}
    in_shown = sum(1 for a in articles if a.claims[0].claim_id in shown_claims)
    assert sum(len(s.stories) + s.more for s in digest.claims) == in_shown, "each story shown or counted"
    envelope = Envelope(
        "m <m@example.org>",
        "a@example.org",
        "<x@example.org>",
        items[-1].published,
        "l <l.example.org>",
        "https://example.org/u/t",
    )
    message = render_digest(digest, envelope)
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert len(html.get_content().encode()) < 102 * 1024
    assert "54 more claims" in text.get_content()
    assert "57 more trends (new, growing, denied or spiking)" in text.get_content()
    assert "500 stories" in str(message["Subject"])
