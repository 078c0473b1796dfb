"""`mediamon search` end to end on SQLite: real corpus articles stored, the command run in-process."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from schema import writes
from schema.db import make_engine, make_session_factory
from schema.queries.search import SearchQuery, search_articles
from tests.support.cli import local_site_env, mediamon
from tests.support.news import NewsArticle, news
from tests.support.stored import shipped_kb, store_matched


def about_polio(article: NewsArticle) -> bool:
    return re.search(r"\bpolio\b", f"{article.title}\n{article.text}", re.IGNORECASE) is not None


def about_polio_text(article: NewsArticle) -> bool:
    return re.search(r"\bpolio\b", article.text, re.IGNORECASE) is not None


@cache
def chosen() -> tuple[list[NewsArticle], list[NewsArticle]]:
    polio = [a for a in news() if about_polio(a)][:6]
    others = [a for a in news()[:600:100] if not about_polio(a)]
    return polio, others


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return local_site_env(tmp_path / "cli.db")


@pytest.fixture
def stored(env: dict[str, str]) -> dict[str, NewsArticle]:
    """Six articles about polio (every other one mentioning the Taliban) and six others, in a
    database migrated by `mediamon db upgrade`; by URL."""
    upgraded = mediamon(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    polio, others = chosen()
    engine = make_engine(env["MEDIAMON_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        writes.sync_kb(session, shipped_kb())
        for index, article in enumerate(polio + others):
            store_matched(session, article, entities=("taliban",) if index % 2 == 0 else ())
    engine.dispose()
    return {a.url: a for a in polio + others}


def test_table_lists_every_hit_with_its_url(env, stored):
    result = mediamon(env, "search", "polio")

    assert result.returncode == 0, result.stderr
    polio = [url for url, a in stored.items() if about_polio(a)]
    for url in polio:
        assert url in result.stdout
    assert not any(url in result.stdout for url in stored if url not in polio)
    assert "next page" not in result.stdout


def test_json_has_the_fields_of_a_hit_and_pages_with_after(env, stored):
    result = mediamon(env, "search", "polio", "--format", "json")

    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    engine = make_engine(env["MEDIAMON_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        (first, *_) = search_articles(session, SearchQuery("polio")).hits
    engine.dispose()
    assert set(page) == {"hits", "next", "ranked_newest"}
    assert page["next"] is None and page["ranked_newest"] is None, "every match was ranked"
    assert all(set(hit) == set(first.to_json()) for hit in page["hits"])
    assert page["hits"][0] == first.to_json()
    assert {hit["url"] for hit in page["hits"]} == {url for url, a in stored.items() if about_polio(a)}
    assert all("<mark>" in hit["snippet"] for hit in page["hits"] if about_polio_text(stored[hit["url"]]))

    urls: list[str] = []
    args = ["search", "polio", "--format", "json", "--limit", "4"]
    while True:
        chunk = json.loads(mediamon(env, *args).stdout)
        urls += [hit["url"] for hit in chunk["hits"]]
        if chunk["next"] is None:
            break
        args = ["search", "polio", "--format", "json", "--limit", "4", "--after", chunk["next"]]
    assert urls == [hit["url"] for hit in page["hits"]]


def test_filters_by_entity_name_source_and_period(env, stored):
    everything = json.loads(mediamon(env, "search", "polio", "--format", "json").stdout)["hits"]

    by_name = json.loads(mediamon(env, "search", "polio", "--entity", "Taliban", "--format", "json").stdout)
    by_id = json.loads(mediamon(env, "search", "polio", "--entity", "taliban", "--format", "json").stdout)
    assert by_name == by_id
    assert 0 < len(by_name["hits"]) < len(everything)

    sources = {hit["source"] for hit in everything}
    source = sorted(sources)[0]
    by_source = json.loads(
        mediamon(env, "search", "polio", "--source", f"www.{source}", "--format", "json").stdout
    )
    assert {hit["url"] for hit in by_source["hits"]} == {
        h["url"] for h in everything if h["source"] == source
    }

    days = sorted(hit["dated_at"][:10] for hit in everything)
    since, until = days[1], days[-2]
    dated = json.loads(
        mediamon(env, "search", "polio", "--since", since, "--until", until, "--format", "json").stdout
    )
    assert {h["url"] for h in dated["hits"]} == {
        h["url"] for h in everything if since <= h["dated_at"][:10] <= until
    }


def test_no_match_says_so(env, stored):
    result = mediamon(env, "search", "zebra crossing quokka")

    assert result.returncode == 0
    assert "No stored article matches 'zebra crossing quokka'" in result.stdout


# Each bad input and the one-line error it gets (None: answered without error).
BAD_INPUT: list[tuple[list[str], str | None]] = [
    (["--", "-polio"], "nothing to search for"),
    (["* ?"], "nothing to search for"),
    (["AND OR"], None),
    (['"unbalanced polio'], None),
    (["NEAR( *"], None),
    (["polio", "--entity", "nobody-at-all"], "no entity called 'nobody-at-all'"),
    (["polio", "--claim", "no-such-claim"], "no claim 'no-such-claim'"),
    (["polio", "--since", "last tuesday"], "neither a span"),
    (["polio", "--since", "2025-05-02", "--until", "2025-05-01"], "the period is empty"),
    (["polio", "--after", "garbage"], "not a search cursor"),
    (["polio", "--format", "xml"], "--format must be table or json"),
]


def test_bad_input_gives_one_line_or_a_graceful_answer(env, stored):
    for args, message in BAD_INPUT:
        result = mediamon(env, "search", *args)

        assert "Traceback" not in result.stderr + result.stdout, args
        if message is None:
            assert result.returncode == 0, (args, result.stderr)
        else:
            assert result.returncode == 2, args
            assert message in result.stderr, args
            assert len(result.stderr.strip().splitlines()) == 1, args
