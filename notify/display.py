"""What the templates read: stories, times and subject lines made ready to print.

Why a step of its own: the text and the HTML template must show the same facts (the same
times in the reader's zone, the same "+N outlets", the same marked words), so they are
computed once here and the templates only loop and print. Nothing here escapes anything: the
HTML templates autoescape every value, so a hostile title arrives as text, and the evidence is
split into plain segments (marked or not) instead of being turned into markup here.

Times are stored in UTC; a naive datetime (SQLite returns them) is taken as UTC. The zone
abbreviation is printed beside every time, so a digest that spans a daylight-saving change
says which clock each time is on (00:30 GMT, then 02:30 BST).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from notify.records import Outlet, StoryItem
from notify.rules import site_of

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Segment:
    """A piece of the evidence sentence; ``marked`` pieces are the matched words."""

    text: str
    marked: bool = False


@dataclass(frozen=True)
class OutletView:
    name: str
    url: str
    time: str  # short when on the lead's day and clock, else with date and zone

    @property
    def label(self) -> str:
        """ "APP (09:02)" for the text part."""
        return f"{self.name} ({self.time})"


@dataclass(frozen=True)
class StoryView:
    title: str
    url: str  # "" when the link was not http(s)
    source: str  # the lead outlet
    time: str  # local, with date and zone abbreviation
    stance: str | None
    evidence: tuple[Segment, ...]
    others: tuple[OutletView, ...]  # every outlet after the lead
    why: str = ""  # why the evidence made the claim ("" when not known)

    @property
    def more_outlets(self) -> str:
        """The "+2 outlets" figure, or "" for a story only one outlet carried."""
        n = len(self.others)
        return f"+{plural(n, 'outlet')}" if n else ""

    @property
    def evidence_text(self) -> str:
        """The evidence for the text part, the matched words in «guillemets»."""
        return "".join(f"«{s.text}»" if s.marked else s.text for s in self.evidence)

    @property
    def stance_class(self) -> str:
        """The label's colour: one of the three stances, anything else neutral."""
        return self.stance if self.stance in ("asserts", "reports", "denies") else "other"


@dataclass(frozen=True)
class SectionView:
    """A claim or an entity with its stories; ``more`` were counted past the section's cap."""

    kind: str  # "Claim" or "Entity"
    title: str
    stories: tuple[StoryView, ...]
    more: int = 0

    @property
    def count(self) -> str:
        return plural(len(self.stories) + self.more, "story", "stories")


def one_line(text: str) -> str:
    """Web text on one line: newlines, tabs and runs of spaces become one space."""
    return _SPACE.sub(" ", text).strip()


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "story", "stories")`` is "1 story"; 12 is "12 stories"."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:.-—") + "…"


