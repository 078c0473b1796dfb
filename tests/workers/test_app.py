"""The Celery app's configuration: delivery guarantees, routing, and a beat that only names real tasks."""

from __future__ import annotations

import pytest
import redis

from config.settings import Settings
from workers.app import QUEUES, TASK_QUEUES, create_app


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEDIAMON_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MEDIAMON_DISPATCH_INTERVAL_S", "5")
    monkeypatch.setenv("MEDIAMON_SECRET_KEY", "app-test-secret")  # delivery configured: its beat entry too
    return create_app(Settings())


def test_every_beat_entry_names_a_registered_task(app):
    app.loader.import_default_modules()
    registered = set(app.tasks)
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in registered, f"beat entry {name} names an unknown task"
    assert app.conf.beat_schedule["dispatch-due-feeds"]["schedule"] == 5.0
    assert app.conf.beat_schedule["dispatch-deliveries"]["task"] == "workers.tasks.dispatch_deliveries"


def test_without_a_secret_key_beat_does_not_dispatch_deliveries(monkeypatch):
    monkeypatch.delenv("MEDIAMON_SECRET_KEY", raising=False)
    assert "dispatch-deliveries" not in create_app(Settings()).conf.beat_schedule


def test_every_task_is_routed_to_a_declared_queue(app):
    app.loader.import_default_modules()
    ours = {name for name in app.tasks if name.startswith("workers.tasks.")}
    assert ours == set(TASK_QUEUES)
    assert set(TASK_QUEUES.values()) == set(QUEUES)
    declared = {queue.name for queue in app.conf.task_queues}
    assert declared == set(QUEUES)


def test_delivery_guarantees(app):
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.broker_url == "redis://127.0.0.1:6379/0"
    app.loader.import_default_modules()
    for name in TASK_QUEUES:
        task = app.tasks[name]
        assert task.ignore_result
        if name in (
            "workers.tasks.poll_feed",
            "workers.tasks.fetch_article",
            "workers.tasks.extract_article",
        ):
            assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit


def test_no_key_prefix_keeps_the_plain_key_names(app):
    """Deployments from before the setting keep their queues: kombu prefixes nothing for ""."""
    assert app.conf.broker_transport_options == {"visibility_timeout": 3600, "global_keyprefix": ""}
    with app.connection_for_write() as connection:
        assert connection.transport_options["global_keyprefix"] == ""
        assert connection.default_channel.Client is redis.Redis  # not kombu's prefixing client


def test_the_key_prefix_goes_to_the_broker_transport(monkeypatch):
    monkeypatch.setenv("MEDIAMON_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MEDIAMON_BROKER_KEY_PREFIX", "newsroom-a:")
    conf = create_app(Settings()).conf
    assert conf.broker_transport_options == {"visibility_timeout": 3600, "global_keyprefix": "newsroom-a:"}
