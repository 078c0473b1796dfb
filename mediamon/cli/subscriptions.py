"""`mediamon subscriptions …`: who receives what, how often and when."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli.common import console, fail, load_knowledge_base, load_settings, opened_store, when
from notify.kinds import Mode
from services.subscriptions import (
    NewSubscription,
    SubscriptionError,
    add_subscription,
    list_subscriptions,
    remove_subscription,
)

subscriptions_app = typer.Typer(help="Who receives alerts and digests, and of what.", no_args_is_help=True)


@subscriptions_app.command("add")
def add(
    address: Annotated[
        str, typer.Argument(help="an email address, or an Apprise URL (slack://, json://, ...)")
    ],
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="only articles naming this entity")
    ] = None,
    claim: Annotated[
        list[str] | None, typer.Option("--claim", help="only articles matching this claim")
    ] = None,
    stance: Annotated[
        list[str] | None,
        typer.Option("--stance", help="only claim matches with this stance: asserts|reports|denies"),
    ] = None,
    min_relevance: Annotated[
        float | None, typer.Option("--min-relevance", help="at least this relevance (default: the threshold)")
    ] = None,
    mute_source: Annotated[
        list[str] | None, typer.Option("--mute-source", help="never from this host")
    ] = None,
    mute_keyword: Annotated[
        list[str] | None, typer.Option("--mute-keyword", help="never with this in the title")
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="instant alerts, or a daily or weekly digest")
    ] = Mode.DAILY,
    at: Annotated[str | None, typer.Option("--at", help="local time of the digest, HH:MM")] = None,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Asia/Karachi")] = "UTC",
    weekday: Annotated[
        int, typer.Option("--weekday", min=0, max=6, help="weekly digests: 0 Monday … 6 Sunday")
    ] = 0,
    send_empty: Annotated[
        bool, typer.Option("--send-empty", help="send a digest even when nothing matched")
    ] = False,
) -> None:
    """Add a subscription; prints its id."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    new = NewSubscription(
        address=address,
        mode=mode,
        at_local=at or settings.digest_at,
        timezone=tz,
        weekday=weekday,
        entity_ids=tuple(entity or ()),
        claim_ids=tuple(claim or ()),
        stances=tuple(stance or ()),
        min_relevance=min_relevance,
        muted_sources=tuple(mute_source or ()),
        muted_keywords=tuple(mute_keyword or ()),
        send_empty=send_empty,
    )
    with opened_store(settings) as store:
        try:
            subscription_id = add_subscription(store.sessions, new, kb)
        except SubscriptionError as exc:
            raise fail(str(exc)) from exc
    sys.stdout.write(f"{subscription_id}\n")


@subscriptions_app.command("list")
def list_(
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Every subscription with its filters and schedule."""
    if fmt not in ("table", "json"):
        raise fail("--format must be table or json")
    settings = load_settings()
    with opened_store(settings) as store:
        rows = list_subscriptions(store.sessions)
    records = [
        {
            "id": s.id,
            "address": s.address,
            "mode": s.mode.value,
            "at": s.at_local,
            "timezone": s.timezone,
            "weekday": s.weekday,
            "entities": s.entity_ids,
            "claims": s.claim_ids,
            "stances": s.stances,
            "min_relevance": s.min_relevance,
            "muted_sources": s.muted_sources,
            "muted_keywords": s.muted_keywords,
            "send_empty": s.send_empty,
            "active": s.active,
            "created_at": s.created_at.isoformat(),
            "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else None,
        }
        for s in rows
    ]
    if fmt == "json":
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "address", "mode", "when", "filters", "active", title=f"{len(rows)} subscription(s)")
    for s in rows:
        filters = [
            *(f"entity {e}" for e in s.entity_ids),
            *(f"claim {c}" for c in s.claim_ids),
            *(f"stance {x}" for x in s.stances),
            *([f"relevance ≥ {s.min_relevance:g}"] if s.min_relevance is not None else []),
            *(f"mute {m}" for m in (*s.muted_sources, *s.muted_keywords)),
        ]
        schedule = "as it happens" if s.mode is Mode.INSTANT else f"{s.at_local} {s.timezone}"
        if s.mode is Mode.WEEKLY:
            schedule = f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][s.weekday]} {schedule}"
        state = "yes" if s.active else f"no (unsubscribed {when(s.unsubscribed_at)})"
        table.add_row(
            str(s.id),
            s.address,
            s.mode.value,
            schedule,
            "\n".join(filters) or "everything on the theme",
            state,
        )
    console.print(table)


@subscriptions_app.command("remove")
def remove(subscription_id: Annotated[int, typer.Argument(help="the id `subscriptions list` shows")]) -> None:
    """Remove a subscription (and its delivery history)."""
    settings = load_settings()
    with opened_store(settings) as store:
        if not remove_subscription(store.sessions, subscription_id):
            raise fail(f"no subscription {subscription_id}", code=1)
    console.print(f"subscription {subscription_id} removed")
