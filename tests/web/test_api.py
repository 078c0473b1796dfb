"""The read API (web/api.py) on real stores (SQLite and PostgreSQL) of real articles.

Every expected count is computed here from the stored articles' own dates and plans
(tests/web/corpus.py), never from the code under test; every JSON document is compared with
what the CLI's ``--format json`` writes for the same question (the same service call).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from schema.db import make_engine, make_session_factory
from schema.queries.search import SearchQuery
from services import export, reports
from services.search import search as search_pages
from services.spikes import SpikeQuery
from services.spikes import spikes as find_spikes
from tests.support.net import free_port
from tests.web.corpus import (
    BURST,
    BURST_ENTITY,
    BURST_WORD,
    CLAIM,
    NOW,
    OTHER_CLAIM,
    THRESHOLD,
    Planned,
    fill,
    fill_kb,
)
from tests.web.test_api_schemathesis import GET_OPERATIONS
from web import pagination
from web.app import create_app

TOKEN = "api-test-token"


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> list[Planned]:
    return fill(sessions)


@pytest.fixture
def client(sessions: sessionmaker[Session], stored: list[Planned]) -> Iterator[TestClient]:
    app = create_app(sessions, "web-test-secret", clock=lambda: NOW, on_theme_threshold=THRESHOLD)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def kb_client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app over a store that knows the knowledge base but holds no article."""
    fill_kb(sessions)
    with TestClient(create_app(sessions, None, clock=lambda: NOW)) as test_client:
        yield test_client


