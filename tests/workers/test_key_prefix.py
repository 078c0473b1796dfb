"""A deployment's broker keys stay under its ``broker_key_prefix``, on the real shared Redis.

Several deployments (or test runs) may share one Redis database: everything one of them keeps
there -- Celery's queues and bindings (kombu's ``global_keyprefix``), the quarantine, the
per-host politeness slots -- carries its prefix, and what reads those keys (metrics, `mediamon
status`, the sweeper's "is the queue empty?") reads the prefixed ones. No worker runs here:
messages are published and then looked at in Redis.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from time import monotonic

import pytest
import redis
from celery import Celery
from celery._state import get_current_app
from kombu.entity import Exchange, Queue
from kombu.exceptions import ChannelError
from kombu.messaging import Consumer

from config.settings import Settings
from ingest.politeness import RedisHostGate
from services.wiring import build_host_gate
from tests.support.redis_keys import REDIS_URL, prefixed_keys, redis_namespace
from workers import broker as broker_module
from workers import tasks
from workers.app import QUEUES, create_app
from workers.broker import QUARANTINE, quarantine_key
from workers.metrics import broker_counts, queue_depths

pytestmark = pytest.mark.integration

#: Bounds a wait for an outcome (never reached when things go right).
TIMEOUT_S = 60.0


@pytest.fixture
def namespace(worker_id: str) -> Iterator[tuple[redis.Redis, str]]:
    with redis_namespace(worker_id) as (client, prefix):
        yield client, prefix


@pytest.fixture
def app(namespace: tuple[redis.Redis, str]) -> Iterator[Celery]:
    _, prefix = namespace
    celery_app = create_app(Settings(broker_url=REDIS_URL, broker_key_prefix=prefix))
    yield celery_app
    celery_app.close()


@contextmanager
def current(app: Celery) -> Iterator[None]:
    """``app`` as Celery's current app (what the tasks see inside a worker), then the previous one."""
    previous = get_current_app()
    app.set_current()
    try:
        yield
    finally:
        previous.set_current()


def texts(values: list[bytes]) -> list[str]:
    return [value.decode() for value in values]


def test_a_published_task_message_lives_only_under_the_prefix(app, namespace):
    client, prefix = namespace
    sent = app.send_task("workers.tasks.fetch_article", args=[7])  # no worker: it stays queued

    keys = prefixed_keys(client, prefix)
    assert f"{prefix}fetch" in keys
    assert f"{prefix}_kombu.binding.fetch" in keys  # the exchange's routing table
    [raw] = client.lrange(f"{prefix}fetch", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "workers.tasks.fetch_article"
    assert message["headers"]["id"] == sent.id
    # Not under the plain name, where a deployment without a prefix keeps its queue.
    assert not any(sent.id in text for text in texts(client.lrange("fetch", 0, -1)))

    depths = queue_depths(client, QUEUES, key_prefix=prefix)
    assert depths == {"feeds": 0, "fetch": 1, "extract": 0, "deliver": 0, "maintenance": 0}
    assert broker_counts(client, QUEUES, key_prefix=prefix) == {
        "queue feeds": 0,
        "queue fetch": 1,
        "queue extract": 0,
        "queue deliver": 0,
        "queue maintenance": 0,
        "quarantined messages": 0,
    }


def test_the_sweeper_sees_a_backlog_under_the_prefix(app, namespace):
    """``_queue_is_empty`` declares the queue passively; kombu's own check (EXISTS) ignores the
    prefix and would call a full queue missing, so the sweeper would queue stale rows twice."""
    client, prefix = namespace
    with current(app):
        assert tasks._queue_is_empty("workers.tasks.fetch_article")  # nothing was ever queued
        app.send_task("workers.tasks.fetch_article", args=[7])
        assert client.llen(f"{prefix}fetch") == 1
        assert not tasks._queue_is_empty("workers.tasks.fetch_article")
        assert tasks._queue_is_empty("workers.tasks.extract_article")

    with app.connection_for_read() as connection:
        channel = connection.default_channel
        assert channel.queue_declare(queue="fetch", passive=True).message_count == 1
        with pytest.raises(ChannelError):
            channel.queue_declare(queue="extract", passive=True)


def test_an_unreadable_message_is_set_aside_under_the_prefix(app, namespace):
    client, prefix = namespace
    unreadable = [f"not JSON {prefix}", json.dumps({"task": "workers.tasks.fetch_article", "mark": prefix})]
    delivered: list[object] = []
    fetch = Queue("fetch", Exchange("fetch"), routing_key="fetch")  # type: ignore[no-untyped-call]
    with app.connection_for_read() as connection:
        consumer = Consumer(  # type: ignore[no-untyped-call]
            connection.default_channel, queues=[fetch], callbacks=[delivered.append]
        )
        with consumer:  # declares the queue and starts consuming (BRPOP) under the prefix
            client.lpush(f"{prefix}fetch", *unreadable)
            deadline = monotonic() + TIMEOUT_S
            while client.llen(quarantine_key(prefix)) < len(unreadable) and monotonic() < deadline:
                with suppress(socket.timeout):
                    connection.drain_events(timeout=1)

    assert sorted(texts(client.lrange(quarantine_key(prefix), 0, -1))) == sorted(unreadable)
    assert delivered == []
    assert client.llen(f"{prefix}fetch") == 0
    assert client.hlen(f"{prefix}unacked") == 0, "nothing unreadable waits to be restored"
    assert not any(prefix in text for text in texts(client.lrange(QUARANTINE, 0, -1)))
    assert broker_counts(client, QUEUES, key_prefix=prefix)["quarantined messages"] == 2


def test_the_quarantine_is_capped_under_the_prefix(app, namespace, monkeypatch):
    """LPUSH and LTRIM both meet the prefixed list (kombu's client would prefix only the LPUSH)."""
    client, prefix = namespace
    monkeypatch.setattr(broker_module, "QUARANTINE_MAX", 2)
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for n in range(3):
            channel.quarantine(f"payload {n} {prefix}", "a test")
    assert texts(client.lrange(quarantine_key(prefix), 0, -1)) == [
        f"payload 2 {prefix}",
        f"payload 1 {prefix}",
    ]


def test_the_host_gate_keeps_its_slots_under_the_prefix(namespace):
    client, prefix = namespace
    gate = build_host_gate(Settings(broker_url=REDIS_URL, broker_key_prefix=prefix))
    assert isinstance(gate, RedisHostGate)
    with gate.slot("shared.example"):
        holders, _ = gate.keys("shared.example")
        assert holders.startswith(f"{prefix}mediamon:host:")
        assert client.zcard(holders) == 1
        assert holders in prefixed_keys(client, prefix)
