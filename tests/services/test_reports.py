"""Trend reports on real stores (SQLite and PostgreSQL) with real articles on their real dates.

Every article is stored through the write path (``tests/support/stored.py``) with matches the
test chooses, so every expected count below is computed here from the articles' own dates,
independently of the code under test.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from matching.claims import ClaimHit
from matching.matcher import MatchResult
from matching.sentences import Sentence
from reports.history import LATEST, ClaimEvent, history_from_events
from reports.trends import build_timeline
from schema import writes
from schema.models import Article, ArticleState, ClaimMatch, TrendCount
from schema.queries.trends import CountFilter, article_counts, counts, rollup_counts
from services import reports
from tests.support.news import NewsArticle, news
from tests.support.stored import store_matched, sync_shipped_kb

CLAIM = "isi-arms-militant-proxies"
OTHER_CLAIM = "fatf-kept-pakistan-grey-list"
THRESHOLD = 0.3
# Days with articles; 2025-05-03 and 2025-05-04 are left empty on purpose (zero buckets).
DAYS = (date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 5))


def _chosen() -> list[NewsArticle]:
    """Eight real articles from each day in DAYS, three of them in the small hours UTC (which
    are the evening before in New York: the time-zone test)."""
    chosen: list[NewsArticle] = []
    for day in DAYS:
        that_day = [a for a in news() if a.published.astimezone(UTC).date() == day]
        early = [a for a in that_day if a.published.astimezone(UTC).hour < 4]
        rest = [a for a in that_day if a not in early]
        chosen += early[:3] + rest[:5]
    assert len(chosen) == 8 * len(DAYS), "the corpus has enough articles on each chosen day"
    return chosen


def _plan(i: int) -> dict[str, object]:
    """What article ``i`` mentions and matches, and how relevant it is."""
    return {
        "entities": ["ttp"] * (i % 2 == 0) + ["isi"] * (i % 3 == 0),
        "claims": [(CLAIM, "asserts" if i % 4 else "denies")] * (i % 2 == 0)
        + [(OTHER_CLAIM, "reports")] * (i % 5 == 0),
        "relevance": (i % 10) / 10,
    }


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> list[tuple[NewsArticle, dict[str, object]]]:
    articles = _chosen()
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for i, article in enumerate(articles):
            store_matched(session, article, **_plan(i))  # type: ignore[arg-type]
    return [(a, _plan(i)) for i, a in enumerate(articles)]


def _expected(stored: list[tuple[NewsArticle, dict[str, object]]], key, tz: str = "UTC") -> Counter[object]:
    zone = ZoneInfo(tz)
    counts: Counter[object] = Counter()
    for article, plan in stored:
        if key(plan, article):
            counts[article.published.astimezone(zone).date()] += 1
    return counts


PERIOD = (datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 6, tzinfo=UTC))


def test_daily_buckets_count_what_was_stored_with_zero_days(sessions, stored):
    timeline = reports.trends(sessions, reports.TrendQuery(*PERIOD, by="day"), on_theme_threshold=THRESHOLD)
    assert [b.date() for b in timeline.buckets] == [date(2025, 5, d) for d in range(1, 6)]
    series = {s.name: s.counts for s in timeline.series}
    days = [b.date() for b in timeline.buckets]
    articles = _expected(stored, lambda p, a: True)
    assert timeline.totals == [articles[d] for d in days]
    assert timeline.totals[2] == timeline.totals[3] == 0, "empty days are zeros, not gaps"
    on_theme = _expected(stored, lambda p, a: p["relevance"] >= THRESHOLD)
    assert series["on_theme"] == [on_theme[d] for d in days]
    mentions: Counter[date] = Counter()
    for article, plan in stored:
        mentions[article.published.astimezone(UTC).date()] += len(plan["entities"])
    assert series["entity mentions"] == [mentions[d] for d in days]
    denies = _expected(stored, lambda p, a: (CLAIM, "denies") in p["claims"])
    reports_ = _expected(stored, lambda p, a: (OTHER_CLAIM, "reports") in p["claims"])
    assert series["claims:denies"] == [denies[d] for d in days]
    assert series["claims:reports"] == [reports_[d] for d in days]
    assert sum(series["claims:asserts"]) == sum(1 for _a, p in stored if (CLAIM, "asserts") in p["claims"])


def test_the_rollup_and_the_stored_rows_give_the_same_counts(sessions, stored):
    where = CountFilter(*PERIOD)
    with sessions() as session:
        from_rollup = rollup_counts(session, where)
        summed_in_sql = rollup_counts(session, where, per_key=False)
        from_rows = article_counts(session, where)
    assert len(summed_in_sql) < len(from_rollup), "sums over keys are made in SQL"
    for by in ("day", "week", "month"):
        a, b, c = (
            build_timeline(rows, since=PERIOD[0], until=PERIOD[1], by=by, on_theme_threshold=THRESHOLD)
            for rows in (from_rollup, summed_in_sql, from_rows)
        )
        assert a == b == c
    assert sum(r.n for r in from_rollup if r.kind == "articles") == len(stored)


@pytest.mark.parametrize("tz", ["UTC", "Asia/Karachi", "America/New_York"])
def test_the_hourly_rollup_gives_the_rows_answer_for_hours_and_whole_hour_zones(sessions, stored, tz):
    where = CountFilter(*PERIOD)
    with sessions() as session:
        hourly = rollup_counts(session, where, grain="hour")
        from_rows = article_counts(session, where)
    assert {r.at.minute for r in hourly} == {0} and len({r.at.hour for r in hourly}) > 1
    for by in ("hour", "day"):
        timelines = [
            build_timeline(rows, since=PERIOD[0], until=PERIOD[1], by=by, tz=tz, on_theme_threshold=THRESHOLD)
            for rows in (hourly, from_rows)
        ]
        assert timelines[0] == timelines[1]


def test_per_outlet_counts_come_from_the_per_outlet_rollup(sessions, stored):
    hosts = [a.url.split("/")[2].removeprefix("www.") for a, _plan in stored]
    outlet = Counter(hosts).most_common(1)[0][0]
    where = CountFilter(*PERIOD, sources=(outlet,))
    with sessions() as session:
        from_rollup = rollup_counts(session, where)
        from_rows = article_counts(session, where)
        with pytest.raises(ValueError, match="all outlets"):
            rollup_counts(session, where, grain="hour")
    timelines = [
        build_timeline(rows, since=PERIOD[0], until=PERIOD[1], by="day", on_theme_threshold=THRESHOLD)
        for rows in (from_rollup, from_rows)
    ]
    assert timelines[0] == timelines[1]
    assert sum(r.n for r in from_rollup if r.kind == "articles") == hosts.count(outlet) < len(stored)


def test_counts_picks_a_source_that_lines_up_with_the_period(sessions, stored):
    """A period cut inside an hour is read from the rows; whole hours from the hourly rollup."""
    inside = CountFilter(PERIOD[0] + timedelta(minutes=30), PERIOD[1])
    with sessions() as session:
        cut = counts(session, inside, utc_days=True)
        hours = counts(session, CountFilter(*PERIOD), utc_days=False)
    assert all(r.n == 1 for r in cut), "rows: one per article, at its exact time"
    assert any(r.n > 1 for r in hours) and {r.at.minute for r in hours} == {0}
    expected = sum(1 for a, _plan in stored if a.published >= inside.since)
    assert sum(r.n for r in cut if r.kind == "articles") == expected


def test_normalised_shares_are_count_over_all_stored_articles(sessions, stored):
    timeline = reports.trends(
        sessions,
        reports.TrendQuery(*PERIOD, by="day", entity_ids=("ttp",), normalize=True),
        on_theme_threshold=THRESHOLD,
    )
    ttp = next(s for s in timeline.series if s.name == "entity:ttp")
    expected = _expected(stored, lambda p, a: "ttp" in p["entities"])
    assert ttp.ratios is not None
    for i, start in enumerate(timeline.buckets):
        total = timeline.totals[i]
        assert ttp.counts[i] == expected[start.date()]
        assert ttp.ratios[i] == pytest.approx(ttp.counts[i] / total if total else 0.0)
    records = [r for r in timeline.as_records() if r["series"] == "entity:ttp"]
    assert {"bucket", "series", "count", "total", "ratio"} <= set(records[0])
    assert records[2]["total"] == 0 and records[2]["ratio"] == 0


def test_buckets_follow_the_asked_time_zone(sessions, stored):
    tz = "America/New_York"  # UTC-4 in May: an article before 04:00 UTC belongs to the day before
    timeline = reports.trends(
        sessions, reports.TrendQuery(*PERIOD, by="day", tz=tz), on_theme_threshold=THRESHOLD
    )
    assert all(b.utcoffset() == timedelta(hours=-4) and b.hour == 0 for b in timeline.buckets)
    local = _expected(stored, lambda p, a: True, tz)
    assert timeline.totals == [local[b.date()] for b in timeline.buckets]
    utc = _expected(stored, lambda p, a: True)
    assert local != utc, "the small-hours articles moved to the day before"


def test_hour_buckets_cover_every_hour(sessions, stored):
    since = datetime(2025, 5, 1, tzinfo=UTC)
    timeline = reports.trends(
        sessions,
        reports.TrendQuery(since, since + timedelta(hours=48), by="hour"),
        on_theme_threshold=THRESHOLD,
    )
    assert len(timeline.buckets) == 48
    hours = Counter(
        a.published.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for a, _p in stored
        if since <= a.published < since + timedelta(hours=48)
    )
    assert timeline.totals == [hours[b] for b in timeline.buckets]


def test_filters_by_outlet_claim_and_stance(sessions, stored):
    outlet = stored[0][0].url.split("/")[2].removeprefix("www.")
    timeline = reports.trends(
        sessions,
        reports.TrendQuery(*PERIOD, by="week", sources=(outlet,), claim_ids=(CLAIM,), stances=("denies",)),
        on_theme_threshold=THRESHOLD,
    )
    series = {s.name: s.total for s in timeline.series}
    from_outlet = [(a, p) for a, p in stored if outlet in a.url]
    assert sum(timeline.totals) == len(from_outlet)
    assert series["claims:denies"] == sum(1 for _a, p in from_outlet if (CLAIM, "denies") in p["claims"])
    assert series["claims:asserts"] == series["claims:reports"] == 0


def test_reprocessing_an_article_moves_its_counts_instead_of_adding_them(sessions, stored):
    from matching.matcher import MatchResult
    from schema import writes
    from schema.models import Article

    with sessions() as session:
        before = session.scalar(select(func.sum(TrendCount.n)).where(TrendCount.kind == "entity"))
    with sessions.begin() as session:
        article = session.scalars(select(Article).order_by(Article.id)).first()
        writes.replace_matches(session, article, MatchResult(mentions=[], claims=[], relevance=0.0))
    with sessions() as session:
        after = session.scalar(select(func.sum(TrendCount.n)).where(TrendCount.kind == "entity"))
        articles = session.scalar(select(func.sum(TrendCount.n)).where(TrendCount.kind == "articles"))
    assert after == before - len(stored[0][1]["entities"])
    assert articles == len(stored), "the article is still counted once"


def test_top_lists_rank_outlets_entities_and_claims(sessions, stored):
    lists = reports.top(sessions, reports.TopQuery(*PERIOD, entity_id="ttp"))
    assert lists.total == len(stored)
    outlets = Counter(a.url.split("/")[2].removeprefix("www.") for a, _p in stored)
    assert [(i.key, i.count) for i in lists.sources] == sorted(
        outlets.items(), key=lambda kv: (-kv[1], kv[0])
    )
    entities = Counter(e for _a, p in stored for e in p["entities"])
    assert {i.key: i.count for i in lists.entities} == dict(entities)
    claim = next(i for i in lists.claims if i.key == CLAIM)
    assert claim.detail == dict(Counter(s for _a, p in stored for c, s in p["claims"] if c == CLAIM))
    both = sum(1 for _a, p in stored if {"ttp", "isi"} <= set(p["entities"]))
    assert [(i.key, i.count) for i in lists.cooccurring] == [("isi", both)]


def test_claim_history_shows_first_outlet_lag_flips_and_resurfacing(sessions):
    window = [
        a
        for a in news()
        if datetime(2025, 4, 15, tzinfo=UTC) <= a.published < datetime(2025, 6, 1, tzinfo=UTC)
    ]
    dawn = sorted((a for a in window if a.source == "Dawn"), key=lambda a: a.published)
    app = sorted((a for a in window if a.source == "APP"), key=lambda a: a.published)
    first, echo, later = dawn[0], app[5], dawn[-1]
    # Flips are by UTC day: Dawn denies it on a later day than it first asserted it.
    flip = next(a for a in dawn if a.published - first.published > timedelta(days=2))
    first_day, flip_day, later_day = (a.published.astimezone(UTC).date() for a in (first, flip, later))
    assert first_day < flip_day < later_day
    assert later_day - flip_day > timedelta(days=14), "a quiet spell in between"
    with sessions.begin() as session:
        sync_shipped_kb(session)
        store_matched(session, first, claims=[(CLAIM, "asserts")])
        store_matched(session, echo, claims=[(CLAIM, "reports")])
        store_matched(session, flip, claims=[(CLAIM, "denies")])
        store_matched(session, later, claims=[(CLAIM, "asserts")])
    history = reports.claim_history(sessions, CLAIM, now=later.published + timedelta(hours=1))
    assert history.first is not None and history.first.url == first.url
    assert history.first.at == first.published and history.first.stance == "asserts"
    outlets = {o.source: o for o in history.outlets}
    app_host = echo.url.split("/")[2].removeprefix("www.")
    dawn_host = first.url.split("/")[2].removeprefix("www.")
    assert outlets[app_host].lag_hours == pytest.approx(
        (echo.published - first.published).total_seconds() / 3600
    )
    assert outlets[dawn_host].flips == [
        f"asserts→denies on {flip_day.isoformat()}",
        f"denies→asserts on {later_day.isoformat()}",
    ]
    assert history.resurfaced == [(later_day, (later_day - flip_day).days)]
    assert not history.spreading
    assert history.articles == 4
    assert [e.url for e in history.latest] == [a.url for a in (later, flip, echo, first)]
    with pytest.raises(reports.UnknownClaim):
        reports.claim_history(sessions, "no-such-claim", now=later.published)


def _on_claim(i: int) -> list[tuple[str, str | None]]:
    """Article ``i``'s matches: most on CLAIM with a stance that changes every few articles
    (some with none), a few on another claim only, some on both."""
    stance = ("asserts", "asserts", "reports", "denies", None)[(i // 3) % 5]
    mine = [(CLAIM, stance)] if i % 7 != 6 else []
    return mine + [(OTHER_CLAIM, "reports")] * (i % 5 == 0)


@pytest.fixture
def claim_store(sessions: sessionmaker[Session]) -> list[NewsArticle]:
    """180 real articles of 1-12 May 2025 on their dates (over 100 on CLAIM, so the latest
    are a cut), one of them sharing the very first one's time, one without an outlet."""
    chosen = [
        a for a in news() if date(2025, 5, 1) <= a.published.astimezone(UTC).date() <= date(2025, 5, 12)
    ][::4][:180]
    assert len(chosen) == 180, "the corpus has enough articles in those days"
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for i, article in enumerate(chosen):
            # The second article at the first one's time: the earlier id is the first seen.
            when = chosen[0].published if i == 1 else None
            row = store_matched(session, article, claims=_on_claim(i), dated_at=when)  # type: ignore[arg-type]
            if i == 2:  # no outlet known: moved to the "" outlet by the write path itself
                matched = session.scalars(select(ClaimMatch).where(ClaimMatch.article_id == row.id)).all()
                hits = [ClaimHit(m.claim_id, m.score, m.method, _evidence(m), m.stance) for m in matched]  # type: ignore[arg-type]
                row.source = None
                writes.replace_matches(session, row, MatchResult(mentions=[], claims=hits, relevance=0.8))
    return chosen


