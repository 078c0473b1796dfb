"""Shared fixtures. Servers used by tests are real ones on 127.0.0.1, never mocks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.http import Fetcher, FetchPolicy
from tests.support.corpus_site import CorpusSite

# Database fixtures (SQLite and the real PostgreSQL, migrated by Alembic).
pytest_plugins = ["tests.support.databases"]


# --- corpus web site and HTTP client (tests/support/corpus_site.py) -------------------------


@pytest.fixture(scope="session")
def corpus_site() -> Iterator[CorpusSite]:
    """The corpus served over real HTTP on 127.0.0.1 (one per xdist worker)."""
    with CorpusSite() as site:
        yield site


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A Fetcher allowed to reach 127.0.0.1, with short timeouts and a 2 MiB limit."""
    policy = FetchPolicy(
        user_agent="mediamon-test",
        allowed_private_hosts=frozenset({"127.0.0.1"}),
        retries=2,
        backoff=0.01,
        read_timeout=2,
        connect_timeout=2,
        max_bytes=2 * 1024 * 1024,
    )
    with Fetcher(policy) as client:
        yield client
