"""Redis for tests: the machine's shared server, with keys under a prefix of the test's own.

Two test runs on one machine (a developer's and CI's) share the one Redis on 127.0.0.1:6379.
No test owns a database there, so none may FLUSHDB: each names its keys under a prefix unique
to the run, the xdist worker and the test (as ``tests.support.databases`` names PostgreSQL
databases), and deletes only the keys under that prefix when done. The service under test
takes the same prefix through ``MEDIAMON_BROKER_KEY_PREFIX``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

REDIS_URL = os.environ.get("MEDIAMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix(worker: str) -> str:
    """``mediamon-test:<run>:<worker>:<test>:`` -- never the same for two tests, runs or workers."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    return f"mediamon-test:{run}:{worker}:{uuid.uuid4().hex[:8]}:"


def prefixed_keys(client: redis.Redis, prefix: str) -> list[str]:
    """Every key under ``prefix`` (SCAN, so a large shared database is never blocked)."""
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"
    return sorted(_text(key) for key in client.scan_iter(match=pattern, count=1000))


def delete_prefixed(client: redis.Redis, prefix: str) -> int:
    """Delete the keys under ``prefix``, and nothing else on the shared server."""
    keys = prefixed_keys(client, prefix)
    deleted = 0
    for start in range(0, len(keys), 500):
        deleted += int(client.delete(*keys[start : start + 500]))
    return deleted


@contextmanager
def redis_namespace(worker: str, url: str = REDIS_URL) -> Iterator[tuple[redis.Redis, str]]:
    """A client of the shared Redis and a fresh key prefix; the prefix's keys are deleted on exit."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    prefix = unique_prefix(worker)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        client.close()
        pytest.fail(f"Redis at {url} is required for this test: {exc}")
    try:
        yield client, prefix
    finally:
        delete_prefixed(client, prefix)
        client.close()


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key