def _all_pages(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged listing, following ``next`` until it is null."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= int(params.get("limit", 50))
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


def test_articles_page_through_every_stored_article_exactly_once(client, stored):
    items = _all_pages(client, "/api/articles", limit=7)
    assert [i["id"] for i in items] == [
        p.id for p in sorted(stored, key=lambda p: (p.article.published, p.id), reverse=True)
    ], "newest first, each article once"
    assert len(items) == len(stored) == 20 * 3 - 4 + BURST
    first = next(i for i in items if i["id"] == stored[0].id)
    assert first["url"] == stored[0].article.url and first["title"] == stored[0].article.title
    assert first["outlet"] == stored[0].host
    assert "text" not in first, "lists leave the text out"


def test_article_filters_and_detail(client, stored):
    with_ttp = _all_pages(client, "/api/articles", entity="ttp", limit=5)
    assert {i["id"] for i in with_ttp} == {p.id for p in stored if "ttp" in p.entities}
    denied = _all_pages(client, "/api/articles", claim=CLAIM, stance="denies", limit=200)
    assert {i["id"] for i in denied} == {p.id for p in stored if (CLAIM, "denies") in p.claims}
    app_may = _all_pages(
        client, "/api/articles", source="www.APP.com.pk", since="2025-05-03", until="2025-05-06"
    )
    assert {i["id"] for i in app_may} == {
        p.id for p in stored if p.host == "app.com.pk" and date(2025, 5, 3) <= p.day <= date(2025, 5, 6)
    }
    assert len(app_may) == 2, "APP has nothing on 3 and 4 May"

    planned = next(p for p in stored if len(p.claims) == 2)
    detail = client.get(f"/api/articles/{planned.id}").json()
    assert detail["text"] == planned.article.text
    assert {c["id"]: c["stance"] for c in detail["claims"]} == dict(planned.claims)
    assert {e["id"] for e in detail["entities"]} == set(planned.entities)
    assert client.get("/api/articles/999999").status_code == 404


def test_article_fields_are_the_export_fields(client, sessions, stored):
    """`mediamon export --format jsonl` and /api/articles/{id} write the same fields alike."""
    kb = load_kb(DEFAULT_KB_PATH)
    with sessions() as session:
        exported = list(export.article_records(session, kb))
    by_url = {p.article.url: p.id for p in stored}
    for record in exported[:10]:
        detail = client.get(f"/api/articles/{by_url[record['url']]}").json()
        assert set(record) <= set(detail)
        for key in set(record) - {"claims"}:
            assert detail[key] == record[key], key
        assert sorted(detail["claims"], key=lambda c: c["id"]) == sorted(
            record["claims"], key=lambda c: c["id"]
        )
    listed = client.get("/api/articles", params={"limit": 1}).json()["items"][0]
    assert set(listed) == set(detail) - {"text"}


def test_matches_page_through_every_claim_match_once(client, stored):
    items = _all_pages(client, "/api/matches", limit=4)
    expected = Counter((p.id, claim, stance) for p in stored for claim, stance in p.claims)
    assert Counter((i["article_id"], i["id"], i["stance"]) for i in items) == expected
    assert sum(expected.values()) == len(items)
    only_other = _all_pages(client, "/api/matches", claim=OTHER_CLAIM)
    assert {i["id"] for i in only_other} == {OTHER_CLAIM}
    assert {"id", "statement", "score", "method", "stance", "evidence"} <= set(items[0])
    assert set(items[0]["evidence"]) == {"text", "start", "end"}


def test_knowledge_base_listings_are_complete(kb_client):
    kb = load_kb(DEFAULT_KB_PATH)
    entities = _all_pages(kb_client, "/api/entities", limit=10)
    assert [e["id"] for e in entities] == sorted(e.id for e in kb.entities)
    claims = _all_pages(kb_client, "/api/claims", limit=15)
    assert [c["id"] for c in claims] == sorted(c.id for c in kb.claims)
    ttp = next(e for e in entities if e["id"] == "ttp")
    assert ttp["name"] == kb.entity("ttp").name and ttp["aliases"] == list(kb.entity("ttp").aliases)


def test_trend_counts_per_bucket(client, sessions, stored):
    response = client.get(
        "/api/trends", params={"since": "2025-05-01", "until": "2025-05-10", "entity": "ttp", "claim": CLAIM}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["by"] == "day" and body["since"] == "2025-05-01T00:00:00+00:00"
    assert body["until"] == "2025-05-11T00:00:00+00:00"
    counts = {(r["bucket"][:10], r["series"]): r["count"] for r in body["records"]}
    in_period = [p for p in stored if date(2025, 5, 1) <= p.day <= date(2025, 5, 10)]
    per_day = Counter(p.day.isoformat() for p in in_period)
    assert {d: n for (d, s), n in counts.items() if s == "articles" and n} == per_day
    assert per_day["2025-05-08"] == 3 + BURST, "the burst day"
    ttp = Counter(p.day.isoformat() for p in in_period if "ttp" in p.entities)
    assert {d: n for (d, s), n in counts.items() if s == "entity:ttp" and n} == ttp
    asserts = Counter(p.day.isoformat() for p in in_period if (CLAIM, "asserts") in p.claims)
    assert {d: n for (d, s), n in counts.items() if s == "claims:asserts" and n} == asserts
    on_theme = Counter(p.day.isoformat() for p in in_period if p.relevance >= THRESHOLD)
    assert {d: n for (d, s), n in counts.items() if s == "on_theme" and n} == on_theme

    # The records are `mediamon report trends --format json`, field for field.
    query = reports.TrendQuery(
        since=datetime(2025, 5, 1, tzinfo=UTC),
        until=datetime(2025, 5, 11, tzinfo=UTC),
        entity_ids=("ttp",),
        claim_ids=(CLAIM,),
    )
    assert body["records"] == reports.trends(sessions, query, on_theme_threshold=THRESHOLD).as_records()


def test_trends_by_week_normalized_and_in_another_zone(client, stored):
    weekly = client.get("/api/trends", params={"by": "week", "since": "2025-04-21", "until": "2025-05-04"})
    articles = [r for r in weekly.json()["records"] if r["series"] == "articles"]
    assert [(r["bucket"][:10], r["count"]) for r in articles] == [
        ("2025-04-21", sum(1 for p in stored if date(2025, 4, 21) <= p.day <= date(2025, 4, 27))),
        ("2025-04-28", sum(1 for p in stored if date(2025, 4, 28) <= p.day <= date(2025, 5, 4))),
    ]
    assert all("ratio" not in r for r in weekly.json()["records"]), "ratio only with normalize"
    shares = client.get(
        "/api/trends", params={"since": "2025-05-09", "until": "2025-05-09", "normalize": "true"}
    )
    (theme,) = [r for r in shares.json()["records"] if r["series"] == "on_theme"]
    burst_day = [p for p in stored if p.day == date(2025, 5, 9)]
    assert theme["total"] == len(burst_day)
    assert theme["ratio"] == pytest.approx(sum(p.relevance >= THRESHOLD for p in burst_day) / len(burst_day))
    karachi = client.get("/api/trends", params={"by": "hour", "since": "48h", "tz": "Asia/Karachi"})
    assert karachi.status_code == 200 and karachi.json()["records"][0]["bucket"].endswith("+05:00")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"entity": "no-such-entity"}, "unknown entity id(s): no-such-entity"),
        ({"claim": "no-such-claim"}, "unknown claim id(s): no-such-claim"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"since": "2025-05-10", "until": "2025-05-01"}, "the period is empty"),
        ({"since": "5000d", "by": "hour"}, "too many"),
        ({"since": "0999-01-01"}, "between 1900 and 2200"),
        ({"since": "99999999999999d"}, "out of range"),
    ],
)
def test_unanswerable_trend_questions_are_422_with_the_reason(kb_client, params, says):
    response = kb_client.get("/api/trends", params=params)
    assert response.status_code == 422
    assert says in response.json()["detail"]