def _evidence(match: ClaimMatch) -> Sentence:
    return Sentence(match.evidence_start, match.evidence_end, match.evidence)


def test_claim_history_from_the_rollup_is_what_the_stored_articles_say(sessions, claim_store):
    with sessions() as session:  # every article on the claim, read here
        rows = session.execute(
            select(
                Article.id,
                Article.dated_at,
                Article.source,
                ClaimMatch.stance,
                Article.title,
                Article.url,
                ClaimMatch.score,
            )
            .join(ClaimMatch, ClaimMatch.article_id == Article.id)
            .where(ClaimMatch.claim_id == CLAIM, Article.state == ArticleState.DONE)
        ).all()
    events = [
        ClaimEvent(i, at, src or "", st or "", t or "", u, float(sc)) for i, at, src, st, t, u, sc in rows
    ]
    assert len(events) > LATEST, "more than the latest on the claim: the list is a cut"
    now = max(e.at for e in events) + timedelta(days=2)
    history = reports.claim_history(sessions, CLAIM, now=now)

    assert history.articles == len(events) == sum(1 for i in range(180) if i % 7 != 6)
    per_outlet = Counter(e.source for e in events)
    assert "" in per_outlet, "the article without an outlet is counted under none"
    assert {o.source: o.articles for o in history.outlets} == dict(per_outlet)
    stances = {s: Counter(e.stance for e in events if e.source == s) for s in per_outlet}
    assert {o.source: o.stances for o in history.outlets} == {s: dict(c) for s, c in stances.items()}
    for outlet in history.outlets:
        assert outlet.first_at == min(e.at for e in events if e.source == outlet.source)

    first = min(events, key=lambda e: (e.at, e.article_id))
    assert history.first == first
    assert first.url == claim_store[0].url, "of two articles at the same time, the first stored"
    newest = sorted(events, key=lambda e: (e.at, e.article_id), reverse=True)[:LATEST]
    assert history.latest == newest
    # And the whole document is what the same logic makes of every event.
    assert history.to_json() == history_from_events(CLAIM, history.statement, events, now=now).to_json()
