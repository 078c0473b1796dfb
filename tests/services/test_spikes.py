"""Spike reports on real stores (SQLite and PostgreSQL): real corpus articles stored through the
write path on their real dates, a steady background, and a burst planted on one day or hour.

The matches are given, not computed, so every count is known. The background: one article a
day mentioning the TTP for five weeks before 21 May 2025 (one about militancy when the day has
one), and each day's articles with "Pakistan" in the title (up to three) mentioning Pakistan.
The burst: the first eight articles of 21 May, the day of the Khuzdar school bus attack, whose
titles speak of terrorism or the security forces (six from APP, two from Dawn), all mentioning
the TTP, five of them India, six matching the claim that the TTP and IS-K attack inside
Pakistan, and the first three grouped as one story.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from reports.spikes import SensitivityError
from schema.models import Article
from services.spikes import SpikeQuery, spikes
from tests.support.news import NewsArticle, news
from tests.support.stored import store_matched, sync_shipped_kb

BURST_DAY = date(2025, 5, 21)
CLAIM = "ttp-isk-attacks-inside-pakistan"
MILITANCY = re.compile(r"\bTTP\b|Khawarij|Khwarij|Tehreek-i-Taliban|terroris|militan", re.IGNORECASE)
ATTACK = re.compile(
    r"terroris|khwarij|khawarij|militan|security forces|martyr|gunfire|\bTTP\b", re.IGNORECASE
)


def on_day(day: date) -> list[NewsArticle]:
    return [a for a in news() if a.published.date() == day]


def host(article: NewsArticle) -> str:
    return article.url.split("/")[2].removeprefix("www.")


def background(days: int, until: date, used: set[str]) -> list[tuple[NewsArticle, list[str]]]:
    """One TTP article a day (one about militancy when the day has one) and up to three
    Pakistan articles a day, over the ``days`` days before ``until``."""
    chosen = []
    for back in range(days, 0, -1):
        day = [a for a in on_day(until - timedelta(days=back)) if a.url not in used]
        ttp = next((a for a in day if MILITANCY.search(a.text)), day[0])
        chosen.append((ttp, ["ttp"]))
        used.add(ttp.url)
        titled = [a for a in day if "pakistan" in a.title.casefold() and a.url not in used][:3]
        chosen += [(a, ["pakistan"]) for a in titled]
        used.update(a.url for a in titled)
    return chosen


def planted_burst(used: set[str]) -> list[NewsArticle]:
    burst = [a for a in on_day(BURST_DAY) if ATTACK.search(a.title) and a.url not in used][:8]
    assert len(burst) == 8
    used.update(a.url for a in burst)
    return burst


def store_burst(
    session: Session, burst: list[NewsArticle], at: list[datetime] | None = None
) -> list[Article]:
    rows = []
    for i, article in enumerate(burst):
        entities = ["ttp", "india"] if i < 5 else ["ttp"]
        claims = [(CLAIM, "reports")] if i < 6 else []
        rows.append(
            store_matched(session, article, entities=entities, claims=claims, dated_at=at[i] if at else None)
        )
    # Three copies of one story, as the story grouper leaves them (the first article's id).
    story = rows[0].id
    session.execute(update(Article).where(Article.id.in_([r.id for r in rows[:3]])).values(story_id=story))
    return rows


@pytest.fixture
def daily_store(sessions: sessionmaker[Session]) -> list[NewsArticle]:
    used: set[str] = set()
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for article, entities in background(35, BURST_DAY, used):
            store_matched(session, article, entities=entities)
        burst = planted_burst(used)
        store_burst(session, burst)
        for article in [a for a in on_day(BURST_DAY) if "pakistan" in a.title.casefold()][:3]:
            if article.url not in used:
                store_matched(session, article, entities=["pakistan"])
    return burst


def day_query(**settings: object) -> SpikeQuery:
    """The week before the burst day and the day itself, UTC days."""
    until = datetime.combine(BURST_DAY + timedelta(days=1), datetime.min.time(), UTC)
    return SpikeQuery(since=until - timedelta(days=8), until=until, **settings)  # type: ignore[arg-type]


def test_the_burst_day_is_found_with_its_outlets_entities_and_stories(sessions, daily_store):
    burst = daily_store
    report = spikes(sessions, day_query())

    found = {(s.spike.kind, s.spike.key, s.spike.start.date()) for s in report.spikes}
    assert ("entity", "ttp", BURST_DAY) in found
    assert ("claim", CLAIM, BURST_DAY) in found, "a claim never seen before, six times in a day"
    assert not any(key == "pakistan" for _kind, key, _day in found), "the steady entity is no spike"
    assert all(day == BURST_DAY for _kind, _key, day in found), sorted(found)
    assert report.buckets_tested == 8, "14 to 21 May, whole UTC days"
    assert report.series_tested == 4, "ttp, pakistan, india and the claim"

    ttp = next(s for s in report.spikes if s.spike.key == "ttp")
    assert ttp.label == "Tehreek-e-Taliban Pakistan"
    assert ttp.spike.observed == 8
    assert ttp.spike.expected == pytest.approx(1.0), "one a day in the baseline"
    assert ttp.spike.granularity == "day"
    explanation = ttp.explanation
    assert explanation is not None
    (top_source, most), *_ = Counter(host(a) for a in burst).most_common()
    assert (explanation.sources[0].key, explanation.sources[0].count) == (top_source, most)
    assert sum(s.count for s in explanation.sources) == 8
    assert [(e.key, e.count) for e in explanation.entities] == [("india", 5)]
    story = explanation.stories[0]
    assert (story.label, story.url, story.count) == (burst[0].title, burst[0].url, 3)
    assert {s.label for s in explanation.stories} <= {a.title for a in burst}

    claim = next(s for s in report.spikes if s.spike.kind == "claim")
    assert claim.label.startswith("The TTP and IS-K")
    assert claim.explanation is not None
    assert {e.key for e in claim.explanation.entities} == {"ttp", "india"}

    record = report.to_json()
    assert record["series_tested"] == 4
    assert isinstance(record["spikes"], list)
    assert record["spikes"][0]["explanation"]["stories"][0]["url"] in {a.url for a in burst}


def test_filters_sensitivity_and_explanations(sessions, daily_store):
    claims_only = spikes(sessions, day_query(kinds=("claim",)))
    assert {s.spike.kind for s in claims_only.spikes} == {"claim"}
    assert claims_only.series_tested == 1
    one_entity = spikes(sessions, day_query(kinds=("entity",), entity_ids=("pakistan",)))
    assert one_entity.spikes == [] and one_entity.series_tested == 1
    unexplained = spikes(sessions, day_query(explain=0))
    assert unexplained.spikes and all(s.explanation is None for s in unexplained.spikes)
    strict = spikes(sessions, day_query(min_count=9))
    assert [s.spike.key for s in strict.spikes] == [], "eight articles are under a minimum of nine"
    with pytest.raises(SensitivityError):
        spikes(sessions, day_query(sensitivity="extreme"))


def test_days_in_another_time_zone_are_read_from_the_rows(sessions, daily_store):
    report = spikes(sessions, day_query(tz="Asia/Karachi"))
    ttp = [s.spike for s in report.spikes if s.spike.key == "ttp"]
    assert ttp, [s.spike for s in report.spikes]
    assert all(s.start.utcoffset() == timedelta(hours=5) and s.start.hour == 0 for s in ttp)
    assert {s.start.date() for s in ttp} <= {BURST_DAY, BURST_DAY + timedelta(days=1)}


def test_an_empty_store_has_nothing_to_test(sessions):
    report = spikes(sessions, day_query())
    assert (report.spikes, report.series_tested, report.tests) == ([], 0, 0)


def test_the_hourly_test_covers_the_last_48_hours_and_finds_a_burst_hour(sessions):
    now = datetime.combine(BURST_DAY, datetime.min.time(), UTC) + timedelta(hours=20)
    burst_hour = now - timedelta(hours=5)
    used: set[str] = set()
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for article, entities in background(10, BURST_DAY, used):
            store_matched(session, article, entities=entities)
        burst = planted_burst(used)[:5]
        store_burst(session, burst, at=[burst_hour + timedelta(minutes=7 * i) for i in range(5)])

    report = spikes(sessions, SpikeQuery(granularity="hour", since=now - timedelta(days=10), now=now))

    assert report.buckets_tested == 48, "only the last 48 hours, whatever the since"
    assert report.since == now - timedelta(hours=48)
    hours = {(s.spike.key, s.spike.start) for s in report.spikes}
    assert ("ttp", burst_hour) in hours
    assert all(start == burst_hour for _key, start in hours), sorted(hours)
    assert all(s.spike.granularity == "hour" for s in report.spikes)
    ttp = next(s for s in report.spikes if s.spike.key == "ttp")
    assert ttp.explanation is not None
    assert ttp.explanation.stories[0].label == burst[0].title
    assert ttp.explanation.stories[0].count == 3
