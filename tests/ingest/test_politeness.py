"""RedisHostGate against the real Redis on 127.0.0.1:6379 (threads, spawned processes, a real
HTTP server). Each test uses its own key prefix and deletes its keys afterwards."""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ingest.http import Fetcher, FetchPolicy, PolitenessTimeout
from ingest.politeness import RedisHostGate
from tests.support.corpus_site import CorpusSite, Request, Response

pytestmark = pytest.mark.integration

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
TOLERANCE_S = 0.015  # recorded start times trail the grant by a little scheduling noise


def _client(port: int = REDIS_PORT) -> redis.Redis:
    return redis.Redis(
        host=REDIS_HOST,
        port=port,
        socket_connect_timeout=1,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    c = _client()
    try:
        c.ping()
    except redis.RedisError as exc:
        c.close()
        pytest.fail(f"Redis on {REDIS_HOST}:{REDIS_PORT} does not answer: {exc}")
    yield c
    c.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    value = f"mediamon-test:{uuid.uuid4().hex}:"
    yield value
    keys = list(client.scan_iter(match=value + "*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def make_gate(client: redis.Redis, prefix: str) -> Callable[..., RedisHostGate]:
    def make(**kwargs: Any) -> RedisHostGate:
        options: dict[str, Any] = {"poll_s": 0.01, "wait_timeout_s": 5.0, **kwargs}
        return RedisHostGate(client, prefix=prefix, **options)

    return make


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one moment (an end at the same instant as a start closes first)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def start_gaps(starts: list[float]) -> list[float]:
    ordered = sorted(starts)
    return [b - a for a, b in itertools.pairwise(ordered)]


def mean_gap(starts: list[float]) -> float:
    """The span of the starts over their gaps. A start recorded late (the thread was descheduled
    after its grant) lengthens one gap and shortens the next by as much: a single gap measures
    the machine's load, the span measures the gate."""
    ordered = sorted(starts)
    return (ordered[-1] - ordered[0]) / (len(ordered) - 1)


def run_threads(n: int, target: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


# ---- the child of the cross-process test (module level so a spawned process can import it)


def _process_worker(
    prefix: str, results_key: str, barrier: threading.Barrier, rounds: int, hold_s: float
) -> None:
    client = _client()
    try:
        gate = RedisHostGate(
            client, max_concurrent=2, min_delay_s=0.02, prefix=prefix, poll_s=0.01, wait_timeout_s=8
        )
        barrier.wait(timeout=20)
        for _ in range(rounds):
            with gate.slot("shared.example"):
                start = time.time()
                time.sleep(hold_s)
                end = time.time()
            client.rpush(results_key, json.dumps([start, end]))
    finally:
        client.close()


# ---- tests


def test_concurrency_limit_holds_across_threads(make_gate):
    gate = make_gate(max_concurrent=2, min_delay_s=0)
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()

    def work() -> None:
        with gate.slot("news.example"):
            start = time.monotonic()
            time.sleep(0.08)
            end = time.monotonic()
        with lock:
            intervals.append((start, end))

    run_threads(8, work)
    assert len(intervals) == 8
    assert max_overlap(intervals) == 2


def test_concurrency_limit_and_delay_hold_across_processes(client, prefix):
    results_key = prefix + "results"
    ctx = multiprocessing.get_context("spawn")
    n_processes, rounds = 3, 3
    barrier = ctx.Barrier(n_processes)
    processes = [
        ctx.Process(target=_process_worker, args=(prefix, results_key, barrier, rounds, 0.1))
        for _ in range(n_processes)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
    assert [p.exitcode for p in processes] == [0] * n_processes
    for process in processes:
        process.close()

    intervals = [tuple(json.loads(raw)) for raw in client.lrange(results_key, 0, -1)]
    assert len(intervals) == n_processes * rounds
    assert max_overlap(intervals) == 2  # never 3, and the limit is actually reached
    assert mean_gap([start for start, _ in intervals]) >= 0.02 - TOLERANCE_S


def test_min_delay_between_starts_to_one_host(make_gate):
    gate = make_gate(max_concurrent=5, min_delay_s=0.1)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        with gate.slot("slow.example"), lock:
            starts.append(time.monotonic())

    began = time.monotonic()
    run_threads(5, work)
    gaps = start_gaps(starts)
    assert len(gaps) == 4
    assert mean_gap(starts) >= 0.1 - TOLERANCE_S
    # Waits the delay (0.4 s in all), not whole leases; generous for a loaded machine.
    assert time.monotonic() - began < 10


def test_different_hosts_do_not_block_each_other(make_gate):
    gate = make_gate(max_concurrent=1, min_delay_s=5.0, wait_timeout_s=0.2)
    with gate.slot("a.example"):
        began = time.monotonic()
        with gate.slot("b.example"), gate.slot("c.example"):
            assert time.monotonic() - began < 4.0  # not the 5 s delay of a.example
        with pytest.raises(PolitenessTimeout), gate.slot("a.example"):
            pass


def test_host_names_are_case_insensitive(make_gate):
    gate = make_gate(max_concurrent=1, min_delay_s=5.0, wait_timeout_s=0.1)
    with gate.slot("Case.Example"), pytest.raises(PolitenessTimeout), gate.slot("case.example"):
        pass


def test_expired_lease_of_a_crashed_holder_frees_the_slot(client, make_gate):
    crashed = make_gate(max_concurrent=1, min_delay_s=0, lease_s=0.3)
    crashed.acquire("crash.example")  # and never released, as if the worker died
    holders_key, _ = crashed.keys("crash.example")
    assert client.zcard(holders_key) == 1

    survivor = make_gate(max_concurrent=1, min_delay_s=0, wait_timeout_s=3.0)
    began = time.monotonic()
    with survivor.slot("crash.example"):
        waited = time.monotonic() - began
        assert client.zcard(holders_key) == 1  # the dead holder was swept, we hold the slot
    assert 0.2 <= waited < 3.0  # swept after the lease, before the survivor's wait would time out
    assert client.zcard(holders_key) == 0


def test_release_removes_the_holder_and_keys_expire(client, make_gate):
    gate = make_gate(max_concurrent=3, min_delay_s=0.05, lease_s=10)
    holders_key, next_key = gate.keys("ttl.example")
    with gate.slot("ttl.example"):
        assert client.zcard(holders_key) == 1
        assert 0 < client.pttl(holders_key) <= 11_000
        assert 0 < client.pttl(next_key) <= 1_050
    assert client.exists(holders_key) == 0  # empty sorted set is gone


def test_wait_timeout_names_the_host(make_gate):
    holder = make_gate(max_concurrent=1, min_delay_s=0)
    token = holder.acquire("busy.example")
    waiter = make_gate(max_concurrent=1, min_delay_s=0, wait_timeout_s=0.25)
    began = time.monotonic()
    with pytest.raises(PolitenessTimeout, match=r"busy\.example"), waiter.slot("busy.example"):
        pass
    assert 0.2 <= time.monotonic() - began < 5.0  # gave up after its wait, not never
    holder.release("busy.example", token)
    with waiter.slot("busy.example"):
        pass


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_redis_falls_back_to_in_process_limits(caplog):
    client = _client(_closed_port())
    try:
        gate = RedisHostGate(client, max_concurrent=1, min_delay_s=0.05, poll_s=0.01, wait_timeout_s=2)
        intervals: list[tuple[float, float]] = []
        lock = threading.Lock()

        def work() -> None:
            with gate.slot("down.example"):
                start = time.monotonic()
                time.sleep(0.02)
                end = time.monotonic()
            with lock:
                intervals.append((start, end))

        with caplog.at_level(logging.WARNING, logger="ingest.politeness"):
            run_threads(4, work)
            with gate.slot("other.example"):
                pass
    finally:
        client.close()
    assert len(intervals) == 4
    assert max_overlap(intervals) == 1
    assert mean_gap([start for start, _ in intervals]) >= 0.05 - TOLERANCE_S
    warnings = [r for r in caplog.records if r.name == "ingest.politeness" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Redis unreachable" in warnings[0].getMessage()


def test_fetcher_with_redis_gate_respects_min_delay(make_gate):
    arrivals: list[float] = []
    lock = threading.Lock()

    def record(request: Request) -> Response:
        with lock:
            arrivals.append(time.time())
        return Response(200, b"<html><body>ok</body></html>", {"Content-Type": "text/html"})

    policy = FetchPolicy(user_agent="t", allowed_private_hosts=frozenset({"127.0.0.1"}))
    gate = make_gate(max_concurrent=4, min_delay_s=0.15)
    with CorpusSite() as site, Fetcher(policy, host_gate=gate) as fetcher:
        site.add_route("/polite", record)
        results = []

        def fetch(n: int) -> None:
            results.append(fetcher.fetch(site.url(f"/polite?n={n}")))

        threads = [threading.Thread(target=fetch, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert len(results) == 4
    assert all(result.ok for result in results), [result.error for result in results]
    assert len(arrivals) == 4
    assert mean_gap(arrivals) >= 0.15 - TOLERANCE_S
