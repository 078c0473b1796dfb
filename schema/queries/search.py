"""Full-text search over stored articles: the one query, written once per dialect.

The storage is built by the migration ``7c1d2e3f4a5b`` and lives outside the ORM models: on
PostgreSQL the generated column ``article.search_tsv`` (title weighted A, text B) with a GIN
index, on SQLite the FTS5 table ``article_fts`` kept in step with ``article`` by triggers.

What users type is never handed to a query parser as it is: :func:`parse_query` reads it the way
``websearch_to_tsquery`` does (words, ``"phrases"``, ``OR``, ``-exclusions``) into terms that
are then written out safely for each dialect, quoted word by word. No input can raise a syntax
error, and both dialects answer the same question.

Ranking is in two tiers so it reads the same everywhere: articles whose *title* matches the
query come first (rank 1 + x), then those that match only in the text (rank x), where x in
[0, 1) orders each tier by the dialect's own measure (``ts_rank_cd`` with the title weighted
A on PostgreSQL, ``bm25`` with the title weighted 10 on SQLite). Without the tier an article
that repeats a word thirty times in its text outranks one that is about it in its title.

Snippets are computed only for the page of hits (a second, small query): ``ts_headline`` reads
the whole text and is expensive. They are HTML-escaped, with the hits inside ``<mark>…</mark>``,
so a web page can show them as they are.

Pagination is by cursor: the opaque ``after`` string holds the (rank, id) of the last hit
shown, and the next page starts strictly after it in the order (rank descending, id ascending).

Only the newest ``RANK_POOL`` (1,000) matches (after the filters) are ranked: a word in most articles
would otherwise have every one of their vectors read on each request (19 s for "Pakistan" at a
million articles). When older matches exist the result says so (``older_unranked``), and the
CLI, the API and the dashboard tell the user to narrow the period to reach them.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnClause,
    ColumnElement,
    Double,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from schema.models import Article, ArticleState, ClaimMatch, Mention

MAX_LIMIT = 200
# A search box needs no more; beyond this the rest of the input is ignored, which keeps the
# query small whatever is pasted into it.
MAX_TERMS = 64
# Rank added to hits whose title matches the query (the base rank is below 1).
TITLE_TIER = 1.0
# The newest matching articles that are ranked (see search_articles).
RANK_POOL = 1000
# How far back each step of the search for the newest matches reaches (see _newest).
_SLICES = tuple(timedelta(days=d) for d in (7, 30, 120, 365))

# The hit markers the databases write: private-use characters no article uses, replaced by
# <mark> after the snippet is escaped (a marker written as "<mark>" would be escaped too).
_START, _STOP = "\ue000", "\ue001"
_MARKED = re.compile(f"{_START}([^{_START}{_STOP}]*){_STOP}")
_HEADLINE_OPTIONS = (
    f'StartSel={_START}, StopSel={_STOP}, MaxFragments=2, MaxWords=25, MinWords=10, FragmentDelimiter=" … "'
)
_SNIPPET_TOKENS = 24
_SNIPPET_WINDOW = 4000  # characters of text a PostgreSQL snippet is looked for in first

# One token of the user's input: a "phrase" (the closing quote may be missing), or a word.
_TOKEN = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')


class SearchError(ValueError):
    """A search request that cannot be answered (a bad cursor or limit); the message says why."""


@dataclass(frozen=True)
class SearchQuery:
    """What to search for and where. Empty tuples mean no filter.

    ``entity_ids``: the article mentions any of them; ``claim_ids``: it matches any of them;
    ``since``/``until`` bound ``Article.dated_at`` (``until`` excluded); ``after`` is the
    cursor of the last hit of the previous page (:attr:`SearchHit.cursor`).
    """

    text: str
    since: datetime | None = None
    until: datetime | None = None
    sources: Sequence[str] = field(default_factory=tuple)
    entity_ids: Sequence[str] = field(default_factory=tuple)
    claim_ids: Sequence[str] = field(default_factory=tuple)
    limit: int = 20
    after: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchError(f"the limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if self.after is not None:
            decode_cursor(self.after)  # a bad cursor is refused here, before any query runs


@dataclass(frozen=True)
class SearchHit:
    """One stored article that matches, with the part of its text that matched."""

    article_id: int
    url: str
    title: str | None
    source: str | None
    dated_at: datetime | None
    rank: float  # higher is better; 1 and above when the title matches
    snippet: str  # HTML-escaped text, hits inside <mark>…</mark>

    @property
    def cursor(self) -> str:
        """The ``after`` value for the page that follows this hit."""
        return encode_cursor(self.rank, self.article_id)

    def to_json(self) -> dict[str, Any]:
        """The hit as the CLI's ``--format json`` and the web API write it (stable names)."""
        return {
            "article_id": self.article_id,
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "dated_at": self.dated_at.isoformat() if self.dated_at else None,
            "rank": self.rank,
            "snippet": self.snippet,
        }


