"""The Celery service from the command line: `worker`, `beat`, `status`, `metrics`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli.common import console, load_settings, opened_store
from services.status import store_status

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def worker(ctx: typer.Context) -> None:
    """Run a Celery worker on every mediamon queue; extra options go to `celery worker`."""
    from workers.app import QUEUES
    from workers.app import app as celery_app

    args = list(ctx.args)
    if not any(a in ("-Q", "--queues") or a.startswith("--queues=") for a in args):
        args = ["--queues", ",".join(QUEUES), *args]
    celery_app.worker_main(["worker", "--loglevel", "INFO", *args])


def beat(ctx: typer.Context) -> None:
    """Run Celery beat (the dispatcher and the sweeper); extra options go to `celery beat`."""
    from workers.app import app as celery_app

    celery_app.start(["beat", "--loglevel", "INFO", *ctx.args])


def status() -> None:
    """Queue depths, feeds due / failing / dead, and articles by state."""
    import redis

    from workers.app import DEFAULT_BROKER_URL, QUEUES
    from workers.metrics import broker_counts

    settings = load_settings()
    table = Table("what", "count", title="mediamon status")
    try:
        client = redis.Redis.from_url(settings.broker_url or DEFAULT_BROKER_URL, socket_connect_timeout=3)
        for name, value in broker_counts(client, QUEUES, key_prefix=settings.broker_key_prefix).items():
            table.add_row(name, str(value))
        client.close()
    except redis.RedisError as exc:
        table.add_row("queues", f"broker unreachable: {exc}")
    with opened_store(settings) as st:
        for name, value in store_status(st.sessions, datetime.now(UTC)).items():
            table.add_row(name, str(value))
    console.print(table)


def metrics(
    port: Annotated[int, typer.Option(help="port to serve /metrics on")] = 9464,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Serve Prometheus metrics (polls, articles, matches, failures, latency, queue depths)."""
    import redis
    from prometheus_client import start_http_server
    from prometheus_client.registry import CollectorRegistry

    from workers.app import DEFAULT_BROKER_URL, QUEUES
    from workers.metrics import ServiceCollector

    settings = load_settings()
    with opened_store(settings) as st:
        registry = CollectorRegistry()
        broker = redis.Redis.from_url(settings.broker_url or DEFAULT_BROKER_URL, socket_connect_timeout=3)
        registry.register(
            ServiceCollector(st.sessions, broker, QUEUES, key_prefix=settings.broker_key_prefix)
        )
        server, thread = start_http_server(port, addr=host, registry=registry)
        console.print(f"serving metrics on http://{host}:{server.server_port}/metrics")
        try:
            thread.join()
        except KeyboardInterrupt:
            server.shutdown()
