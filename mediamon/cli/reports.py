"""`mediamon report trends | top | claim`: the stored articles as trends an analyst can query.

Every command calls the functions in ``services.reports`` that the read API and the
dashboard call too, and ``--format json`` prints the same field names as the API.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli import report_spikes
from mediamon.cli.common import (
    console,
    fail,
    knowledge_filters,
    load_knowledge_base,
    load_settings,
    opened_store,
)
from reports.charts import render, timeline_figure
from reports.periods import PeriodError, parse_period, zone
from reports.trends import GRANULARITIES, STANCES, Granularity, Timeline
from services import reports
from services.export import resolve_entity
from services.limits import utc_now

report_app = typer.Typer(
    help="Trend reports: timelines, top lists, spikes and claim histories.", no_args_is_help=True
)


class TrendFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    png = "png"


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


SinceOption = Annotated[str, typer.Option(help="start: a span back from now (30d, 48h, 2w) or a date")]
UntilOption = Annotated[
    str | None, typer.Option(help="end: a date (that day included) or ISO time; default now")
]
TzOption = Annotated[str, typer.Option("--tz", help="time zone of the buckets (IANA name)")]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", help="only this outlet (host), repeatable")
]


def trends(
    by: Annotated[str, typer.Option(help="bucket size: hour, day, week or month")] = "day",
    since: SinceOption = "30d",
    until: UntilOption = None,
    entity: Annotated[list[str] | None, typer.Option(help="entity id, name or alias, repeatable")] = None,
    claim: Annotated[list[str] | None, typer.Option(help="claim id, repeatable")] = None,
    stance: Annotated[list[str] | None, typer.Option(help="asserts, reports or denies, repeatable")] = None,
    source: SourceOption = None,
    normalize: Annotated[bool, typer.Option(help="also each count's share of all stored articles")] = False,
    tz: TzOption = "UTC",
    fmt: Annotated[
        TrendFormat, typer.Option("--format", help="table, csv, json, md or png")
    ] = TrendFormat.table,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="file (png: default trends.png)")
    ] = None,
) -> None:
    """Articles, on-theme articles, entity mentions and claim matches by stance, per bucket."""
    granularity = _granularity(by)
    bad_stances = sorted(set(stance or ()) - set(STANCES))
    if bad_stances:
        raise fail(f"--stance must be one of {', '.join(STANCES)}, got {', '.join(bad_stances)}")
    settings = load_settings()
    kb = load_knowledge_base(settings)
    entity_ids, claim_ids = knowledge_filters(kb, entity, claim)
    try:
        zone(tz)
        start, end = parse_period(since, until, now=utc_now(), tz=tz)
    except PeriodError as exc:
        raise fail(str(exc)) from exc
    query = reports.TrendQuery(
        since=start,
        until=end,
        by=granularity,
        tz=tz,
        entity_ids=entity_ids,
        claim_ids=claim_ids,
        stances=tuple(stance or ()),
        sources=tuple(source or ()),
        normalize=normalize,
    )
    with opened_store(settings) as store:
        timeline = reports.trends(store.sessions, query, on_theme_threshold=settings.relevance_threshold)
    _print_timeline(timeline, fmt, output)


def _granularity(by: str) -> Granularity:
    for option in GRANULARITIES:
        if option == by:
            return option
    raise fail(f"--by must be one of {', '.join(GRANULARITIES)}, got {by!r}")


def _print_timeline(timeline: Timeline, fmt: TrendFormat, output: Path | None) -> None:
    if fmt is TrendFormat.png:
        path = output or Path("trends.png")
        path.write_bytes(render(timeline_figure(timeline), "png"))
        console.print(f"wrote {path} ({len(timeline.buckets)} buckets by {timeline.by})")
        return
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt is TrendFormat.table:
            console.print(_trend_table(timeline))
        elif fmt is TrendFormat.json:
            stream.write(json.dumps(timeline.as_records(), ensure_ascii=False, indent=1) + "\n")
        elif fmt is TrendFormat.csv:
            records = timeline.as_records()
            fields = ["bucket", "series", "count", "total"] + (["ratio"] if timeline.normalized else [])
            writer = csv.DictWriter(stream, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
        else:
            stream.write(_markdown(timeline))
    finally:
        if output:
            stream.close()


def _label(timeline: Timeline, i: int) -> str:
    start = timeline.buckets[i]
    return start.strftime("%Y-%m-%d %H:00" if timeline.by == "hour" else "%Y-%m-%d")


def _trend_table(timeline: Timeline) -> Table:
    """One row per series with its sparkline; the buckets run left to right."""
    first, last = _label(timeline, 0), _label(timeline, len(timeline.buckets) - 1)
    table = Table(
        "series",
        "total",
        "peak",
        f"{first} … {last}",
        title=f"trends by {timeline.by}, {len(timeline.buckets)} buckets ({timeline.tz})",
    )
    if timeline.normalized:
        table.add_column("share")
    for series in timeline.series:
        peak = max(range(len(series.counts)), key=lambda i: series.counts[i], default=0)
        row = [
            series.name,
            str(series.total),
            f"{series.counts[peak]} on {_label(timeline, peak)}" if series.total else "-",
            series.sparkline(),
        ]
        if timeline.normalized:
            total = sum(timeline.totals)
            row.append(f"{series.total / total:.1%}" if total else "-")
        table.add_row(*row)
    return table


def _markdown(timeline: Timeline) -> str:
    names = [s.name for s in timeline.series]
    lines = ["| bucket | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for i in range(len(timeline.buckets)):
        cells = []
        for s in timeline.series:
            cell = str(s.counts[i])
            if s.ratios is not None:
                cell += f" ({s.ratios[i]:.1%})"
            cells.append(cell)
        lines.append(f"| {_label(timeline, i)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def top(
    since: SinceOption = "30d",
    until: UntilOption = None,
    source: SourceOption = None,
    entity: Annotated[str | None, typer.Option(help="also list what co-occurs with this entity")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="items per list")] = 10,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table or json")] = TableOrJson.table,
) -> None:
    """Top outlets, entities and claims over whole UTC days of the period."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    entity_id = resolve_entity(kb, entity) if entity else None
    if entity and entity_id is None:
        raise fail(f"no entity called {entity!r} in the knowledge base")
    try:
        start, end = parse_period(since, until, now=utc_now())
    except PeriodError as exc:
        raise fail(str(exc)) from exc
    query = reports.TopQuery(
        since=start, until=end, sources=tuple(source or ()), entity_id=entity_id, limit=limit
    )
    with opened_store(settings) as store:
        lists = reports.top(store.sessions, query)
    if fmt is TableOrJson.json:
        sys.stdout.write(json.dumps(lists.to_json(), ensure_ascii=False, indent=1) + "\n")
        return
    console.print(f"{lists.total} stored articles from {lists.since[:10]} to {lists.until[:10]} (UTC days)")
    sections = [("outlets", lists.sources), ("entities", lists.entities), ("claims", lists.claims)]
    if entity_id:
        sections.append((f"co-occurring with {entity_id}", lists.cooccurring))
    for title, items in sections:
        table = Table("rank", "item", "articles", "share", "detail", title=f"top {title}")
        for rank, item in enumerate(items, 1):
            label = item.label if item.label == item.key else f"{item.key}: {item.label}"
            detail = ", ".join(f"{k} {v}" for k, v in sorted(item.detail.items()))
            table.add_row(str(rank), label[:90], str(item.count), f"{item.share:.1%}", detail)
        if not items:
            table.add_row("-", "nothing in this period", "", "", "")
        console.print(table)