def test_bad_parameters_and_cursors_are_422(kb_client):
    article_cursor = pagination.encode((NOW, 12))
    for path, params in [
        ("/api/trends", {"by": "year"}),
        ("/api/trends", {"stance": "doubts"}),
        ("/api/trends", {"entity": "Not An Id"}),
        ("/api/articles", {"limit": 201}),
        ("/api/articles", {"limit": 0}),
        ("/api/articles", {"cursor": "not-a-cursor"}),
        ("/api/articles", {"cursor": pagination.encode("ttp")}),
        ("/api/entities", {"cursor": article_cursor}),
        ("/api/feeds", {"cursor": pagination.encode(2**40)}),
        ("/api/articles/0", {}),
        ("/api/search", {"q": ""}),
        ("/api/search", {"q": "-only -excluded"}),
        ("/api/search", {"q": "taliban", "cursor": "bm90IGEgY3Vyc29y"}),
    ]:
        response = kb_client.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["detail"]
    assert kb_client.get("/api/articles", params={"cursor": article_cursor}).json() == {
        "items": [],
        "next": None,
    }


def test_top_lists_and_claim_history_are_the_cli_documents(client, sessions, stored):
    top = client.get(
        "/api/top", params={"since": "2025-04-21", "until": "2025-05-10", "entity": "ttp"}
    ).json()
    assert top["total"] == len(stored)
    assert {s["key"]: s["count"] for s in top["sources"]} == Counter(p.host for p in stored)
    assert top["claims"][0]["key"] == CLAIM
    assert top["claims"][0]["detail"] == dict(Counter(s for p in stored for c, s in p.claims if c == CLAIM))
    assert (
        top
        == reports.top(
            sessions,
            reports.TopQuery(
                since=datetime(2025, 4, 21, tzinfo=UTC),
                until=datetime(2025, 5, 11, tzinfo=UTC),
                entity_id="ttp",
            ),
        ).to_json()
    )

    history = client.get(f"/api/claims/{CLAIM}/history").json()
    on_claim = [p for p in stored if any(c == CLAIM for c, _ in p.claims)]
    assert history["articles"] == len(on_claim)
    assert history["first_seen"]["url"] == on_claim[0].article.url
    assert {o["source"]: o["articles"] for o in history["outlets"]} == Counter(p.host for p in on_claim)
    newest = sorted(on_claim, key=lambda p: (p.article.published, p.id), reverse=True)
    assert [e["article_id"] for e in history["latest_events"]] == [p.id for p in newest][:100]
    assert history == reports.claim_history(sessions, CLAIM, now=NOW).to_json()
    assert client.get("/api/claims/no-such-claim/history").status_code == 404


def test_spikes_find_the_burst_and_explain_it(client, sessions, stored):
    response = client.get("/api/spikes", params={"since": "2025-05-01", "until": "2025-05-10"})
    assert response.status_code == 200, response.text
    body = response.json()
    burst = [p for p in stored if BURST_ENTITY in p.entities]
    india = next(s for s in body["spikes"] if s["key"] == BURST_ENTITY)
    assert india["kind"] == "entity" and india["label"] == "India"
    assert india["bucket"] == "2025-05-08T00:00:00+00:00" and india["observed"] == len(burst) == BURST
    assert india["p_value"] < body["p_threshold"]
    explained = india["explanation"]
    assert {c["key"]: c["count"] for c in explained["sources"]} == Counter(p.host for p in burst)
    assert {s["url"] for s in explained["stories"]} <= {p.article.url for p in burst}
    assert {s["key"] for s in body["spikes"]} <= {BURST_ENTITY, "pakistan-army"}, "steady keys never spike"
    # `mediamon report spikes --format json` is the same document.
    query = SpikeQuery(
        since=datetime(2025, 5, 1, tzinfo=UTC), until=datetime(2025, 5, 11, tzinfo=UTC), explain=10, now=NOW
    )
    assert body == find_spikes(sessions, query).to_json()
    only_claims = client.get("/api/spikes", params={"kind": "claim", "since": "2025-05-01"}).json()
    assert only_claims["spikes"] == []
    assert client.get("/api/spikes", params={"since": "2y"}).status_code == 422


