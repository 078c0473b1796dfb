"""Stories: which earlier article's story each newly stored article joins (``notify.stories``),
kept as ``article.story_id`` (the story's first article's id).

``StoryGrouper.assign_pending()`` takes the processed articles that have no story yet, oldest
first, and for each asks the index of recent articles; the answer is written with
``UPDATE … WHERE story_id IS NULL``, so a second grouper never overwrites the first. Before it
looks, the index learns the articles other processes grouped since it last looked, so several
workers share one view of the recent stories (a race between two groupers on two related
articles in the same second can still give them two stories: the price of no global lock).
It runs before alerts and digests are planned, so they show each story once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.rules import site_of
from notify.stories import StoryCandidate, StoryIndex
from schema.models import Article, ArticleState
from services.limits import utc_now

#: How far back a new article is compared (copies are found up to 7 days apart).
HORIZON = timedelta(days=7)


@dataclass
class StoryGrouper:
    sessions: sessionmaker[Session]
    index_factory: Callable[[], StoryIndex] = StoryIndex
    clock: Callable[[], datetime] = field(default=utc_now)
    _index: StoryIndex | None = None
    _seen_until: datetime | None = None  # processed_at of the newest grouped article the index holds
    _known: set[int] = field(default_factory=set)
    _newest: datetime | None = None  # the latest publication time the index has seen

    def assign_pending(self, limit: int = 500) -> int:
        """Give every processed article without a story its story; returns how many were given."""
        with self.sessions() as session:
            pending = session.scalars(
                select(Article)
                .where(Article.state == ArticleState.DONE, Article.story_id.is_(None))
                .order_by(Article.processed_at, Article.id)
                .limit(limit)
            ).all()
            candidates = [_candidate(article) for article in pending]
        if not candidates:
            return 0  # nothing new: no index to build (it loads the embedding model)
        index = self._refresh()
        assigned = 0
        for candidate in candidates:
            story_id = index.match(candidate) or candidate.article_id
            with self.sessions.begin() as session:
                result = session.execute(
                    update(Article)
                    .where(Article.id == candidate.article_id, Article.story_id.is_(None))
                    .values(story_id=story_id)
                )
                won = int(getattr(result, "rowcount", 0)) == 1
            if won:
                index.add(candidate, story_id)
                self._known.add(candidate.article_id)
                if self._newest is None or candidate.published > self._newest:
                    self._newest = candidate.published
                assigned += 1
        return assigned

    def _refresh(self) -> StoryIndex:
        """The index, with what other processes grouped since it last looked, and nothing older
        than the horizon."""
        if self._index is None:
            self._index = self.index_factory()
        with self.sessions() as session:
            since = self._seen_until
            if since is None:  # first look: the horizon before the newest grouped article
                newest = session.scalar(
                    select(func.max(Article.processed_at)).where(Article.story_id.is_not(None))
                )
                since = (newest or self.clock()) - HORIZON
            grouped = session.scalars(
                select(Article)
                .where(Article.story_id.is_not(None), Article.processed_at >= since)
                .order_by(Article.processed_at, Article.id)
            ).all()
            fresh = [(_candidate(a), a.story_id, a.processed_at) for a in grouped if a.id not in self._known]
        for candidate, story_id, processed_at in fresh:
            self._index.add(candidate, story_id)
            self._known.add(candidate.article_id)
            if processed_at is not None and (self._seen_until is None or processed_at > self._seen_until):
                self._seen_until = processed_at
        newest = max((c.published for c, _, _ in fresh), default=None)
        if newest is not None and (self._newest is None or newest > self._newest):
            self._newest = newest
        if self._newest is not None:
            # Relative to the newest article, not to now: a backfill of old news groups too.
            self._index.evict(self._newest - HORIZON)
        return self._index


def _candidate(article: Article) -> StoryCandidate:
    return StoryCandidate(
        article_id=article.id,
        source=site_of(article.site_name, article.url),
        title=article.title or article.feed_title or "",
        text=article.text or "",
        published=article.published or article.created_at,
    )