#: Latest articles ``mediamon report claim`` lists in its table (``--format json`` has 100).
LATEST_SHOWN = 10


def claim_history(
    claim_id: Annotated[str, typer.Argument(help="claim id (mediamon kb show lists them)")],
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table or json")] = TableOrJson.table,
) -> None:
    """A claim's history: first seen, outlets that repeated it and their lag, stance flips,
    resurfacing after a quiet spell, whether it is spreading now, and the latest articles
    (counts, flips and resurfacing by UTC day; ``--format json`` lists the latest 100)."""
    settings = load_settings()
    with opened_store(settings) as store:
        try:
            history = reports.claim_history(store.sessions, claim_id, now=utc_now())
        except reports.UnknownClaim:
            raise fail(f"no claim {claim_id!r} in the store (mediamon kb show lists them)") from None
    if fmt is TableOrJson.json:
        sys.stdout.write(json.dumps(history.to_json(), ensure_ascii=False, indent=1) + "\n")
        return
    console.print(f"[bold]{history.claim_id}[/]: {history.statement}")
    first = history.first
    if first is None:
        console.print("no stored article matches this claim yet")
        return
    console.print(f"first seen {first.at:%Y-%m-%d %H:%M} UTC at {first.source}: {first.title}\n  {first.url}")
    spreading = "yes" if history.spreading else "no"
    console.print(
        f"{history.articles} articles; last 7 days {history.recent} "
        f"(usual week {history.baseline_weekly:.1f}); spreading now: {spreading}"
    )
    for day, quiet_days in history.resurfaced:
        console.print(f"resurfaced {day:%Y-%m-%d} after {quiet_days} quiet days")
    table = Table("outlet", "first", "lag", "articles", "stances", "flips (by UTC day)", title="outlets")
    for outlet in history.outlets:
        table.add_row(
            outlet.source,
            f"{outlet.first_at:%Y-%m-%d %H:%M}",
            f"{outlet.lag_hours:.0f} h",
            str(outlet.articles),
            ", ".join(f"{k} {v}" for k, v in sorted(outlet.stances.items())),
            "; ".join(outlet.flips) or "-",
        )
    console.print(table)
    shown = history.latest[:LATEST_SHOWN]
    latest = Table(
        "date (UTC)", "outlet", "stance", "article", title=f"the {len(shown)} latest of {history.articles}"
    )
    for event in shown:
        latest.add_row(f"{event.at:%Y-%m-%d %H:%M}", event.source, event.stance, event.title or event.url)
    console.print(latest)


report_app.command("trends")(trends)
report_app.command("top")(top)
report_app.command("claim")(claim_history)
report_app.command("spikes")(report_spikes.spikes)