def zone(name: str) -> ZoneInfo:
    """The reader's zone; an unknown name is an error (it was validated when subscribed)."""
    return ZoneInfo(name)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` (UTC, aware or naive) on the reader's clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def day(moment: datetime) -> str:
    """ "29 Mar 2026" (no leading zero, English month names whatever the locale)."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def clock(moment: datetime) -> str:
    """ "02:30 BST"."""
    return f"{moment:%H:%M} {moment.tzname()}"


def full_time(moment: datetime, tz: ZoneInfo) -> str:
    """ "29 Mar 2026, 02:30 BST": a UTC moment on the reader's clock."""
    at = local(moment, tz)
    return f"{day(at)}, {clock(at)}"


def window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """A window on the reader's clock, the date said once when both ends share it."""
    a, b = local(start, tz), local(end, tz)
    if a.date() == b.date() and a.tzname() == b.tzname():
        return f"{day(a)}, {a:%H:%M}–{b:%H:%M} {b.tzname()}"
    return f"{day(a)}, {clock(a)} – {day(b)}, {clock(b)}"


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return local(moment, tz).date()


def lag(seconds: float) -> str:
    """ "+45 min", "+3 h 05 min": how long after the first outlet."""
    minutes = max(0, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"+{hours} h {minutes:02d} min" if hours else f"+{minutes} min"


#: Evidence longer than this is cut around its first marked words: a digest is read in minutes.
EVIDENCE_LIMIT = 300


def mark(
    evidence: str, spans: tuple[tuple[int, int], ...], limit: int = EVIDENCE_LIMIT
) -> tuple[Segment, ...]:
    """Split ``evidence`` at the highlight spans (clipped, sorted, overlaps merged).

    Spans that fall outside the sentence are dropped rather than trusted: they come from the
    matcher, the sentence from the web, and a digest must render whatever they say. A long
    sentence is cut to about ``limit`` characters around the first marked words, with "…".
    """
    evidence, spans = _clip(evidence, spans, limit)
    size = len(evidence)
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(size, e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments: list[Segment] = []
    at = 0
    for start, end in merged:
        if start > at:
            segments.append(Segment(evidence[at:start]))
        segments.append(Segment(evidence[start:end], marked=True))
        at = end
    if at < size:
        segments.append(Segment(evidence[at:]))
    # Web text on one line, without losing the space at a segment's edge.
    cleaned = [Segment(_SPACE.sub(" ", s.text), s.marked) for s in segments]
    if cleaned:
        cleaned[0] = Segment(cleaned[0].text.lstrip(), cleaned[0].marked)
        cleaned[-1] = Segment(cleaned[-1].text.rstrip(), cleaned[-1].marked)
    return tuple(s for s in cleaned if s.text)


def _clip(
    text: str, spans: tuple[tuple[int, int], ...], limit: int
) -> tuple[str, tuple[tuple[int, int], ...]]:
    if len(text) <= limit:
        return text, spans
    first = min((s for s, e in spans if 0 <= s < e <= len(text)), default=0)
    start = max(0, min(first - limit // 3, len(text) - limit))
    if start:
        start = text.find(" ", start) + 1 or start  # begin on a word
    end = start + limit
    if end < len(text):
        end = text.rfind(" ", start, end) if " " in text[start:end] else end  # end on a word
    lead, tail = ("… " if start else ""), (" …" if end < len(text) else "")
    shift = len(lead) - start
    kept = tuple((s + shift, min(e, end) + shift) for s, e in spans if s >= start and s < end)
    return f"{lead}{text[start:end].rstrip()}{tail}", kept


def link(url: str) -> str:
    """``url`` if it is an http(s) link, else "": a ``javascript:`` or ``data:`` URL from a
    feed must never become a link in a reader's mail client."""
    url = url.strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") and not _SPACE.search(url) else ""


def outlet_name(outlet: Outlet | None, url: str) -> str:
    """The outlet's name, or the host of the link when the store knows no name."""
    return site_of(one_line(outlet.name) if outlet is not None else None, url) or url


def story(item: StoryItem, tz: ZoneInfo) -> StoryView:
    """One story as the templates print it."""
    lead = item.outlets[0] if item.outlets else None
    lead_at = local(item.published, tz)
    others = tuple(
        OutletView(outlet_name(o, o.url), link(o.url), _outlet_time(o.published, lead_at, tz))
        for o in item.outlets[1:]
    )
    return StoryView(
        title=one_line(item.title) or outlet_name(lead, item.url),
        url=link(item.url),
        source=outlet_name(lead, item.url),
        time=f"{day(lead_at)}, {clock(lead_at)}",
        stance=one_line(item.stance) if item.stance else None,
        evidence=mark(item.evidence, item.highlights),
        others=others,
        why=one_line(item.why),
    )


def _outlet_time(moment: datetime, lead_at: datetime, tz: ZoneInfo) -> str:
    """ "09:02" on the lead's day and clock; "24 Apr, 19:16 PKT" otherwise (year if it differs)."""
    at = local(moment, tz)
    if at.date() == lead_at.date() and at.tzname() == lead_at.tzname():
        return f"{at:%H:%M}"
    when = day(at) if at.year != lead_at.year else f"{at.day} {_MONTHS[at.month - 1]}"
    return f"{when}, {clock(at)}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