def test_search_returns_the_cli_page_and_pages_on(client, sessions, stored):
    response = client.get("/api/search", params={"q": BURST_WORD, "limit": 2})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page == search_pages(sessions, SearchQuery(text=BURST_WORD, limit=2)).to_json()
    titled = {p.id for p in stored if BURST_WORD in p.article.title.lower()}
    assert len(titled) >= BURST
    hits = page["hits"]
    cursor = page["next"]
    while cursor:
        more = client.get("/api/search", params={"q": BURST_WORD, "limit": 2, "cursor": cursor}).json()
        hits += more["hits"]
        cursor = more["next"]
    ids = [h["article_id"] for h in hits]
    assert len(ids) == len(set(ids)), "no hit twice across pages"
    assert set(ids[: len(titled)]) == titled, "title matches rank first"
    assert all("<mark>" in h["snippet"].lower() for h in hits if h["snippet"])
    from_app = {h["article_id"] for h in hits if h["source"] == "app.com.pk"}
    assert from_app, "APP reported the drones too"
    only_app = client.get("/api/search", params={"q": BURST_WORD, "source": "app.com.pk"}).json()["hits"]
    assert {h["article_id"] for h in only_app} == from_app


def test_health_reports_the_store(client, stored):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "reachable"
    assert body["counts"]["articles done"] == len(stored)


def test_openapi_schema_is_served_and_docs_fetch_nothing(kb_client):
    schema = kb_client.get("/openapi.json").json()
    for path in GET_OPERATIONS:  # the same list the schemathesis test fuzzes
        assert path in schema["paths"], path
    trend_params = {p["name"] for p in schema["paths"]["/api/trends"]["get"]["parameters"]}
    assert {"by", "since", "until", "entity", "claim", "stance", "source", "normalize"} <= trend_params
    assert "/unsubscribe/{token}" not in schema["paths"], "the unsubscribe pages are no API"
    docs = kb_client.get("/docs")
    assert docs.status_code == 200 and "/api/trends" in docs.text
    assert "cdn" not in docs.text.lower() and "<script" not in docs.text


# --- writes ----------------------------------------------------------------------------------


def _app(sessions: sessionmaker[Session], **options: object) -> TestClient:
    return TestClient(create_app(sessions, None, clock=lambda: NOW, **options))  # type: ignore[arg-type]


FEED = {"url": "https://www.dawn.com/feeds/home", "title": "Dawn home"}


def test_writes_are_refused_without_a_configured_token(sessions):
    client = _app(sessions)
    response = client.post("/api/feeds", json=FEED, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert response.json()["detail"] == "writes are disabled: set MEDIAMON_API_TOKEN"
    assert client.delete("/api/feeds/1").status_code == 403
    assert client.get("/api/feeds").json()["items"] == []


def test_writes_need_the_right_bearer_token(sessions):
    client = _app(sessions, api_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.post("/api/feeds", json=FEED, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
    right = {"Authorization": f"Bearer {TOKEN}"}
    added = client.post("/api/feeds", json=FEED, headers=right)
    assert added.status_code == 201, added.text
    assert added.json()["url"] == FEED["url"] and added.json()["state"] == "active"
    assert client.post("/api/feeds", json=FEED, headers=right).status_code == 200, "already known"
    listed = client.get("/api/feeds").json()["items"]
    assert [f["url"] for f in listed] == [FEED["url"]]
    feed_id = added.json()["id"]
    assert client.delete(f"/api/feeds/{feed_id}").status_code == 401
    assert client.delete(f"/api/feeds/{feed_id}", headers=right).status_code == 204
    assert client.delete(f"/api/feeds/{feed_id}", headers=right).status_code == 404
    assert client.get("/api/feeds").json()["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://www.dawn.com/feed",
        "http://127.0.0.1/feed",
        "http://[::1]/feed",
        "http://10.0.0.8/rss",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8080/rss",
        "https://user:pass@www.dawn.com/feeds/home",
        "https://www.dawn.com/feeds home",
    ],
)
def test_feed_urls_that_are_not_public_http_are_refused(sessions, url):
    client = _app(sessions, api_token=TOKEN)
    response = client.post("/api/feeds", json={"url": url}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422, response.text
    assert client.get("/api/feeds").json()["items"] == []


def test_allowed_private_hosts_may_be_added(sessions):
    client = _app(sessions, api_token=TOKEN, allowed_private_hosts=frozenset({"127.0.0.1"}))
    response = client.post(
        "/api/feeds", json={"url": "http://127.0.0.1:8080/rss"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 201


# --- CORS ------------------------------------------------------------------------------------

ORIGIN = "https://analysts.example.org"


def test_no_cors_headers_by_default(sessions):
    client = _app(sessions)
    response = client.get("/api/claims", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/api/claims", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_headers_for_configured_origins_only(sessions):
    client = _app(sessions, cors_origins=[ORIGIN])
    allowed = client.get("/api/claims", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    preflight = client.options(
        "/api/feeds",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ORIGIN
    other = client.get("/api/claims", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_health_says_503_when_the_database_does_not_answer():
    port = free_port()  # nothing listens there
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/absent?connect_timeout=2")
    try:
        client = TestClient(create_app(make_session_factory(engine), None, clock=lambda: NOW))
        response = client.get("/health")
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"].startswith("unreachable")
