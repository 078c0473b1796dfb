"""Fixtures for the service tests: real `mediamon worker`/`mediamon beat` processes on the
machine's Redis and PostgreSQL (see test_service.py and test_service_faults.py).

Another test run may use the same servers at the same time: each test process has a Redis
database of its own (``tests.support.redis_keys``, chosen by a lock), each test's service keeps
its keys there under a prefix of the test's own (``MEDIAMON_BROKER_KEY_PREFIX``), and the
PostgreSQL database is one per run and xdist worker (``tests.support.databases``). Articles are
leased for 6 s with a heartbeat every 0.5 s (``services.leases``), so a dead worker's article
comes back within the test's patience and a heartbeat late by seconds on a loaded machine still
keeps a live one's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.support.databases import truncate_all
from tests.support.redis_keys import REDIS_URL, redis_namespace

Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def broker_namespace(worker_id: str) -> Iterator[tuple[redis.Redis, str]]:
    """A client of the machine's shared Redis and a key prefix of this test alone; the keys
    under it are deleted afterwards (nothing else: the database is not ours to flush)."""
    with redis_namespace(worker_id) as namespace:
        yield namespace


@pytest.fixture
def broker_url(broker_namespace: tuple[redis.Redis, str]) -> str:
    return REDIS_URL


@pytest.fixture
def broker_key_prefix(broker_namespace: tuple[redis.Redis, str]) -> str:
    return broker_namespace[1]


@pytest.fixture
def service_env(pg_url: str, broker_url: str, broker_key_prefix: str, tmp_path: Path) -> dict[str, str]:
    truncate_all(pg_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    env.update(
        MEDIAMON_DATABASE_URL=pg_url,
        MEDIAMON_BROKER_URL=broker_url,
        MEDIAMON_BROKER_KEY_PREFIX=broker_key_prefix,
        MEDIAMON_ALLOWED_PRIVATE_HOSTS="127.0.0.1",
        MEDIAMON_DISPATCH_INTERVAL_S="1",
        MEDIAMON_SWEEP_INTERVAL_S="2",
        MEDIAMON_SWEEP_AFTER_S="3",
        MEDIAMON_REMATCH_INTERVAL_S="1",
        MEDIAMON_ARTICLE_LEASE_S="6",
        MEDIAMON_ARTICLE_HEARTBEAT_S="0.5",
        MEDIAMON_HTTP_RETRIES="0",
        MEDIAMON_HOST_MIN_DELAY_S="0.05",
    )
    return env


@pytest.fixture
def spawn(tmp_path: Path, broker_namespace: tuple[redis.Redis, str]) -> Iterator[Spawn]:
    """Start `mediamon ...` processes; all are stopped (TERM, then KILL) at the end, before
    their broker keys are deleted."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str, log: str) -> subprocess.Popen[bytes]:
        handle = (tmp_path / log).open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "mediamon.cli", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        processes.append(process)
        return process

    yield start
    for process in processes:
        stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal a process's whole group (they run in sessions of their own) and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, logs: Path) -> None:
    """Poll ``condition`` until it holds; on timeout fail with the tail of every log in ``logs``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{log_tails(logs)}")


def log_tails(logs: Path, chars: int = 3000) -> str:
    files = sorted(logs.glob("*.log"))
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in files)