def encode_cursor(rank: float, article_id: int) -> str:
    # float.hex keeps the rank exact, so the next page starts exactly after this hit.
    raw = json.dumps([rank.hex(), article_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank_hex, article_id = json.loads(raw)
        rank = float.fromhex(rank_hex)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise SearchError(f"not a search cursor: {cursor[:40]!r}") from exc
    if not isinstance(article_id, int) or rank != rank:  # NaN never compares
        raise SearchError(f"not a search cursor: {cursor[:40]!r}")
    return rank, article_id


# --- reading what the user typed -------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or phrase to find (or, when ``excluded``, to refuse), as the user spelled it."""

    words: str
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """Alternatives joined by OR; each alternative wants all its terms (and none excluded).

    Alternatives with nothing to find (only exclusions, or only punctuation) are dropped: a
    query that only excludes would read every article.
    """

    alternatives: tuple[tuple[Term, ...], ...]

    @property
    def searchable(self) -> bool:
        return bool(self.alternatives)

    def fts5(self) -> str:
        """The FTS5 query: each term a quoted string, so no input is FTS5 syntax."""

        def alternative(terms: tuple[Term, ...]) -> str:
            wanted = " AND ".join(_fts5_string(t.words) for t in terms if not t.excluded)
            refused = "".join(f" NOT {_fts5_string(t.words)}" for t in terms if t.excluded)
            return f"(({wanted}){refused})"

        return " OR ".join(alternative(a) for a in self.alternatives)

    def websearch(self) -> str:
        """The same query rewritten for ``websearch_to_tsquery``, every term in quotes."""
        return " or ".join(
            " ".join(f'{"-" if t.excluded else ""}"{t.words}"' for t in terms) for terms in self.alternatives
        )


def _fts5_string(words: str) -> str:
    return '"' + words.replace('"', '""') + '"'


def parse_query(text: str) -> ParsedQuery:
    """Read a search box the way ``websearch_to_tsquery`` does: ``word``, ``"a phrase"``,
    ``OR`` (any case) between alternatives, ``-word`` or ``-"a phrase"`` to exclude."""
    # Control, format, private-use and unassigned characters are no part of any word (and NUL
    # cannot even travel to PostgreSQL).
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    alternatives: list[tuple[Term, ...]] = []
    current: list[Term] = []
    count = 0
    for token in _TOKEN.finditer(text):
        if token["word"] is not None:
            word = token["word"]
            if word.casefold() == "or":
                alternatives.append(tuple(current))
                current = []
                continue
            excluded = word.startswith("-")
            term = Term(word[1:] if excluded else word, excluded)
        else:
            term = Term(" ".join(token["phrase"].split()), bool(token["neg"]))
        if count < MAX_TERMS and any(ch.isalnum() for ch in term.words):
            current.append(term)
            count += 1
    alternatives.append(tuple(current))
    return ParsedQuery(tuple(a for a in alternatives if any(not t.excluded for t in a)))


# --- the query --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """Hits, best first, and whether matches older than the ranked pool were left unranked."""

    hits: list[SearchHit]
    older_unranked: bool = False


def search_articles(
    session: Session, query: SearchQuery, *, look_ahead: int = 0, pool: int = RANK_POOL
) -> SearchResult:
    """Stored articles matching ``query``, best first: at most ``query.limit + look_ahead``
    (the service asks for one more to learn whether another page follows).

    Only the newest ``pool`` matching articles (after the filters) are ranked: ranking reads
    each candidate's whole vector, and a word found in most articles would have hundreds of
    thousands read per request. The result says when older matches were left out, so the
    caller can tell the user to narrow the period rather than lose them silently."""
    parsed = parse_query(query.text)
    if not parsed.searchable:
        return SearchResult([])
    postgres = session.get_bind().dialect.name == "postgresql"
    # Two steps, each run once: the newest matches' ids (an index walk by date for a common
    # word, the text index for a rare one), then the ranking of just those.
    matching = _filtered(_postgres_matching(parsed) if postgres else _sqlite_matching(parsed), query)
    ids = _newest(session, matching, query, pool + 1)
    if not ids:
        return SearchResult([])
    ranked = (_postgres_ranked if postgres else _sqlite_ranked)(parsed).where(Article.id.in_(ids[:pool]))
    hits = ranked.subquery("hits")
    page = select(hits).order_by(hits.c.rank.desc(), hits.c.id).limit(query.limit + look_ahead)
    if query.after is not None:
        rank, article_id = decode_cursor(query.after)
        page = page.where(or_(hits.c.rank < rank, and_(hits.c.rank == rank, hits.c.id > article_id)))
    rows = session.execute(page).all()
    older_unranked = len(ids) > pool
    if not rows:
        return SearchResult([], older_unranked)
    snippets = (_postgres_snippets if postgres else _sqlite_snippets)(session, parsed, [r.id for r in rows])
    return SearchResult(
        [
            SearchHit(
                article_id=row.id,
                url=row.url,
                title=row.title,
                source=row.source,
                dated_at=row.dated_at,
                rank=float(row.rank),
                snippet=marked_snippet(snippets.get(row.id) or ""),
            )
            for row in rows
        ],
        older_unranked,
    )


def _newest(session: Session, matching: Select[int], query: SearchQuery, wanted: int) -> list[int]:
    """The ids of the ``wanted`` newest articles among ``matching``, newest first.

    Read slice by slice back in time (``_SLICES`` before the newest stored article), stopping
    once enough are found: sorting every match by date would fetch each one's row, hundreds of
    thousands for a common word, while a slice's matches are found by the text index and the
    date index together and lie on neighbouring pages."""
    newest_stored = session.scalar(
        select(func.max(Article.dated_at)).where(Article.state == ArticleState.DONE)
    )
    if newest_stored is None:
        return []
    anchor = min(newest_stored, query.until) if query.until else newest_stored
    bounds = [anchor - span for span in _SLICES if query.since is None or anchor - span > query.since]
    ids: list[int] = []
    upper: datetime | None = None  # the first slice has no upper bound beyond the query's own
    for lower in [*bounds, None]:
        piece = matching
        if upper is not None:
            piece = piece.where(Article.dated_at < upper)
        if lower is not None:
            piece = piece.where(Article.dated_at >= lower)
        newest_first = piece.order_by(Article.dated_at.desc(), Article.id.desc()).limit(wanted - len(ids))
        ids += session.scalars(newest_first)
        if len(ids) >= wanted or lower is None:
            break
        upper = lower
    return ids


def _filtered(matching: Select[int], query: SearchQuery) -> Select[int]:
    """The stored articles among ``matching`` that pass the query's filters."""
    matching = matching.where(Article.state == ArticleState.DONE)
    if query.since is not None:
        matching = matching.where(Article.dated_at >= query.since)
    if query.until is not None:
        matching = matching.where(Article.dated_at < query.until)
    if query.sources:
        matching = matching.where(Article.source.in_(query.sources))
    if query.entity_ids:
        matching = matching.where(
            exists().where(Mention.article_id == Article.id, Mention.entity_id.in_(query.entity_ids))
        )
    if query.claim_ids:
        matching = matching.where(
            exists().where(ClaimMatch.article_id == Article.id, ClaimMatch.claim_id.in_(query.claim_ids))
        )
    return matching


# id, url, title, source, dated_at, rank
_Ranked = Select[int, str, str | None, str | None, datetime | None, float]


def _columns(rank: ColumnElement[float]) -> _Ranked:
    return select(
        Article.id.label("id"),
        Article.url.label("url"),
        Article.title.label("title"),
        Article.source.label("source"),
        Article.dated_at.label("dated_at"),
        rank.label("rank"),
    )


# PostgreSQL: the generated tsvector column (not in the ORM model).
_TSV: ColumnClause[Any] = literal_column("article.search_tsv")
_ENGLISH: ColumnClause[str] = literal_column("'english'")


def _tsquery(parsed: ParsedQuery) -> ColumnElement[Any]:
    return func.websearch_to_tsquery(_ENGLISH, bindparam("search_text", parsed.websearch()))


def _postgres_matching(parsed: ParsedQuery) -> Select[int]:
    return select(Article.id).where(_TSV.bool_op("@@")(_tsquery(parsed)))


def _postgres_ranked(parsed: ParsedQuery) -> _Ranked:
    """Ranks of articles already known to match (the caller picks them by id)."""
    tsquery = _tsquery(parsed)
    in_title = func.ts_filter(_TSV, literal_column("'{a}'")).bool_op("@@")(tsquery)
    # Normalisation 32 maps the cover density r to r / (r + 1): the same order, below 1.
    tier = cast(case((in_title, TITLE_TIER), else_=0.0), Double)
    rank = tier + cast(func.ts_rank_cd(_TSV, tsquery, 32), Double)
    return _columns(rank)


def _postgres_snippets(session: Session, parsed: ParsedQuery, ids: list[int]) -> dict[int, str | None]:
    """``ts_headline`` parses all the text it is given (6 ms for a 20,000-character article), so
    it is given the first ``_SNIPPET_WINDOW`` characters, and the whole text only for the
    articles whose hits all lie further on."""

    def headlines(text: ColumnElement[Any], among: list[int]) -> dict[int, str | None]:
        headline = func.ts_headline(_ENGLISH, text, _tsquery(parsed), bindparam("options", _HEADLINE_OPTIONS))
        return dict(session.execute(select(Article.id, headline).where(Article.id.in_(among))).all())

    found = headlines(func.left(Article.text, _SNIPPET_WINDOW), ids)
    later = [i for i in ids if _START not in (found.get(i) or "")]
    if later:
        found |= headlines(Article.text.expression, later)
    return found


# SQLite: the FTS5 table over ``article`` (rowid = article.id).
_FTS = table("article_fts", column("rowid", Integer))
_FTS_TABLE: ColumnClause[Any] = literal_column("article_fts")


def _sqlite_matching(parsed: ParsedQuery) -> Select[int]:
    matches = _FTS_TABLE.op("MATCH", return_type=Boolean)(bindparam("fts_query", parsed.fts5()))
    return select(Article.id).join_from(Article, _FTS, _FTS.c.rowid == Article.id).where(matches)


def _sqlite_ranked(parsed: ParsedQuery) -> _Ranked:
    matches = _FTS_TABLE.op("MATCH", return_type=Boolean)(bindparam("fts_query", parsed.fts5()))
    titles = text("SELECT rowid FROM article_fts WHERE article_fts MATCH :fts_title").bindparams(
        fts_title=f"{{title}} : ({parsed.fts5()})"
    )
    in_title = Article.id.in_(titles.columns(column("rowid", Integer)))
    # bm25 is lower-is-better and negative; its negation x > 0 maps to x / (x + 1), below 1.
    score = -func.bm25(_FTS_TABLE, 10.0, 1.0)
    rank = case((in_title, TITLE_TIER), else_=0.0) + score / (score + 1.0)
    return _columns(rank).join_from(Article, _FTS, _FTS.c.rowid == Article.id).where(matches)


def _sqlite_snippets(session: Session, parsed: ParsedQuery, ids: list[int]) -> dict[int, str | None]:
    snippet = func.snippet(_FTS_TABLE, 1, _START, _STOP, "…", _SNIPPET_TOKENS)
    query = select(_FTS.c.rowid, snippet).where(
        _FTS_TABLE.op("MATCH", return_type=Boolean)(bindparam("fts_query", parsed.fts5())),
        _FTS.c.rowid.in_(ids),
    )
    return dict(session.execute(query).all())


def marked_snippet(raw: str) -> str:
    """The database's snippet HTML-escaped, its hits in ``<mark>…</mark>``, on one line."""
    escaped = html.escape(" ".join(raw.split()), quote=True)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return marked.replace(_START, "").replace(_STOP, "")
