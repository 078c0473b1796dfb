"""Export with and without the failed articles, on SQLite and PostgreSQL, after a real run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import KnowledgeBase, load_kb
from services.export import CSV_FIELDS, STATE_FIELDS, article_records, csv_fields, flatten
from services.limits import utc_now
from tests.support.corpus_site import CorpusSite, Response, load_manifest
from tests.support.one_shot import one_shot_runs


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture
def stored(sessions: sessionmaker[Session], kb: KnowledgeBase) -> Iterator[CorpusSite]:
    """Two corpus articles stored, one gone (failed), one soft 404 (pending, to retry)."""
    with CorpusSite() as site:
        site.add_route("/gone", lambda _request: Response(410, b"gone"))
        site.add_route("/missing", lambda _request: Response(404, b"missing"))
        with one_shot_runs(sessions, kb, site) as run:
            pages = [site.url(f"/pages/{page['file']}") for page in load_manifest()[:2]]
            _, summary = run([*pages, site.url("/gone"), site.url("/missing")])
        assert (summary.articles_done, summary.articles_failed, summary.articles_retry) == (2, 1, 1)
        yield site


def _export(sessions: sessionmaker[Session], kb: KnowledgeBase, **options: Any) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(article_records(session, kb, **options))


def test_the_default_export_has_only_stored_articles_and_no_state_fields(sessions, kb, stored):
    records = _export(sessions, kb)

    assert len(records) == 2
    assert all(set(record).isdisjoint(STATE_FIELDS) for record in records)
    assert stored.url("/gone") not in {record["url"] for record in records}
    assert csv_fields() == CSV_FIELDS


def test_include_failed_adds_the_failed_articles_with_state_reason_and_attempts(sessions, kb, stored):
    records = _export(sessions, kb, include_failed=True)

    by_url = {record["url"]: record for record in records}
    assert len(records) == 3, "the pending 404 may still succeed: not exported"
    gone = by_url[stored.url("/gone")]
    assert (gone["state"], gone["reason"], gone["attempts"]) == ("failed", "HTTP 410", 1)
    assert gone["title"] == "item 2" and gone["text"] is None
    assert gone["entities"] == [] and gone["claims"] == [] and gone["also_at"] == []
    done = [record for record in records if record["state"] == "done"]
    assert len(done) == 2
    assert all(record["reason"] is None and record["text"] for record in done)

    row = flatten(gone)
    assert list(row) == csv_fields(include_failed=True) == CSV_FIELDS + STATE_FIELDS
    assert (row["state"], row["reason"]) == ("failed", "HTTP 410")


def test_since_applies_to_failed_articles_too(sessions, kb, stored):
    tomorrow = utc_now() + timedelta(days=1)
    assert _export(sessions, kb, include_failed=True, since=tomorrow) == []
    yesterday = utc_now() - timedelta(days=1)
    failed = [
        r for r in _export(sessions, kb, include_failed=True, since=yesterday) if r["state"] == "failed"
    ]
    assert [r["url"] for r in failed] == [stored.url("/gone")], "no date from the feed: first seen counts"
