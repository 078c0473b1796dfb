"""What a message says, as plain records: the renderer turns them into a MIME message and the
rules build them from rows the store returns. No ORM object and no Session crosses here.

    Digest         one subscription's digest for one window: claim sections, entity sections,
                   and "since your last digest"
    Alert          an instant alert: the stories of one debounce window (and how many more)
    SpreadAlert    one claim repeated by several outlets within a day
    StoryItem      one story, shown once: its lead article, every outlet that carried it, the
                   evidence sentence with the matched words marked
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from notify.kinds import Mode


@dataclass(frozen=True)
class Outlet:
    """One outlet that carried a story, and when (UTC)."""

    name: str  # the site's name, or its host
    url: str
    published: datetime


@dataclass(frozen=True)
class StoryItem:
    story_id: int
    title: str
    url: str  # the lead article's link
    published: datetime  # UTC; rendered in the reader's zone
    outlets: tuple[Outlet, ...]  # the lead article's outlet first
    evidence: str = ""  # the sentence that makes the claim (or names the entity)
    highlights: tuple[tuple[int, int], ...] = ()  # character spans of ``evidence`` to mark
    stance: str | None = None  # asserts / reports / denies
    relevance: float = 0.0
    why: str = ""  # why the evidence made the claim, in a few words ("" when not known)

    @property
    def more_outlets(self) -> int:
        """The "+N outlets" figure."""
        return max(0, len(self.outlets) - 1)


@dataclass(frozen=True)
class ClaimSection:
    claim_id: str
    statement: str
    stories: tuple[StoryItem, ...]
    more: int = 0  # stories past the section's cap: counted ("and 3 more"), not shown


@dataclass(frozen=True)
class EntitySection:
    entity_id: str
    name: str
    stories: tuple[StoryItem, ...]
    more: int = 0  # stories past the section's cap: counted ("and 3 more"), not shown


@dataclass(frozen=True)
class ClaimTrend:
    claim_id: str
    statement: str
    count: int  # matches in this window
    previous: int = 0  # matches in the window before


@dataclass(frozen=True)
class SpikeNote:
    """An entity or claim far above its usual daily count in the window (reports.spikes)."""

    kind: str  # "entity" or "claim"
    key: str
    label: str  # the entity's name or the claim's statement
    day: datetime  # start of the spiking day (UTC)
    observed: int
    expected: float


@dataclass(frozen=True)
class SinceLast:
    """The short section at the top: what is new since the previous digest."""

    first_seen: tuple[ClaimTrend, ...] = ()  # claims never matched before this window
    growing: tuple[ClaimTrend, ...] = ()  # fastest growth over the previous window
    denied: tuple[ClaimTrend, ...] = ()  # claims denied in this window
    spiking: tuple[SpikeNote, ...] = ()  # days far above their four-week baseline
    more: int = 0  # trends past the section's cap (it is short by design): counted, not shown

    @property
    def empty(self) -> bool:
        return not (self.first_seen or self.growing or self.denied or self.spiking)


@dataclass(frozen=True)
class Digest:
    subscription_id: int
    address: str
    mode: Mode
    window_start: datetime  # UTC, inclusive
    window_end: datetime  # UTC, exclusive
    timezone: str  # IANA name of the reader's zone
    claims: tuple[ClaimSection, ...] = ()
    entities: tuple[EntitySection, ...] = ()  # stories not already shown under a claim
    since_last: SinceLast = field(default_factory=SinceLast)
    more_claims: int = 0  # claim sections past the cap: counted, not shown
    more_entities: int = 0  # entity sections past the cap
    total_stories: int = 0  # every story the window holds for this reader, shown or not

    @property
    def story_count(self) -> int:
        """Stories in the digest, each counted once."""
        ids = {s.story_id for section in self.claims for s in section.stories}
        ids.update(s.story_id for section in self.entities for s in section.stories)
        return len(ids)

    @property
    def empty(self) -> bool:
        return self.story_count == 0


@dataclass(frozen=True)
class Alert:
    subscription_id: int
    address: str
    window_start: datetime
    window_end: datetime
    timezone: str
    stories: tuple[StoryItem, ...]
    overflow: int = 0  # stories past the hourly cap, summarised in this one message
    claim: str | None = None  # the claim's statement when every story is about one: the subject names it


@dataclass(frozen=True)
class Follower:
    """An outlet that repeated a claim after the first one, and how much later."""

    outlet: Outlet
    lag_s: float


@dataclass(frozen=True)
class SpreadAlert:
    subscription_id: int
    address: str
    claim_id: str
    statement: str
    first: Outlet
    followers: tuple[Follower, ...]
    timezone: str = "UTC"


@dataclass(frozen=True)
class Envelope:
    """What every message carries besides its content (RFC 5322, RFC 2369, RFC 8058)."""

    mail_from: str
    to: str
    message_id: str  # "<...@...>", stored in the outbox before sending
    date: datetime
    list_id: str  # e.g. "mediamon digest <digest.mediamon.example>"
    unsubscribe_url: str  # HTTPS, with an opaque signed token; POST unsubscribes (one click)
    unsubscribe_mailto: str | None = None
    manage_url: str | None = None
