"""Matching stored articles again after the knowledge base, the frames or the calibration changed.

An article keeps the matches of the matcher that stored it, and that matcher's version
(``Article.kb_version``: the knowledge base's version and, from ``build_matcher``, a digest of
the calibration, relevance model and matching settings: ``Matcher.version``). Trend reports,
search and the dashboard read those matches, so a better matcher reaches them only when the
stored text is matched again: :func:`rematch` does that, in batches of one transaction each,
for the articles stored under another version (or all of them). Matches, mentions,
relevance and the trend rollup are replaced together (``schema.writes.replace_matches``);
``processed_at`` is left alone, so alert and digest windows, which are keyed on it, never
see an old article as new: nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from matching.matcher import Matcher
from schema import queries, writes
from schema.models import Article

log = logging.getLogger("mediamon.rematch")

#: Articles matched per transaction: a crash loses at most one batch's work, never a match.
BATCH = 100


@dataclass
class RematchReport:
    articles: int = 0  # articles taken (matched again, or failed)
    claims_before: int = 0  # claim matches they held before
    claims_after: int = 0  # and hold now
    failed: list[int] = field(default_factory=list)  # ids the matcher failed on (matches kept)


def rematch(
    sessions: sessionmaker[Session],
    matcher: Matcher,
    *,
    everything: bool = False,
    batch: int = BATCH,
    progress: Callable[[RematchReport], None] = lambda _report: None,
) -> RematchReport:
    """Match stored articles again: those stored under another matcher version, or with
    ``everything`` all of them (after a change to matching code, which the version does not
    cover). Safe to stop and run again: each batch commits with the version it
    was matched under, and a second run finds nothing left to do."""
    version = None if everything else matcher.version
    report = RematchReport()
    after = 0
    while True:
        with sessions.begin() as session:
            articles = queries.articles_to_rematch(session, version, after, batch)
            if not articles:
                return report
            _match_again(session, matcher, articles, report)
            after = articles[-1].id
        progress(report)


def announce_worker_version(sessions: sessionmaker[Session], matcher: Matcher) -> None:
    """Record that a worker runs ``matcher``'s version, when it starts. Only workers take part:
    a one-shot run or a CLI against the same database never makes its version the newest."""
    with sessions.begin() as session:
        writes.record_worker_version(session, matcher.version)


def rematch_batch(
    sessions: sessionmaker[Session], matcher: Matcher, batch: int = BATCH
) -> RematchReport | None:
    """One batch of the articles stored under another matcher version, matched again in
    one transaction: what a worker does between other work (``workers.tasks.rematch_stale``).

    None, touching nothing, when a newer version than the matcher's has been seen: during a
    rollout the workers still on the old version leave the store to the new ones, instead of
    matching back what those matched. The rows are locked and locked ones skipped, so several
    workers at once take disjoint batches. A report of ``batch`` articles means more may wait.
    """
    version = matcher.version
    report = RematchReport()
    with sessions.begin() as session:
        if queries.newest_kb_version(session) not in (None, version):
            return None
        articles = queries.articles_to_rematch(session, version, 0, batch, lock=True)
        _match_again(session, matcher, articles, report)
    return report


def _match_again(
    session: Session, matcher: Matcher, articles: Sequence[Article], report: RematchReport
) -> None:
    """Replace the articles' matches with ``matcher``'s; their ``processed_at`` stays (see above).

    A text the matcher fails on keeps the matches it has, is logged, and is marked with the
    version all the same: left stale, it would be taken again by every batch, and a batch that
    always comes back full would enqueue the next one for ever."""
    for article in articles:
        report.articles += 1
        report.claims_before += len(article.claim_matches)
        article.kb_version = matcher.version
        try:
            result = matcher.match(article.text or "")
        except Exception:  # matching is computation only: nothing here is a database error
            log.exception("matching article %d again failed; its stored matches are kept", article.id)
            report.failed.append(article.id)
            report.claims_after += len(article.claim_matches)
            continue
        writes.replace_matches(session, article, result)
        report.claims_after += len(result.claims)
