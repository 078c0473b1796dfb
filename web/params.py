"""Reading the web's query parameters into service queries, refusing what cannot be answered.

Shared by the read API (which answers a refusal with a 422 and the message) and the dashboard
(which shows the message on the page). Every refusal is a :class:`Refused`: a parameter that
is well-formed but unusable (an unknown time zone, an empty or absurd period, an unknown
entity id) must never reach a query and come back as a server error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import StringConstraints
from sqlalchemy.orm import Session, sessionmaker

from reports.periods import PeriodError, parse_period, zone
from reports.spikes import KINDS, MIN_COUNT, SensitivityError, SpikeGranularity, SpikeKind, budget_for
from reports.trends import Granularity
from services import browse
from services.reports import TrendQuery
from services.spikes import SpikeQuery

#: Ids as the knowledge base writes them (matching.kb), hosts as outlets are stored.
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
Host = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$", max_length=255)]
Zone = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_+/-]*$", max_length=64)]
Moment = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9A-Za-z:.+ -]*$", max_length=40)]
Stance = Literal["asserts", "reports", "denies"]
By = Literal["hour", "day", "week", "month"]

#: Most buckets one timeline may have (90 days by hour is 2,160; ten years by day 3,653).
MAX_BUCKETS = 4000
#: Longest period a spike report tests (each day is tested against the four weeks before it).
MAX_SPIKE_DAYS = 400
#: Dates the store can hold on every backend without surprises at the edges of the calendar.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
_BUCKET = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=28),
}


class Refused(ValueError):
    """A request the reports cannot answer; the message says what to change."""


def period(
    since: str | None,
    until: str | None,
    *,
    now: datetime,
    tz: str = "UTC",
    default_since: str | None = "30d",
) -> tuple[datetime | None, datetime]:
    """``(since, until)`` in UTC (``since`` None when neither it nor a default is given)."""
    try:
        zone(tz)
        start, end = parse_period(since or default_since or "1900-01-01", until, now=now, tz=tz)
    except PeriodError as exc:
        raise Refused(str(exc)) from exc
    except OverflowError as exc:
        raise Refused(f"the period {since or ''} … {until or 'now'} is out of range") from exc
    if start < EARLIEST or end > LATEST:
        raise Refused("dates must lie between 1900 and 2200")
    return (start if since or default_since else None), end


def trend_query(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    by: Granularity = "day",
    since: str | None = "30d",
    until: str | None = None,
    tz: str = "UTC",
    entity: Sequence[str] = (),
    claim: Sequence[str] = (),
    stance: Sequence[str] = (),
    source: Sequence[str] = (),
    normalize: bool = False,
) -> TrendQuery:
    """What ``/api/trends`` and the dashboard's chart ask, checked: a period of at most
    :data:`MAX_BUCKETS` buckets and entities and claims that exist."""
    start, end = period(since, until, now=now, tz=tz)
    assert start is not None  # a default start was given
    buckets = (end - start) / _BUCKET[by]
    if buckets > MAX_BUCKETS:
        raise Refused(
            f"{buckets:.0f} buckets by {by} is too many (at most {MAX_BUCKETS}): shorten the period "
            "or use a larger bucket"
        )
    known(sessions, entity, claim)
    return TrendQuery(
        since=start,
        until=end,
        by=by,
        tz=tz,
        entity_ids=tuple(dict.fromkeys(entity)),
        claim_ids=tuple(dict.fromkeys(claim)),
        stances=tuple(dict.fromkeys(stance)),
        sources=hosts(source),
        normalize=normalize,
    )


def spike_query(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    since: str | None = None,
    until: str | None = None,
    by: SpikeGranularity = "day",
    tz: str = "UTC",
    sensitivity: str = "normal",
    min_count: int = MIN_COUNT,
    kinds: Sequence[SpikeKind] = KINDS,
    entity: Sequence[str] = (),
    claim: Sequence[str] = (),
    explain: int = 10,
) -> SpikeQuery:
    """What ``/api/spikes`` and the dashboard's spike list ask, checked: a tested period of at
    most :data:`MAX_SPIKE_DAYS` (hours: the service tests the last 48 at most)."""
    start, end = period(since, until, now=now, tz=tz)
    assert start is not None  # a default start was given
    if end - start > timedelta(days=MAX_SPIKE_DAYS):
        raise Refused(f"spikes are tested over {MAX_SPIKE_DAYS} days at most: shorten the period")
    try:
        budget_for(sensitivity)
    except SensitivityError as exc:
        raise Refused(str(exc)) from exc
    known(sessions, entity, claim)
    return SpikeQuery(
        since=start,
        until=end,
        granularity=by,
        sensitivity=sensitivity,
        min_count=min_count,
        kinds=tuple(dict.fromkeys(kinds)),
        entity_ids=tuple(dict.fromkeys(entity)),
        claim_ids=tuple(dict.fromkeys(claim)),
        tz=tz,
        explain=explain,
        now=now,
    )


def known(sessions: sessionmaker[Session], entity: Sequence[str] = (), claim: Sequence[str] = ()) -> None:
    """Refuse entity or claim ids the store does not know (a typo is not "nothing happened")."""
    try:
        browse.check_ids(sessions, entity, claim)
    except browse.UnknownIds as exc:
        listing = {"entity": "/api/entities", "claim": "/api/claims"}[exc.kind]
        raise Refused(f"{exc} ({listing} lists them)") from exc


def hosts(sources: Sequence[str]) -> tuple[str, ...]:
    """Outlets as stored: lower case, without ``www.``."""
    return tuple(dict.fromkeys(s.strip().lower().removeprefix("www.") for s in sources))
