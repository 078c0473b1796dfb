"""The Celery app, built from Settings.

``create_app(settings)`` is the factory (tests build their own); the module-level ``app`` is
what ``celery -A workers.app`` and ``mediamon worker``/``beat`` load. It reads the environment
once, here at the edge, and keeps the Settings object in ``app.conf.mediamon_settings`` for
the tasks.

Delivery: tasks are acknowledged after they finish (``acks_late``) and re-queued if the
worker process dies (``reject_on_worker_lost``); each worker process takes one message at a
time (prefetch 1) so a slow site cannot hold others hostage; results are not stored. A message
no worker can read is set aside, not fatal (``workers.broker``). Every key in the broker's Redis
carries ``settings.broker_key_prefix``, so several deployments can share one Redis database.

An article in the hands of a worker that dies is not lost for long: fetch and extract hold a
lease on their article, renewed while they work, and the beat's sweeper re-enqueues an article
whose lease ran out (``services.leases``, which also says why kombu's visibility timeout is not
that mechanism).
A worker builds its matcher before its pool forks and trims its heap after each task
(``workers.memory``, connected here).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from celery import Celery
from kombu.entity import Exchange, Queue

from config.settings import Settings
from workers import memory  # noqa: F401 -- connects its worker_init, task_postrun handlers
from workers.schedule import beat_schedule

DEFAULT_BROKER_URL = "redis://localhost:6379/0"

#: Network-bound work (feeds, fetch) and CPU-bound work (extract) get their own queues, so slow
#: sites never starve matching; run e.g. `mediamon worker -Q feeds,fetch --pool threads -c 32`
#: beside `mediamon worker -Q extract,maintenance -c 2` to scale each side on its own.
QUEUES = ("feeds", "fetch", "extract", "deliver", "maintenance")
TASK_QUEUES = {
    "workers.tasks.poll_feed": "feeds",
    "workers.tasks.fetch_article": "fetch",
    "workers.tasks.extract_article": "extract",
    "workers.tasks.dispatch_due_feeds": "maintenance",
    "workers.tasks.sweep_stale_articles": "maintenance",
    "workers.tasks.dispatch_deliveries": "maintenance",
    "workers.tasks.rematch_stale": "maintenance",
    "workers.tasks.send_delivery": "deliver",
    "workers.tasks.plan_alerts": "deliver",
}


#: kombu's Redis transport, hardened against unreadable messages (see workers.broker).
BROKER_TRANSPORTS = dict.fromkeys(("redis", "rediss"), "workers.broker:Transport")


def create_app(settings: Settings) -> Celery:
    app = Celery("mediamon", set_as_current=False)
    broker_url = settings.broker_url or DEFAULT_BROKER_URL
    app.conf.update(
        broker_url=broker_url,
        broker_transport=BROKER_TRANSPORTS.get(urlsplit(broker_url).scheme),
        broker_connection_retry_on_startup=True,
        # kombu prefixes its keys (queues, bindings, unacked messages, fanout channels) with
        # global_keyprefix; workers.broker and workers.metrics name theirs the same way.
        broker_transport_options={"visibility_timeout": 3600, "global_keyprefix": settings.broker_key_prefix},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Tasks are idempotent: on broker loss, cancel and let the message be redelivered.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=300,
        task_queues=[
            Queue(name, Exchange(name), routing_key=name)  # type: ignore[no-untyped-call]
            for name in QUEUES
        ],
        task_default_queue="maintenance",
        task_routes={task: {"queue": queue, "routing_key": queue} for task, queue in TASK_QUEUES.items()},
        beat_schedule=beat_schedule(settings),
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        mediamon_settings=settings,
    )
    app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
    return app


app = create_app(Settings())
