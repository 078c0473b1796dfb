"""Redis for tests: a database of this test process alone on the machine's shared server, and
keys under a prefix of the test's own.

Two test runs on one machine (a developer's and CI's, or two helpers') share the one Redis on
127.0.0.1:6379. Each test process takes a database of its own there: it holds an exclusive lock
(``flock``) on a file named after the database for as long as it lives, the kernel drops the
lock when the process ends however it ends, and the next process takes the first database whose
lock is free (:func:`claim_database`). Databases 0 (everyone's default) and 8
(``bench.service``) are never taken. Within that database each test still names its keys under
a prefix unique to the run, the process and the test (as ``tests.support.databases`` names
PostgreSQL databases) and deletes only those when done: no test flushes a database, which a
program outside this protocol could be using. The service under test takes the same prefix
through ``MEDIAMON_BROKER_KEY_PREFIX`` and the database through ``MEDIAMON_BROKER_URL``.

``MEDIAMON_TEST_REDIS_URL`` overrides the choice (one database, no lock): for a Redis elsewhere.
A process that took a database sets it for the processes it starts, so a test's helper processes
use the test's database.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

REDIS_SERVER = "redis://127.0.0.1:6379"
#: Databases a test process may take: not 0 (everyone's default) nor 8 (bench.service).
TEST_DATABASES = (*range(1, 8), *range(9, 16))
LOCK_DIR = Path(tempfile.gettempdir()) / "mediamon-test-redis"
#: How long a process waits for a free database before it fails (every one held by other runs).
CLAIM_WAIT_S = 600.0

_held: dict[int, int] = {}  # the lock files (descriptors) of the databases this process holds, kept open


def claim_database(candidates: tuple[int, ...] = TEST_DATABASES, wait_s: float = CLAIM_WAIT_S) -> int:
    """The first database of ``candidates`` whose lock this process holds or can take now (it
    then keeps it until it exits); waits while every one is held by another process."""
    for number in candidates:
        if number in _held:
            return number
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        for number in candidates:
            handle = os.open(LOCK_DIR / f"db{number}.lock", os.O_CREAT | os.O_WRONLY, 0o666)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            _held[number] = handle
            return number
        if time.monotonic() > deadline:
            raise RuntimeError(f"every Redis test database {candidates} is held by another test process")
        time.sleep(1)


def _test_redis_url() -> str:
    configured = os.environ.get("MEDIAMON_TEST_REDIS_URL")
    if configured:
        return configured
    url = f"{REDIS_SERVER}/{claim_database()}"
    # Processes this one starts (a test's helpers) use its database rather than take their own.
    os.environ["MEDIAMON_TEST_REDIS_URL"] = url
    return url


#: This process's database (claimed when the module is first imported, unless it was given).
REDIS_URL = _test_redis_url()
#: Whether this process holds its database's lock (False: the database was given, or inherited).
CLAIMED = bool(_held)


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
