"""`mediamon report spikes`: the days (or hours) when an entity or a claim drew far more
articles than its recent past, each with the outlets, entities and stories behind it.

The test and its settings are explained in ``reports/spikes.py``; this module reads the
options, calls ``services.spikes.spikes`` and prints a table or the JSON the API would give.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli.common import (
    console,
    fail,
    knowledge_filters,
    load_knowledge_base,
    load_settings,
    opened_store,
)
from reports.periods import PeriodError, parse_period, zone
from reports.spikes import MIN_COUNT, SensitivityError, SpikeKind, budget_for
from services.limits import utc_now
from services.spikes import ExplainedSpike, SpikeQuery, SpikeReport
from services.spikes import spikes as find_spikes

#: Where the period starts when only its end is given (the service then counts back from it).
_EPOCH = "1970-01-01"


class SpikeBy(StrEnum):
    day = "day"
    hour = "hour"


class SpikeFormat(StrEnum):
    table = "table"
    json = "json"


def spikes(
    since: Annotated[
        str | None,
        typer.Option(
            help="start: a span back from now (30d, 2w) or a date; default 30 days (48 hours) before the end"
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="end: a date (that day included) or ISO time; default now")
    ] = None,
    by: Annotated[SpikeBy, typer.Option(help="day, or hour (tests the last 48 hours)")] = SpikeBy.day,
    sensitivity: Annotated[
        str,
        typer.Option(help="low, normal or high, or the false alarms allowed per report (e.g. 0.1)"),
    ] = "normal",
    min_count: Annotated[
        int, typer.Option("--min-count", min=1, help="fewest articles in a bucket that can be a spike")
    ] = MIN_COUNT,
    entity: Annotated[
        list[str] | None, typer.Option(help="only this entity (id, name or alias), repeatable")
    ] = None,
    claim: Annotated[list[str] | None, typer.Option(help="only this claim id, repeatable")] = None,
    tz: Annotated[str, typer.Option("--tz", help="time zone of the buckets (IANA name)")] = "UTC",
    explain: Annotated[
        int, typer.Option(min=0, max=200, help="explain the strongest N spikes (outlets, entities, stories)")
    ] = 20,
    fmt: Annotated[SpikeFormat, typer.Option("--format", help="table or json")] = SpikeFormat.table,
) -> None:
    """Spikes per entity and per claim: each day (or hour of the last 48) tested against the
    28 days (or 7 days of hours) before it, with a count model that suits sparse counts."""
    try:
        budget_for(sensitivity)
    except SensitivityError as exc:
        raise fail(str(exc)) from exc
    settings = load_settings()
    kb = load_knowledge_base(settings)
    entity_ids, claim_ids = knowledge_filters(kb, entity, claim)
    now = utc_now()
    try:
        zone(tz)
        start, end = parse_period(since or _EPOCH, until, now=now, tz=tz)
    except PeriodError as exc:
        raise fail(str(exc)) from exc
    query = SpikeQuery(
        since=start if since else None,  # None: 30 days (hours: 48) before the end
        until=end,
        granularity="hour" if by is SpikeBy.hour else "day",
        sensitivity=sensitivity,
        min_count=min_count,
        kinds=_kinds(bool(entity_ids), bool(claim_ids)),
        entity_ids=entity_ids,
        claim_ids=claim_ids,
        tz=tz,
        explain=explain,
        now=now,
    )
    with opened_store(settings) as store:
        report = find_spikes(store.sessions, query)
    if fmt is SpikeFormat.json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n")
        return
    _print_report(report, sensitivity)


def _kinds(entities: bool, claims: bool) -> tuple[SpikeKind, ...]:
    """Asking for entities only (or claims only) tests only that kind; neither or both, both."""
    if entities and not claims:
        return ("entity",)
    if claims and not entities:
        return ("claim",)
    return ("entity", "claim")


def _bucket(report: SpikeReport, item: ExplainedSpike) -> str:
    return item.spike.start.strftime("%Y-%m-%d %H:00" if report.granularity == "hour" else "%Y-%m-%d")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _print_report(report: SpikeReport, sensitivity: str) -> None:
    if report.granularity == "hour":
        period = f"{report.since:%Y-%m-%d %H:%M} … {report.until:%Y-%m-%d %H:%M} ({report.tz})"
    else:  # the last tested day, not the end of it
        period = f"{report.since:%Y-%m-%d} … {report.until - timedelta(hours=12):%Y-%m-%d} ({report.tz})"
    tested = (
        f"{report.series_tested} series × {report.buckets_tested} {report.granularity}s tested, "
        f"sensitivity {sensitivity} (p < {report.threshold:.1e})"
    )
    if not report.spikes:
        if report.series_tested == 0:
            console.print(f"no spikes: nothing stored to test in {period}")
        else:
            console.print(f"no spikes: {tested}, {period}")
        return
    console.print(f"{len(report.spikes)} spikes: {tested}, {period}")
    table = Table("key", "bucket", "observed", "expected", "ratio", "p", "top sources", "top story")
    for item in report.spikes:
        spike, explanation = item.spike, item.explanation
        label = item.label if item.label != spike.key else ""
        key = f"{spike.kind} {spike.key}" + (f": {label}" if label else "")
        sources = ", ".join(f"{s.label} {s.count}" for s in explanation.sources[:3]) if explanation else ""
        story = ""
        if explanation and explanation.stories:
            top = explanation.stories[0]
            story = _shorten(top.label, 60) + (f" ({top.count} articles)" if top.count > 1 else "")
        table.add_row(
            _shorten(key, 48),
            _bucket(report, item),
            str(spike.observed),
            f"{spike.expected:.2f}",
            f"{spike.ratio:.1f}×",
            f"{spike.p_value:.1e}",
            sources,
            story,
        )
    console.print(table)
