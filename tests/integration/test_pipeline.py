"""The whole pipeline against a real HTTP server on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from ingest.http import Fetcher, FetchPolicy
from ingest.outcomes import PollOutcome
from ingest.politeness import RedisHostGate
from matching.kb import KnowledgeBase, load_kb
from matching.matcher import Matcher, MatchResult
from schema import queries, writes
from schema.models import (
    Article,
    ArticleState,
    ClaimMatch,
    Delivery,
    Feed,
    FetchLog,
    KbVersion,
    Mention,
    Page,
    TrendCount,
)
from services.articles import ArticleProcessor
from services.knowledge import sync_kb
from services.limits import WriteLimits
from services.polling import FeedPoller
from services.rematch import announce_worker_version, rematch, rematch_batch
from services.run_once import run_once
from services.status import store_status
from services.wiring import WritePath
from tests.support.corpus_site import PAGES_DIR, CorpusSite, FeedItem, Response, build_rss, load_manifest
from tests.support.redis_keys import REDIS_URL

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as running:
        yield running


@pytest.fixture
def make_pipeline() -> Iterator[Callable[..., WritePath]]:
    """Build pipelines for a test; their HTTP clients are closed afterwards."""
    fetchers: list[Fetcher] = []

    def build(sessions: sessionmaker[Session], kb: KnowledgeBase, *, allow_local: bool = True) -> WritePath:
        pipeline = _pipeline(sessions, kb, allow_local=allow_local)
        fetchers.append(pipeline.fetcher)
        return pipeline

    yield build
    for fetcher in fetchers:
        fetcher.close()


def _pipeline(sessions: sessionmaker[Session], kb: KnowledgeBase, *, allow_local: bool) -> WritePath:
    policy = FetchPolicy(
        user_agent="mediamon-test",
        allowed_private_hosts=frozenset({"127.0.0.1"}) if allow_local else frozenset(),
        retries=1,
        backoff=0.01,
        read_timeout=5,
        connect_timeout=2,
    )
    fetcher, limits = Fetcher(policy), WriteLimits(fetch_workers=4)
    return WritePath(
        fetcher,
        FeedPoller(sessions, fetcher, limits),
        ArticleProcessor(sessions, fetcher, Matcher(kb), limits),
    )


def add_feed(sessions: sessionmaker[Session], url: str) -> int:
    with sessions.begin() as session:
        session.add(Feed(url=url))
    with sessions() as session:
        return session.scalars(select(Feed.id).where(Feed.url == url)).one()


def accept(sessions: sessionmaker[Session], urls: list[str]) -> list[int]:
    """Pending articles for ``urls``, as a feed poll would leave them; returns their ids."""
    with sessions.begin() as session:
        feed = Feed(url="http://127.0.0.1/feeds/none.rss")
        session.add(feed)
        session.flush()
        return writes.add_pending_articles(session, feed.id, [{"canonical_url": u, "url": u} for u in urls])


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def seed_page(seed: Path) -> bytes:
    """An HTML article page around a seed document's text (the seed itself is not in the repo)."""
    paragraphs = [p.strip() for p in seed.read_text(encoding="utf-8").split("\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    return (
        f"<html lang='en'><head><title>{html.escape(paragraphs[0])}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{html.escape(paragraphs[0])}</h1>{body}</article>"
        f"<footer>Copyright the site</footer></body></html>"
    ).encode()


def test_run_once_stores_corpus_articles_and_a_second_run_adds_nothing(sessions, kb, site, make_pipeline):
    pipeline = make_pipeline(sessions, kb)
    feed_id = add_feed(sessions, site.url("/feeds/corpus.rss?n=12"))

    first = run_once(pipeline.poller, pipeline.articles, [feed_id])

    assert first.feeds_polled == 1
    assert first.feeds_failed == 0
    assert first.articles_new == 12
    assert first.articles_done + first.articles_failed + first.articles_duplicate == 12
    assert first.articles_done >= 9  # most corpus pages extract
    with sessions() as session:
        states = dict(session.execute(select(Article.state, func.count()).group_by(Article.state)).all())
        failed = session.scalars(select(Article).where(Article.state == ArticleState.FAILED)).all()
        done = session.scalars(select(Article).where(Article.state == ArticleState.DONE)).all()
    assert sum(states.values()) == 12
    assert all(a.error for a in failed), "every failed article says why"
    assert all(a.text and a.content_hash and a.relevance is not None for a in done)
    assert all(a.published is not None and a.published.tzinfo is not None for a in done)
    mentions, matches = count(sessions, Mention), count(sessions, ClaimMatch)

    second = run_once(pipeline.poller, pipeline.articles, [feed_id])

    assert second.articles_new == 0
    assert second.feeds_not_modified == 1  # 304 on the conditional GET
    assert count(sessions, Article) == 12
    assert (count(sessions, Mention), count(sessions, ClaimMatch)) == (mentions, matches)
    with sessions() as session:
        outcomes = session.scalars(select(FetchLog.outcome).order_by(FetchLog.id)).all()
    assert outcomes == [PollOutcome.OK, PollOutcome.NOT_MODIFIED]


def test_tracking_parameters_do_not_make_new_articles(sessions, kb, site, make_pipeline):
    pipeline = make_pipeline(sessions, kb)
    plain = add_feed(sessions, site.url("/feeds/corpus.rss?n=5"))
    tracked = add_feed(sessions, site.url("/feeds/corpus.atom?n=5&utm=1"))

    summary = run_once(pipeline.poller, pipeline.articles, [plain, tracked])

    assert summary.articles_new == 5
    with sessions() as session:
        urls = session.scalars(select(Article.canonical_url)).all()
    assert len(urls) == 5
    assert not any("utm_" in u for u in urls)


def test_same_story_under_two_urls_is_stored_once_and_linked_to_both(sessions, kb, site, make_pipeline):
    page = load_manifest()[0]["file"]
    site.set_static("/syndicated/copy.html", (PAGES_DIR / page).read_bytes())
    site.set_static(
        "/feeds/syndication.rss",
        build_rss(
            [
                FeedItem("original", site.url(f"/pages/{page}")),
                FeedItem("copy", site.url("/syndicated/copy.html")),
            ]
        ),
        content_type="application/rss+xml",
    )
    pipeline = make_pipeline(sessions, kb)

    summary = run_once(
        pipeline.poller, pipeline.articles, [add_feed(sessions, site.url("/feeds/syndication.rss"))]
    )

    assert (summary.articles_done, summary.articles_duplicate) == (1, 1)
    with sessions() as session:
        original = session.scalars(select(Article).where(Article.state == ArticleState.DONE)).one()
        copy = session.scalars(select(Article).where(Article.state == ArticleState.DUPLICATE)).one()
    assert copy.duplicate_of_id == original.id
    assert copy.text is None, "the text is stored once"
    assert {original.url, copy.url} == {site.url(f"/pages/{page}"), site.url("/syndicated/copy.html")}


def serve_seed_and_off_theme_feed(site: CorpusSite, kb: KnowledgeBase) -> str:
    """A feed of two articles: the 2023 seed (on the theme, rich in claims) at
    /news/pakistan-taliban.html and an off-theme corpus page; the name of the off-theme file."""
    seed = SEEDS_DIR / kb.sources["seed-2023"].file
    site.set_static("/news/pakistan-taliban.html", seed_page(seed))
    off_theme: str = load_manifest()[1]["file"]
    site.set_static(
        "/feeds/theme.rss",
        build_rss(
            [
                FeedItem("Pakistan and the Taliban", site.url("/news/pakistan-taliban.html")),
                FeedItem("something else", site.url(f"/pages/{off_theme}")),
            ]
        ),
        content_type="application/rss+xml",
    )
    return off_theme


def test_a_seed_article_is_matched_end_to_end_and_off_theme_pages_are_not_relevant(
    sessions, kb, site, make_pipeline
):
    off_theme = serve_seed_and_off_theme_feed(site, kb)
    pipeline = make_pipeline(sessions, kb)

    run_once(pipeline.poller, pipeline.articles, [add_feed(sessions, site.url("/feeds/theme.rss"))])

    with sessions() as session:
        on = session.scalars(select(Article).where(Article.url.endswith("pakistan-taliban.html"))).one()
        off = session.scalars(select(Article).where(Article.url.endswith(off_theme))).one()
        matched = set(session.scalars(select(ClaimMatch.claim_id).where(ClaimMatch.article_id == on.id)))
        entities = set(session.scalars(select(Mention.entity_id).where(Mention.article_id == on.id)))
    expected = {c.id for c in kb.claims_from("seed-2023")}
    assert len(matched & expected) >= 0.8 * len(expected)
    assert {"taliban", "ttp"} <= entities
    assert on.relevance is not None
    assert on.relevance > 0.6
    assert off.relevance is not None
    assert off.relevance < 0.3
    assert on.kb_version == kb.full_version


def test_broken_feeds_are_recorded_and_partial_ones_still_used(sessions, kb, site, make_pipeline):
    pipeline = make_pipeline(sessions, kb)
    not_a_feed = add_feed(sessions, site.url("/pages/" + load_manifest()[0]["file"]))
    # A real feedparser test feed that is ill-formed but still has an entry with a link.
    partial = add_feed(sessions, site.url("/feedparser/illformed/rss_item_link_corrupted_ampersands.xml"))
    missing = add_feed(sessions, site.url("/status/404"))

    summary = run_once(pipeline.poller, pipeline.articles, [not_a_feed, partial, missing])

    assert summary.feeds_failed == 2
    with sessions() as session:
        logs = {log.feed_id: log for log in session.scalars(select(FetchLog))}
        feeds = {f.id: f for f in session.scalars(select(Feed))}
    assert logs[not_a_feed].outcome == PollOutcome.HARD_FAILURE
    assert "not a feed" in (logs[not_a_feed].error or "")
    assert logs[missing].outcome == PollOutcome.SOFT_FAILURE
    assert logs[missing].http_status == 404
    assert feeds[missing].failure_score == 0.5
    assert feeds[missing].last_error == "HTTP 404"
    assert logs[partial].outcome == PollOutcome.OK
    assert logs[partial].entries_new == 1
    assert logs[partial].error, "the feed's problem is recorded"


def test_an_unchanged_body_is_not_parsed_again_even_without_a_304(sessions, kb, site, make_pipeline):
    site.set_static(
        "/feeds/no-validators.rss",
        build_rss([FeedItem("one", site.url("/pages/" + load_manifest()[0]["file"]))]),
        content_type="application/rss+xml",
    )
    pipeline = make_pipeline(sessions, kb)
    feed_id = add_feed(sessions, site.url("/feeds/no-validators.rss"))
    run_once(pipeline.poller, pipeline.articles, [feed_id])

    second = pipeline.poller.poll(feed_id)

    assert second.outcome == PollOutcome.UNCHANGED
    assert second.parse_ms == 0
    assert not second.new_article_ids


def test_failed_pages_are_kept_with_a_reason_and_transient_ones_retried(sessions, kb, site, make_pipeline):
    site.set_static("/short.html", b"<html><body><p>Too short to be an article.</p></body></html>")
    site.set_static("/doc.pdf", b"%PDF-1.4 not html", content_type="application/pdf")
    site.add_route("/always-503", lambda _request: Response(503, b"busy"))
    site.set_static(
        "/feeds/bad-pages.rss",
        build_rss(
            [
                FeedItem("gone", site.url("/status/410")),
                FeedItem("short", site.url("/short.html")),
                FeedItem("pdf", site.url("/doc.pdf")),
                FeedItem("down", site.url("/always-503")),
                FeedItem("big", site.url("/oversize?mb=8")),
            ]
        ),
        content_type="application/rss+xml",
    )
    pipeline = make_pipeline(sessions, kb)
    feed_id = add_feed(sessions, site.url("/feeds/bad-pages.rss"))

    first = run_once(pipeline.poller, pipeline.articles, [feed_id])

    assert (first.articles_failed, first.articles_retry) == (4, 1)
    with sessions() as session:
        errors = {a.url.rsplit("/", 1)[-1]: (a.state, a.error) for a in session.scalars(select(Article))}
    assert errors["410"] == (ArticleState.FAILED, "HTTP 410")
    assert "too short" in (errors["short.html"][1] or "")
    assert "not an HTML page" in (errors["doc.pdf"][1] or "")
    assert "larger than" in (errors["oversize?mb=8"][1] or "")
    assert errors["always-503"][0] == ArticleState.PENDING
    assert "will retry" in (errors["always-503"][1] or "")

    run_once(pipeline.poller, pipeline.articles, [feed_id])
    third = run_once(pipeline.poller, pipeline.articles, [feed_id])

    assert third.articles_failed == 1, "after three attempts the transient failure is final"
    with sessions() as session:
        down = session.scalars(select(Article).where(Article.url.endswith("always-503"))).one()
    assert down.state == ArticleState.FAILED
    assert down.attempts == 3


def test_private_addresses_are_refused_by_default(sessions, kb, site, make_pipeline):
    pipeline = make_pipeline(sessions, kb, allow_local=False)
    feed_id = add_feed(sessions, site.url("/feeds/corpus.rss?n=3"))

    summary = run_once(pipeline.poller, pipeline.articles, [feed_id])

    assert summary.feeds_failed == 1
    assert summary.articles_new == 0
    assert "non-public address" in summary.feed_errors[0][1]
    assert site.total_hits() == 0, "nothing was sent to the private address"


def test_processing_an_article_twice_leaves_one_set_of_matches(sessions, kb, site, make_pipeline):
    seed = SEEDS_DIR / kb.sources["seed-2021"].file
    site.set_static("/news/seed-2021.html", seed_page(seed))
    pipeline = make_pipeline(sessions, kb)
    sync_kb(sessions, kb)
    (article_id,) = accept(sessions, [site.url("/news/seed-2021.html")])

    first = pipeline.articles.process(article_id)
    again = pipeline.articles.process(article_id)

    assert first.outcome == "done"
    assert first.claim_matches > 0
    assert again.outcome == "skipped"
    assert count(sessions, ClaimMatch) == first.claim_matches
    assert count(sessions, Mention) == first.mentions


def test_staged_processing_hands_the_page_over_through_the_database(sessions, kb, site, make_pipeline):
    seed = SEEDS_DIR / kb.sources["seed-2023"].file
    site.set_static("/news/staged.html", seed_page(seed))
    pipeline = make_pipeline(sessions, kb)
    sync_kb(sessions, kb)
    staged_id, gone_id = accept(sessions, [site.url("/news/staged.html"), site.url("/status/410")])

    staged = pipeline.articles.stage(staged_id)
    gone = pipeline.articles.stage(gone_id)

    assert staged.outcome == "fetched"
    assert gone.outcome == "failed", "a failed download is recorded at once, nothing is staged"
    with sessions() as session:
        page = session.get(Page, staged_id)
        assert page is not None and page.content == seed_page(seed)
        assert session.get(Page, gone_id) is None
        assert session.get_one(Article, staged_id).state == ArticleState.FETCHED

    done = pipeline.articles.extract(staged_id)

    assert done.outcome == "done" and done.claim_matches > 0
    assert pipeline.articles.extract(staged_id).outcome == "skipped"
    assert pipeline.articles.stage(staged_id).outcome == "skipped"
    with sessions() as session:
        assert session.get(Page, staged_id) is None, "the staged page is consumed"
        assert session.get_one(Article, staged_id).state == ArticleState.DONE


def test_http_caching_headers_and_the_feed_ttl_set_a_floor_on_the_poll_interval(
    sessions, kb, site, make_pipeline
):
    page = site.url("/pages/" + load_manifest()[0]["file"])
    site.set_static(
        "/feeds/cached.rss",
        build_rss([FeedItem("one", page)]),
        content_type="application/rss+xml",
        headers={"Cache-Control": "public, max-age=7200"},
    )
    site.set_static(
        "/feeds/ttl.rss", build_rss([FeedItem("one", page)], ttl=180), content_type="application/rss+xml"
    )
    pipeline = make_pipeline(sessions, kb)
    cached, ttl = (
        add_feed(sessions, site.url("/feeds/cached.rss")),
        add_feed(sessions, site.url("/feeds/ttl.rss")),
    )

    pipeline.poller.poll(cached)
    pipeline.poller.poll(ttl)

    with sessions() as session:
        assert session.get_one(Feed, cached).poll_interval_s == 7200
        assert session.get_one(Feed, ttl).poll_interval_s == 180 * 60


def test_a_poll_that_cannot_get_a_host_slot_is_logged_as_a_soft_failure(sessions, kb, site):
    """A politeness slot that stays taken (another worker holds the host) ends the poll as an
    outcome with a fetch-log row, not as an exception that leaves no trace."""
    site.set_static("/feeds/busy.rss", build_rss([]), content_type="application/rss+xml")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    prefix = f"mediamon-test:{uuid.uuid4().hex}:host:"
    gate = RedisHostGate(client, max_concurrent=1, min_delay_s=0, wait_timeout_s=0.3, prefix=prefix)
    policy = FetchPolicy(
        user_agent="mediamon-test", allowed_private_hosts=frozenset({"127.0.0.1"}), retries=0
    )
    feed_id = add_feed(sessions, site.url("/feeds/busy.rss"))
    try:
        with Fetcher(policy, host_gate=gate) as fetcher, gate.slot("127.0.0.1"):  # held by "another worker"
            report = FeedPoller(sessions, fetcher).poll(feed_id)
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()

    assert report.outcome == PollOutcome.SOFT_FAILURE
    assert "127.0.0.1" in (report.error or "")
    with sessions() as session:
        log = session.scalars(select(FetchLog).where(FetchLog.feed_id == feed_id)).one()
        feed = session.get_one(Feed, feed_id)
    assert log.outcome == PollOutcome.SOFT_FAILURE
    assert log.error == report.error
    assert feed.failure_score == 0.5, "a busy host is a soft failure: half weight"


def _trend_counters(sessions) -> list[tuple[str, str, str, object, str, int]]:
    with sessions() as session:
        rows = session.scalars(select(TrendCount)).all()
        return sorted((r.kind, r.key, r.stance, r.day, r.source, r.n) for r in rows if r.n)


def test_stale_articles_are_matched_again_and_only_they(sessions, kb, site, make_pipeline):
    serve_seed_and_off_theme_feed(site, kb)
    pipeline = make_pipeline(sessions, kb)
    run_once(pipeline.poller, pipeline.articles, [add_feed(sessions, site.url("/feeds/theme.rss"))])
    matcher = pipeline.articles.matcher
    stored_counters = _trend_counters(sessions)

    # as if an older matcher had stored the seed article: no claims, another version
    with sessions.begin() as session:
        article = session.scalars(select(Article).where(Article.url.endswith("pakistan-taliban.html"))).one()
        expected = {c.claim_id for c in matcher.match(article.text or "").claims}
        writes.replace_matches(session, article, MatchResult([], [], 0.0))
        article.kb_version = "0+old"
        article_id, processed_at = article.id, article.processed_at
    assert expected and _trend_counters(sessions) != stored_counters

    report = rematch(sessions, matcher)

    assert (report.articles, report.claims_before, report.claims_after) == (1, 0, len(expected))
    with sessions() as session:
        article = session.get(Article, article_id)
        assert article is not None and article.state == ArticleState.DONE
        assert article.kb_version == kb.full_version and article.processed_at == processed_at
        assert article.relevance is not None and article.relevance > 0.6
        claims = set(session.scalars(select(ClaimMatch.claim_id).where(ClaimMatch.article_id == article_id)))
        assert claims == expected
        assert session.scalars(select(Delivery)).all() == []  # nothing is sent for it
    assert _trend_counters(sessions) == stored_counters  # the trend counters are what storing gave
    assert rematch(sessions, matcher).articles == 0  # nothing left to do

    everything = rematch(sessions, matcher, everything=True, batch=1)
    assert everything.articles == 2 and everything.claims_before == everything.claims_after
    assert _trend_counters(sessions) == stored_counters


def _make_stale(sessions: sessionmaker[Session]) -> list[int]:
    """As if an older matcher had stored every stored article: no matches, another version."""
    with sessions.begin() as session:
        articles = session.scalars(select(Article).where(Article.state == ArticleState.DONE)).all()
        for article in articles:
            writes.replace_matches(session, article, MatchResult([], [], 0.0))
            article.kb_version = "0+old"
        return sorted(a.id for a in articles)


def _versions(sessions: sessionmaker[Session]) -> dict[int, str | None]:
    with sessions() as session:
        rows = session.execute(select(Article.id, Article.kb_version)).all()
    return {row.id: row.kb_version for row in rows}


def test_a_worker_rematches_a_batch_unless_a_newer_knowledge_base_is_in_use(
    sessions, kb, site, make_pipeline
):
    serve_seed_and_off_theme_feed(site, kb)
    pipeline = make_pipeline(sessions, kb)
    run_once(pipeline.poller, pipeline.articles, [add_feed(sessions, site.url("/feeds/theme.rss"))])
    matcher = pipeline.articles.matcher
    stored_counters = _trend_counters(sessions)
    stale = _make_stale(sessions)
    assert len(stale) == 2
    announce_worker_version(sessions, matcher)  # what a worker does when it starts
    # a worker of a newer knowledge base has started since (a rollout under way)
    with sessions.begin() as session:
        session.add(KbVersion(version="9+newer", first_seen_at=datetime.now(UTC) + timedelta(minutes=1)))

    assert rematch_batch(sessions, matcher) is None, "an older worker leaves the store to the newer"
    assert set(_versions(sessions).values()) == {"0+old"}
    assert store_status(sessions, datetime.now(UTC))["articles awaiting rematch"] == 2

    with sessions.begin() as session:
        session.execute(delete(KbVersion).where(KbVersion.version == "9+newer"))
    first = rematch_batch(sessions, matcher, batch=1)
    assert first is not None and first.articles == 1  # a full batch: the task enqueues the next
    rest = rematch_batch(sessions, matcher, batch=1)
    assert rest is not None and rest.articles == 1
    assert set(_versions(sessions).values()) == {kb.full_version}
    assert _trend_counters(sessions) == stored_counters
    assert store_status(sessions, datetime.now(UTC))["articles awaiting rematch"] == 0
    last = rematch_batch(sessions, matcher, batch=1)
    assert last is not None and last.articles == 0


def test_workers_rematching_at_once_take_disjoint_batches(pg_sessions, kb, site, make_pipeline):
    serve_seed_and_off_theme_feed(site, kb)
    pipeline = make_pipeline(pg_sessions, kb)
    run_once(pipeline.poller, pipeline.articles, [add_feed(pg_sessions, site.url("/feeds/theme.rss"))])
    first_id, second_id = _make_stale(pg_sessions)

    # another worker's batch, still in its transaction, holds the first article
    with pg_sessions.begin() as other:
        held = queries.articles_to_rematch(other, kb.full_version, 0, 1, lock=True)
        assert [a.id for a in held] == [first_id]
        report = rematch_batch(pg_sessions, pipeline.articles.matcher)
        assert report is not None and report.articles == 1, "the held article is skipped, not waited for"
        assert _versions(pg_sessions) == {first_id: "0+old", second_id: kb.full_version}
        # the ingest path is not held up meanwhile: a duplicate of the held article is stored
        with pg_sessions.begin() as ingest:
            ingest.add(
                Article(
                    canonical_url="https://example.org/copy",
                    url="https://example.org/copy",
                    state=ArticleState.DUPLICATE,
                    duplicate_of_id=first_id,
                )
            )
    report = rematch_batch(pg_sessions, pipeline.articles.matcher)
    assert report is not None and report.articles == 1
    assert {_versions(pg_sessions)[i] for i in (first_id, second_id)} == {kb.full_version}


class _FailsOn(Matcher):
    """A matcher that cannot take one text (as a new matcher might meet a hostile page)."""

    def __init__(self, kb: KnowledgeBase, text: str) -> None:
        super().__init__(kb)
        self._text = text

    def match(self, text: str) -> MatchResult:
        if text == self._text:
            raise ValueError("a text this matcher cannot take")
        return super().match(text)


def test_an_article_the_matcher_fails_on_keeps_its_matches_and_does_not_hold_up_the_rest(
    sessions, kb, site, make_pipeline
):
    serve_seed_and_off_theme_feed(site, kb)
    pipeline = make_pipeline(sessions, kb)
    run_once(pipeline.poller, pipeline.articles, [add_feed(sessions, site.url("/feeds/theme.rss"))])
    with sessions.begin() as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        for article in articles:
            article.kb_version = "0+old"
        hostile = next(a for a in articles if a.claim_matches)
        hostile_id, text, kept = hostile.id, hostile.text or "", len(hostile.claim_matches)

    report = rematch_batch(sessions, _FailsOn(kb, text), batch=2)

    assert report is not None and report.articles == 2 and report.failed == [hostile_id]
    with sessions() as session:
        claims = session.scalars(select(ClaimMatch).where(ClaimMatch.article_id == hostile_id)).all()
    assert len(claims) == kept, "its stored matches are kept"
    assert set(_versions(sessions).values()) == {kb.full_version}, "and it is not taken again"
    again = rematch_batch(sessions, _FailsOn(kb, text), batch=2)
    assert again is not None and again.articles == 0  # so a full batch never loops on it
