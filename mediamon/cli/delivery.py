"""`mediamon digest …`, `mediamon alerts run`, `mediamon deliveries`: the embedded way to deliver.

The Celery service does the same on its beat (``workers.tasks.dispatch_deliveries``); these
commands run it once, in-process, so the embedded default works without a broker.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from config.settings import Settings
from mediamon.cli.common import (
    console,
    fail,
    load_knowledge_base,
    load_settings,
    opened_store,
    parse_since,
    when,
)
from notify.kinds import DeliveryState
from services.sending import SendSummary, list_deliveries
from services.wiring import Delivery, DeliveryNotConfigured, Store, build_delivery

digest_app = typer.Typer(help="Daily and weekly digests.", no_args_is_help=True)
alerts_app = typer.Typer(help="Instant and claim-spread alerts.", no_args_is_help=True)

NOW_HELP = "run the schedule as of this moment (ISO 8601; default: now), e.g. for a backfill"


def _delivery(settings: Settings, store: Store) -> Delivery:
    try:
        return build_delivery(settings, store, load_knowledge_base(settings))
    except DeliveryNotConfigured as exc:
        raise fail(str(exc)) from exc


@digest_app.command("run")
def digest_run(now: Annotated[str | None, typer.Option("--now", help=NOW_HELP)] = None) -> None:
    """Write every digest due at that moment (each at most once) and send what the outbox holds."""
    _plan_and_send("digests", now)


@alerts_app.command("run")
def alerts_run(now: Annotated[str | None, typer.Option("--now", help=NOW_HELP)] = None) -> None:
    """Write the instant and claim-spread alerts due at that moment and send what the outbox holds."""
    _plan_and_send("alerts", now)


def _plan_and_send(what: str, now: str | None) -> None:
    settings = load_settings()
    moment = parse_since(now, "--now")
    with opened_store(settings) as store:
        delivery = _delivery(settings, store)
        grouped = delivery.stories.assign_pending()
        planner = delivery.digests if what == "digests" else delivery.alerts
        written = planner.plan(moment)
        summary = delivery.outbox.send_due(moment)
    console.print(f"{grouped} article(s) grouped into stories, {len(written)} {what[:-1]}(s) written")
    _print_summary(summary)


@digest_app.command("preview")
def digest_preview(
    subscription: Annotated[int, typer.Option("--subscription", help="subscription id")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="HTML file; the text part goes beside it (.txt)")
    ],
    until: Annotated[
        str | None, typer.Option("--until", help="end of the window (ISO 8601; default: now)")
    ] = None,
) -> None:
    """Render a subscription's digest to files without storing or sending it."""
    settings = load_settings()
    moment = parse_since(until, "--until")
    with opened_store(settings) as store:
        try:
            delivery = _delivery(settings, store)
            delivery.stories.assign_pending()
            message = delivery.digests.preview(subscription, moment)
        except LookupError as exc:
            raise fail(str(exc), code=1) from exc
    html, text = _part(message, "html"), _part(message, "plain")
    try:
        output.write_text(html, encoding="utf-8")
        output.with_suffix(".txt").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from exc
    console.print(f"{message['Subject']}\nwritten to {output} and {output.with_suffix('.txt')}")


def deliveries(
    state: Annotated[DeliveryState | None, typer.Option("--state", help="only rows in this state")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="most rows to show")] = 50,
) -> None:
    """The outbox: every message with its state, attempts and last error, newest first."""
    settings = load_settings()
    with opened_store(settings) as store:
        rows = list_deliveries(store.sessions, limit, state)
        table = Table(
            "id",
            "sub",
            "kind",
            "window",
            "state",
            "tries",
            "sent",
            "subject / error",
            title=f"{len(rows)} deliveries",
        )
        for row in rows:
            table.add_row(
                str(row.id),
                str(row.subscription_id),
                row.kind.value,
                row.window_key,
                row.state.value,
                str(row.attempts),
                when(row.sent_at),
                (row.last_error or row.subject)[:70],
            )
    console.print(table)


def _print_summary(summary: SendSummary) -> None:
    console.print(
        f"sent {summary.sent}, to retry {summary.retried}, failed {summary.failed}"
        + (f", taken by another sender {summary.skipped}" if summary.skipped else "")
    )
    for delivery_id, error in summary.errors:
        console.print(f"  delivery {delivery_id}: {error}")


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""
