"""Why articles failed, for people: failures grouped by reason, and articles listed by state.

An article's failure text is specific (``body larger than 5242880 bytes``, ``cannot resolve
news.example: ...``); a table with one row per text would show the same problem many times.
:func:`reason_key` keeps what tells problems apart (the words, HTTP status codes, errno
numbers) and replaces what varies between articles with the same problem (sizes, counts,
seconds, host names, addresses, URLs, the attempt counter of a soft failure).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from schema import queries
from schema.models import ArticleState

#: Example URLs shown per reason.
EXAMPLES = 2

# The retry note services.articles appends to a soft failure's text ("…, will retry").
_ATTEMPT_NOTE = re.compile(r"\s*\(attempt \d+ of \d+, will retry\)$")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", re.IGNORECASE)
# A dotted name ending in letters (news.example.com, 'feeds.invalid'); not "e.g." or "1.5".
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9](?![\w-])", re.I)
# A number, unless it identifies the problem rather than measures it (a status, an errno).
_NUMBER = re.compile(
    r"(?P<kept>(?:HTTP|Errno) -?\d+)|(?<![\w.])(?:0x[0-9a-f]+|-?\d+(?:\.\d+)?)(?![\w.])", re.IGNORECASE
)


def reason_key(reason: str) -> str:
    """``reason`` with its article-specific parts replaced, so equal problems compare equal.

    >>> reason_key("body larger than 5242880 bytes (attempt 1 of 3, will retry)")
    'body larger than N bytes'
    >>> reason_key("cannot resolve feeds.invalid: [Errno -2] Name or service not known")
    'cannot resolve <host>: [Errno -2] Name or service not known'
    >>> reason_key("HTTP 404")
    'HTTP 404'
    """
    text = _ATTEMPT_NOTE.sub("", reason.strip())
    text = _URL.sub("<url>", text)
    text = _IPV4.sub("<address>", text)
    text = _IPV6.sub("<address>", text)
    text = _HOST.sub("<host>", text)
    text = text.replace("'<host>'", "<host>").replace('"<host>"', "<host>")
    return _NUMBER.sub(lambda m: m.group("kept") or "N", text) or "failed"


@dataclass
class FailureGroup:
    """Articles whose failures share one :func:`reason_key`.

    ``reason`` is the full text when every article failed with the same words, else the key.
    """

    reason: str
    failed: int = 0  # final: the article will not be tried again
    retrying: int = 0  # soft: pending, tried again by the next run or sweep
    examples: list[str] = field(default_factory=list)
    texts: set[str] = field(default_factory=set, repr=False)

    @property
    def count(self) -> int:
        return self.failed + self.retrying

    def to_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "failed": self.failed,
            "retrying": self.retrying,
            "examples": self.examples,
        }


def group_failures(rows: Iterable[queries.FailureCount], examples: int = EXAMPLES) -> list[FailureGroup]:
    """Rows of :func:`schema.queries.failure_counts` merged per reason, most articles first."""
    groups: dict[str, FailureGroup] = {}
    for row in rows:
        text = _ATTEMPT_NOTE.sub("", row.error.strip()) or "failed"
        key = reason_key(text)
        group = groups.setdefault(key, FailureGroup(key))
        if row.state == ArticleState.FAILED:
            group.failed += row.articles
        else:
            group.retrying += row.articles
        group.texts.add(text)
        for url in (row.first_url, row.last_url):
            if len(group.examples) < examples and url not in group.examples:
                group.examples.append(url)
    for group in groups.values():
        if len(group.texts) == 1:
            group.reason = next(iter(group.texts))
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


def failures_by_reason(
    sessions: sessionmaker[Session],
    *,
    feed_ids: Sequence[int] | None = None,
    changed_since: datetime | None = None,
    include_retrying: bool = True,
) -> list[FailureGroup]:
    """Failed articles (and soft failures awaiting a retry, unless ``include_retrying`` is
    false) grouped by reason, with examples.

    ``feed_ids`` and ``changed_since`` narrow it to one run's feeds and moment.
    """
    with sessions() as session:
        rows = queries.failure_counts(
            session, feed_ids=feed_ids, changed_since=changed_since, include_retrying=include_retrying
        )
    return group_failures(rows)


@dataclass(frozen=True)
class ArticleRow:
    """One article as `mediamon articles` lists it."""

    id: int
    url: str
    state: str
    reason: str | None
    attempts: int
    last_tried: datetime | None  # None: never tried yet
    title: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "state": self.state,
            "reason": self.reason,
            "attempts": self.attempts,
            "last_tried": self.last_tried.isoformat() if self.last_tried else None,
            "title": self.title,
        }


def list_articles(
    sessions: sessionmaker[Session], state: ArticleState | None, limit: int
) -> tuple[list[ArticleRow], int]:
    """Up to ``limit`` articles in ``state``, most recently changed first, and how many there are."""
    with sessions() as session:
        articles = queries.articles_in_state(session, state, limit)
        total = queries.count_in_state(session, state)
        return [
            ArticleRow(
                id=a.id,
                url=a.url,
                state=a.state.value,
                reason=a.error,
                attempts=a.attempts,
                # The row's last change: for an article tried at least once, its last attempt.
                last_tried=a.updated_at if a.attempts else None,
                title=a.title or a.feed_title,
            )
            for a in articles
        ], total
