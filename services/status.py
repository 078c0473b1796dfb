"""What `mediamon status` shows of the store: feeds by health, articles by state, and the
stored articles still waiting for the workers' rematch under the newest matcher version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from schema import queries


def store_status(sessions: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """``feeds <health>``, ``articles <state>`` and ``articles awaiting rematch`` counts, in
    display order."""
    with sessions() as session:
        feeds = queries.feed_counts(session, now)
        articles = queries.article_counts_by_state(session)
        awaiting_rematch = queries.count_awaiting_rematch(session)
    return {
        **{f"feeds {name}": value for name, value in feeds.items()},
        **{f"articles {name}": value for name, value in sorted(articles.items())},
        "articles awaiting rematch": awaiting_rematch,
    }
