"""Full-text search over stored articles, on SQLite (FTS5) and PostgreSQL (tsvector).

Real corpus articles are stored through the write path; what each search should find is
computed here from the articles' own text, never written down by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from matching.kb import KnowledgeBase
from schema import writes
from schema.models import Article, ArticleState
from schema.queries.search import (
    MAX_TERMS,
    SearchError,
    SearchHit,
    SearchQuery,
    Term,
    marked_snippet,
    parse_query,
    search_articles,
)
from services.search import search
from tests.support.news import NewsArticle, news
from tests.support.stored import shipped_kb, store_matched

CLAIM = "fatf-kept-pakistan-grey-list"


def has(word: str, text: str) -> bool:
    """``word`` as a whole word, any case."""
    return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None


def has_stem(stem: str, text: str) -> bool:
    """A word starting with ``stem`` (what a stemmed search may also match)."""
    return re.search(rf"\b{re.escape(stem)}\w*", text, re.IGNORECASE) is not None


def whole(article: NewsArticle) -> str:
    return f"{article.title}\n{article.text}"


@cache
def sample() -> tuple[NewsArticle, ...]:
    """Every other corpus article about polio, a few on cricket and a spread of others."""
    polio = [a for a in news() if has("polio", whole(a))]
    other = [a for a in news() if not has_stem("polio", whole(a))]
    cricket = [a for a in other if has("cricket", a.title)][:4]
    chosen = polio[::2] + cricket + [a for a in other[::300] if a not in cricket]
    return tuple({a.url: a for a in chosen}.values())


@cache
def kb() -> KnowledgeBase:
    """The shipped knowledge base (read once), which holds the entities and claim used here."""
    shipped = shipped_kb()
    assert CLAIM in {c.id for c in shipped.claims}
    assert {"taliban", "ttp"} <= {e.id for e in shipped.entities}
    return shipped


@dataclass(frozen=True)
class Stored:
    article: NewsArticle
    entities: tuple[str, ...]
    claims: tuple[str, ...]


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> dict[int, Stored]:
    """The sample stored with matches chosen by position; and one polio article never
    processed (it must never be found)."""
    rows: dict[int, Stored] = {}
    with sessions.begin() as session:
        writes.sync_kb(session, kb())
        for index, article in enumerate(sample()):
            entities = (("taliban",), ("ttp",), ())[index % 3]
            claims = (CLAIM,) if index % 4 == 0 else ()
            row = store_matched(session, article, entities=entities, claims=[(c, "asserts") for c in claims])
            rows[row.id] = Stored(article, entities, claims)
        unprocessed = next(a for a in news() if has("polio", a.title) and a not in sample())
        session.add(
            Article(
                canonical_url=unprocessed.url,
                url=unprocessed.url,
                title=unprocessed.title,
                text=unprocessed.text,
                state=ArticleState.FAILED,
                dated_at=unprocessed.published,
            )
        )
    return rows


def find(sessions: sessionmaker[Session], text: str, **filters: object) -> list[SearchHit]:
    with sessions() as session:
        return search_articles(session, SearchQuery(text, limit=200, **filters)).hits  # type: ignore[arg-type]


def ids(hits: list[SearchHit]) -> set[int]:
    return {hit.article_id for hit in hits}


def holding(stored: dict[int, Stored], word: str) -> set[int]:
    return {i for i, s in stored.items() if has(word, whole(s.article))}


def test_a_word_finds_exactly_the_stored_articles_that_hold_it(sessions, stored):
    expected = holding(stored, "polio")
    assert 10 < len(expected) < len(stored)

    assert ids(find(sessions, "polio")) == expected
    assert ids(find(sessions, "POLIO")) == expected, "case does not matter"
    both = expected & holding(stored, "Sindh")
    assert 0 < len(both) < len(expected)
    assert ids(find(sessions, "polio Sindh")) == both, "every word is wanted"


def test_only_the_newest_matches_are_ranked_and_the_result_says_older_ones_exist(sessions, stored):
    expected = holding(stored, "polio")
    newest = sorted(expected, key=lambda i: (stored[i].article.published, i), reverse=True)[:3]
    with sessions() as session:
        capped = search_articles(session, SearchQuery("polio", limit=200), pool=3)
        roomy = search_articles(session, SearchQuery("polio", limit=200), pool=len(expected))
    assert len(expected) > 3
    assert ids(capped.hits) == set(newest) and capped.older_unranked
    assert ids(roomy.hits) == expected and not roomy.older_unranked


def test_title_matches_rank_above_text_only_matches(sessions, stored):
    hits = find(sessions, "polio")
    in_title = [has("polio", stored[h.article_id].article.title) for h in hits]
    assert any(in_title) and not all(in_title)

    assert in_title == sorted(in_title, reverse=True), "every title match comes before every text match"
    ranks = [h.rank for h in hits]
    assert ranks == sorted(ranks, reverse=True)
    # Some text-only matches say "polio" more often than some title matches: the title still wins.
    mentions = {
        h.article_id: len(re.findall(r"\bpolio\b", stored[h.article_id].article.text, re.I)) for h in hits
    }
    assert max(mentions[h.article_id] for h, t in zip(hits, in_title, strict=True) if not t) > min(
        mentions[h.article_id] for h, t in zip(hits, in_title, strict=True) if t
    )


def test_a_quoted_phrase_wants_its_words_side_by_side(sessions, stored):
    words = ids(find(sessions, "polio cases"))
    phrase = ids(find(sessions, '"polio cases"'))
    texts = {i: whole(s.article) for i, s in stored.items()}

    assert {i for i in words if re.search(r"\bpolio cases\b", texts[i], re.I)} <= phrase
    assert all(re.search(r"\bpolio\W+case\w*", texts[i], re.I) for i in phrase)
    assert phrase and phrase < words, "some articles hold both words apart"


def test_a_minus_excludes_and_or_offers_alternatives(sessions, stored):
    polio = ids(find(sessions, "polio"))
    without = ids(find(sessions, "polio -vaccination"))
    texts = {i: whole(s.article) for i, s in stored.items()}

    assert without < polio
    assert not any(has("vaccination", texts[i]) for i in without)
    assert {i for i in polio if not has_stem("vaccin", texts[i])} <= without
    assert ids(find(sessions, 'polio -"polio vaccination"')) >= without
    cricket = ids(find(sessions, "cricket"))
    assert cricket and not cricket & polio
    assert ids(find(sessions, "polio OR cricket")) == polio | cricket
    assert ids(find(sessions, "polio or cricket")) == polio | cricket, "or is read in any case"


def test_filters_narrow_the_hits(sessions, stored):
    hits = find(sessions, "polio")
    polio = ids(hits)
    dates = sorted(h.dated_at for h in hits if h.dated_at)
    since, until = dates[len(dates) // 3], dates[2 * len(dates) // 3]

    dated = ids(find(sessions, "polio", since=since, until=until))
    assert dated == {h.article_id for h in hits if h.dated_at and since <= h.dated_at < until}
    assert 0 < len(dated) < len(polio)
    assert ids(find(sessions, "polio", since=dates[-1] + timedelta(seconds=1))) == set()

    app = ids(find(sessions, "polio", sources=("app.com.pk",)))
    assert app == {h.article_id for h in hits if h.source == "app.com.pk"}
    assert 0 < len(app) < len(polio)
    assert ids(find(sessions, "polio", sources=("app.com.pk", "dawn.com"))) == polio

    taliban = {i for i in polio if "taliban" in stored[i].entities}
    ttp = {i for i in polio if "ttp" in stored[i].entities}
    assert ids(find(sessions, "polio", entity_ids=("taliban",))) == taliban
    assert ids(find(sessions, "polio", entity_ids=("taliban", "ttp"))) == taliban | ttp, "any of them"
    assert taliban and ttp and taliban | ttp < polio

    claimed = {i for i in polio if CLAIM in stored[i].claims}
    assert ids(find(sessions, "polio", claim_ids=(CLAIM,))) == claimed
    assert 0 < len(claimed) < len(polio)
    assert ids(find(sessions, "polio", claim_ids=(CLAIM,), entity_ids=("taliban",))) == claimed & taliban


def test_cursor_pages_return_every_hit_once_in_order(sessions, stored):
    everything = find(sessions, "polio")
    pages: list[list[SearchHit]] = []
    after = None
    with sessions() as session:
        while page := search_articles(session, SearchQuery("polio", limit=4, after=after)).hits:
            pages.append(page)
            after = page[-1].cursor
    assert [h.article_id for p in pages for h in p] == [h.article_id for h in everything]
    assert len(pages) == math.ceil(len(everything) / 4)

    # The service's pages say whether another follows: never a cursor to an empty page.
    seen: list[int] = []
    query = SearchQuery("polio", limit=5)
    while True:
        result = search(sessions, query)
        seen += [h.article_id for h in result.hits]
        if result.next is None:
            break
        query = replace(query, after=result.next)
    assert seen == [h.article_id for h in everything]
    assert result.hits, "the last page is not empty"


def test_pages_split_hits_of_equal_rank_without_losing_or_repeating_one(sessions):
    article = next(a for a in news() if has("polio", a.title))
    with sessions.begin() as session:
        copies = [
            store_matched(session, replace(article, url=f"{article.url}?copy={n}")).id for n in range(3)
        ]
    found: list[SearchHit] = []
    after = None
    with sessions() as session:
        while page := search_articles(session, SearchQuery("polio", limit=1, after=after)).hits:
            found += page
            after = page[-1].cursor
    assert [h.article_id for h in found] == copies
    assert len({h.rank for h in found}) == 1, "syndicated copies rank the same"


def test_snippets_mark_the_hits_and_escape_the_rest(sessions, stored):
    hits = find(sessions, "polio")
    for hit in hits:
        body = stored[hit.article_id].article.text
        if not has("polio", body):
            continue
        marked = re.findall(r"<mark>(.*?)</mark>", hit.snippet)
        assert marked, hit.snippet
        assert all(m.casefold().startswith("polio") for m in marked)
        assert not re.search(r"[<>]", re.sub(r"</?mark>", "", hit.snippet))

    # The corpus holds no markup, so one real article gets some in front of its text.
    article = next(a for a in news() if has("polio", a.text) and a not in sample())
    hostile = "Officials said <script>alert('polio')</script> polio & 1 < 2 > 0. "
    with sessions.begin() as session:
        row = store_matched(session, replace(article, title="Health", text=hostile + article.text))
    (hit,) = [h for h in find(sessions, "polio") if h.article_id == row.id]
    assert "<mark>" in hit.snippet
    unmarked = re.sub(r"</?mark>", "", hit.snippet)
    assert "<" not in unmarked and ">" not in unmarked
    assert not re.search(r"&(?!amp;|lt;|gt;|quot;|#x27;)", unmarked), "every & is escaped"
    assert "&amp;" in unmarked


def test_a_snippet_marks_a_hit_that_lies_far_into_a_long_article(sessions):
    """PostgreSQL looks for the snippet in the lead first; a hit beyond it is still shown."""
    article = next(a for a in news() if len(a.text) > 9000)
    late = "Officials said polio " + "teams " * 20
    with sessions.begin() as session:
        writes.sync_kb(session, kb())
        row = store_matched(session, replace(article, title="Report", text=article.text + " " + late))
    assert not has("polio", article.text) and not has("polio", article.title)
    (hit,) = [h for h in find(sessions, "polio") if h.article_id == row.id]
    assert re.findall(r"<mark>(.*?)</mark>", hit.snippet) == ["polio"]


def test_marked_snippet_escapes_text_and_keeps_only_paired_markers():
    raw = "a < b \ue000hit\ue001 & 'c' \ue000stray"
    assert marked_snippet(raw) == "a &lt; b <mark>hit</mark> &amp; &#x27;c&#x27; stray"


HOSTILE = [
    '"',
    '"unbalanced',
    "AND OR NOT",
    "polio AND OR NOT",
    "*",
    "polio*",
    "NEAR(",
    "polio NEAR(polio",
    "'; drop table article; --",
    "title:polio",
    "{title}: polio",
    "^polio",
    "-",
    "--polio",
    "OR OR",
    '"" OR ""',
    "(((",
    "\\",
    "x" * 5000,
    "polio " * 1000,
    "polio OR " * 700,
    "پولیو",
    "Pölïo 🦠 ポリオ",
    "\x00polio\x00",
    "\ud800polio",
    "\ue000polio\ue001",
]


def test_hostile_input_never_raises(sessions, stored):
    for hostile in HOSTILE:
        hits = find(sessions, hostile)
        assert all(isinstance(h, SearchHit) for h in hits), hostile
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == len(stored) + 1


def test_long_input_is_cut_to_its_first_terms_and_still_searches(sessions, stored):
    assert ids(find(sessions, "polio " * 1000)) == holding(stored, "polio")
    assert len(parse_query("polio " * 1000).alternatives[0]) == MAX_TERMS


def test_queries_with_nothing_to_find_find_nothing(sessions, stored):
    for text in ("", "   ", "-polio", "OR", "*", '""', "-polio OR -cricket"):
        assert find(sessions, text) == [], text


def test_the_search_box_is_read_like_websearch():
    parsed = parse_query('polio "Sindh  province" OR -vaccination karachi OR -"only excluded"')

    assert parsed.alternatives == (
        (Term("polio"), Term("Sindh province")),
        (Term("vaccination", excluded=True), Term("karachi")),
    )
    assert parsed.fts5() == '(("polio" AND "Sindh province")) OR (("karachi") NOT "vaccination")'
    assert parsed.websearch() == '"polio" "Sindh province" or -"vaccination" "karachi"'


def test_bad_limits_and_cursors_are_refused_with_a_reason():
    with pytest.raises(SearchError, match="between 1 and 200"):
        SearchQuery("polio", limit=0)
    with pytest.raises(SearchError, match="between 1 and 200"):
        SearchQuery("polio", limit=201)
    for cursor in ("nonsense", "", "W10", "WyJ4IiwgMV0"):
        with pytest.raises(SearchError, match="not a search cursor"):
            SearchQuery("polio", after=cursor)
