"""A one-shot run's article failures by reason, and every failure since, read back from the store.

Real pipeline (the fetcher against a corpus site on 127.0.0.1, the lexical matcher), on SQLite
and on PostgreSQL. The failure texts are the fetcher's and the cleaner's own; the tests assert
how they are grouped, not how they are worded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import KnowledgeBase, load_kb
from schema.models import Article, ArticleState
from services.failures import failures_by_reason, reason_key
from services.limits import utc_now
from services.run_once import run_failures
from tests.support.corpus_site import PAGES_DIR, CorpusSite, Response, load_manifest
from tests.support.nesting import nest_body
from tests.support.one_shot import RunFeed, one_shot_runs

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as running:
        for name in ("a", "b", "c"):
            # Declared too big: the fetcher refuses the body from its Content-Length.
            running.set_static(f"/big/{name}", b"<html><body>" + b"x" * (3 * MIB) + b"</body></html>")
        running.add_route("/gone", lambda _request: Response(410, b"gone"))
        running.add_route("/missing", lambda _request: Response(404, b"missing"))
        yield running


@pytest.fixture
def run_feeds(sessions: sessionmaker[Session], kb: KnowledgeBase, site: CorpusSite) -> Iterator[RunFeed]:
    with one_shot_runs(sessions, kb, site) as run:
        yield run


def _errors(sessions: sessionmaker[Session], paths: list[str]) -> set[str]:
    with sessions() as session:
        rows = session.scalars(select(Article).where(Article.url.in_(paths)))
        return {row.error or "" for row in rows}


def test_a_run_reports_its_own_failures_and_the_store_all_of_them_grouped(sessions, site, run_feeds):
    good = site.url(f"/pages/{load_manifest()[0]['file']}")
    first_links = [good, site.url("/big/a"), site.url("/big/b"), site.url("/gone"), site.url("/missing")]
    first_started = utc_now()
    first_feed, _ = run_feeds(first_links, max_page_bytes=1 * MIB)
    first = run_failures(sessions, [first_feed], first_started)

    by_example = {example: group for group in first for example in group.examples}
    big = by_example[site.url("/big/a")]
    assert by_example[site.url("/big/b")] is big, "the same limit, one row"
    assert (big.failed, big.retrying) == (2, 0)
    assert by_example[site.url("/gone")].failed == 1
    missing = by_example[site.url("/missing")]
    assert (missing.failed, missing.retrying) == (0, 1), "a soft failure waits for another try"
    assert "attempt" not in missing.reason
    assert len({big.reason, by_example[site.url("/gone")].reason, missing.reason}) == 3
    assert good not in by_example
    assert sum(group.count for group in first) == 4

    # A second run, with another page limit: its failure text differs in the number only.
    second_started = utc_now()
    second_feed, _ = run_feeds([site.url("/big/c")], max_page_bytes=2 * MIB)
    second = run_failures(sessions, [second_feed], second_started)

    assert [(g.failed, g.retrying, g.examples) for g in second] == [(1, 0, [site.url("/big/c")])]
    assert second[0].reason == _errors(sessions, [site.url("/big/c")]).pop(), "one text: shown whole"

    # Every failure in the store: the three oversize pages on one row, under the shared key.
    texts = _errors(sessions, [site.url(f"/big/{name}") for name in "abc"])
    assert len(texts) == 2, "the two limits are written in the texts"
    (key,) = {reason_key(text) for text in texts}
    everything = failures_by_reason(sessions)
    (oversize,) = [group for group in everything if group.reason == key]
    assert oversize.failed == 3
    assert len(oversize.examples) == 2, "one or two examples, not every URL"
    assert set(oversize.examples) <= {site.url(f"/big/{name}") for name in "abc"}
    assert {g.reason for g in failures_by_reason(sessions, include_retrying=False)} == {
        oversize.reason,
        by_example[site.url("/gone")].reason,
    }


def test_a_page_nested_too_deep_is_a_failure_that_says_so(sessions, site, run_feeds):
    page = load_manifest()[0]["file"]
    site.set_static("/nested", nest_body((PAGES_DIR / page).read_bytes(), 300))
    started = utc_now()
    feed, summary = run_feeds([site.url("/nested"), site.url(f"/pages/{page}")])

    (group,) = run_failures(sessions, [feed], started)

    assert group.reason == "page nested deeper than libxml2's limit of 256 levels; text lost"
    assert (group.failed, group.examples) == (1, [site.url("/nested")])
    assert (summary.articles_failed, summary.articles_done) == (1, 1)
    with sessions() as session:
        states = dict(session.execute(select(Article.url, Article.state)).all())
    assert states == {site.url("/nested"): ArticleState.FAILED, site.url(f"/pages/{page}"): ArticleState.DONE}


@pytest.mark.parametrize(
    "texts",
    [
        ["body larger than 1048576 bytes", "body larger than 5242880 bytes"],
        ["main text too short (45 < 200 characters)", "main text too short (3 < 200 characters)"],
        [
            "cannot resolve feeds.invalid: [Errno -2] Name or service not known",
            "cannot resolve news.example.com: [Errno -2] Name or service not known",
        ],
        [
            "no politeness slot for host 'a.example' within 30 s (max 2 concurrent, 1 s between)",
            "no politeness slot for host 'b.example.org' within 60 s (max 4 concurrent, 0.5 s between)",
        ],
        [
            "x.test resolves to non-public address 127.0.0.1; add it to MEDIAMON_ALLOWED_PRIVATE_HOSTS",
            "y.test resolves to non-public address ::1; add it to MEDIAMON_ALLOWED_PRIVATE_HOSTS",
        ],
        ["HTTP 503", "HTTP 503 (attempt 1 of 3, will retry)", "HTTP 503 (attempt 2 of 3, will retry)"],
        ["extractor crashed: ValueError: at 0x7fd8f3bd7e30", "extractor crashed: ValueError: at 0x7f00aa"],
    ],
    ids=["sizes", "lengths", "hosts", "quoted hosts and waits", "addresses", "attempts", "object ids"],
)
def test_texts_that_differ_only_in_what_varies_share_a_reason(texts):
    assert len({reason_key(text) for text in texts}) == 1


def test_what_tells_problems_apart_is_kept():
    kept = [
        "HTTP 404",
        "HTTP 410",
        "HTTP 429",
        "ConnectError: [Errno 111] Connection refused",
        "ConnectError: [Errno 113] No route to host",
        "not an HTML page (application/pdf)",
        "not an HTML page (image/png)",
        "page nested deeper than libxml2's limit of 256 levels; text lost",
        "no main text found",
    ]
    keys = [reason_key(text) for text in kept]
    assert len(set(keys)) == len(kept)
    assert keys[:5] == kept[:5], "status codes and errno numbers stay"
    assert "libxml2" in keys[7]
