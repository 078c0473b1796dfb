"""Story ids in the store (services/stories.py), on SQLite and PostgreSQL, from real corpus
articles: one operation reported by APP and Dawn an hour apart, and an unrelated article."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from notify.stories import StoryIndex
from schema.models import Article
from services.stories import StoryGrouper
from tests.support.news import NewsArticle, news, processed_row

TURBAT_APP, TURBAT_DAWN = "pk-32cca58bc41f", "pk-7a72fc1d5c3b"  # tests/notify/test_stories.py


def by_id(corpus_id: str) -> NewsArticle:
    return next(a for a in news() if a.id == corpus_id)


def store(sessions, article: NewsArticle) -> int:
    with sessions.begin() as session:
        row = processed_row(article, article.published + timedelta(minutes=2), relevance=0.5)
        session.add(row)
        session.flush()
        return row.id


def stories(sessions) -> dict[int, int | None]:
    with sessions() as session:
        return {row.id: row.story_id for row in session.execute(select(Article.id, Article.story_id))}


def test_the_other_outlets_report_joins_the_first_ones_story_and_nothing_is_grouped_twice(sessions):
    app, dawn = by_id(TURBAT_APP), by_id(TURBAT_DAWN)
    first_id = store(sessions, min(app, dawn, key=lambda a: a.published))
    unrelated = next(a for a in news() if "cricket" in a.title.casefold() and a.published > app.published)
    other_id = store(sessions, unrelated)
    grouper = StoryGrouper(sessions, StoryIndex)

    assert grouper.assign_pending() == 2
    second_id = store(sessions, max(app, dawn, key=lambda a: a.published))
    # Another process, with an index of its own, learns from the store what was grouped.
    assert StoryGrouper(sessions, StoryIndex).assign_pending() == 1
    assert grouper.assign_pending() == 0, "a story, once given, is kept"

    assert stories(sessions) == {first_id: first_id, other_id: other_id, second_id: first_id}
