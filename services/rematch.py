"""Matching stored articles again after the knowledge base, the frames or the calibration changed.

An article keeps the matches of the matcher that stored it (``Article.kb_version``). Trend
reports, search and the dashboard read those matches, so a better matcher reaches them only
when the stored text is matched again: :func:`rematch` does that, in batches of one
transaction each, for the articles stored under another knowledge-base version (or all of
them). Matches, mentions, relevance and the trend rollup are replaced together
(``schema.writes.replace_matches``); ``processed_at`` is left alone, so alert and digest
windows, which are keyed on it, never see an old article as new: nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from matching.matcher import Matcher
from schema import queries, writes

#: Articles matched per transaction: a crash loses at most one batch's work, never a match.
BATCH = 100


@dataclass
class RematchReport:
    articles: int = 0  # articles matched again
    claims_before: int = 0  # claim matches they held before
    claims_after: int = 0  # and hold now


def rematch(
    sessions: sessionmaker[Session],
    matcher: Matcher,
    *,
    everything: bool = False,
    batch: int = BATCH,
    progress: Callable[[RematchReport], None] = lambda _report: None,
) -> RematchReport:
    """Match stored articles again: those stored under another knowledge-base version, or with
    ``everything`` all of them (after a calibration or relevance-model change, which the
    version does not cover). Safe to stop and run again: each batch commits with the version it
    was matched under, and a second run finds nothing left to do."""
    version = matcher.kb.full_version
    report = RematchReport()
    after = 0
    while True:
        with sessions.begin() as session:
            articles = queries.articles_to_rematch(session, None if everything else version, after, batch)
            if not articles:
                return report
            for article in articles:
                report.claims_before += len(article.claim_matches)
                result = matcher.match(article.text or "")
                writes.replace_matches(session, article, result)
                article.kb_version = version
                report.articles += 1
                report.claims_after += len(result.claims)
            after = articles[-1].id
        progress(report)
