"""Which of a feed's entries one poll takes: the ones not stored yet, first, up to the cap.

The per-poll cap (``max_entries_per_poll``) paces a long feed, it never drops entries: the
poller asks the store which entries it already holds, takes the first ``cap`` of the others
and reports how many are left, so the next poll takes the next ones (and the poller keeps
no validator or body hash until none is left). Aggregator links are resolved to the article
they point at before an entry is keyed (``ingest.aggregators``); one that cannot be is skipped
with a reason, never stored as the aggregator's page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ingest.aggregators import LinkKind, ResolvedLink, unwrap
from ingest.dedupe import canonical_url
from ingest.parse import Entry

#: Why a Google News link is skipped when no decoder is configured.
DECODING_OFF = "Google News link not decoded: decoding is off (MEDIAMON_DECODE_GOOGLE_NEWS)"


@dataclass(frozen=True)
class Candidate:
    """One distinct entry of a feed, with the article link behind it."""

    entry: Entry
    link: ResolvedLink
    key: str | None  # canonical URL; None until a Google News link is decoded

    @property
    def url(self) -> str | None:
        return self.link.url


@dataclass(frozen=True)
class Selection:
    """One poll's share of a feed: what to take now, what is left for the next polls."""

    take: list[Candidate] = field(default_factory=list)
    known: int = 0  # already stored: count as taken
    left: int = 0  # new, beyond the cap: for the next poll
    skipped: Counter[str] = field(default_factory=Counter)  # reason → entries

    @property
    def complete(self) -> bool:
        """Every entry is stored, taken now or skipped for good: the feed body is done with."""
        return self.left == 0


def candidates(entries: Iterable[Entry]) -> list[Candidate]:
    """Entries with their links resolved and keyed, the first of each key kept, in feed order."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for entry in entries:
        link = unwrap(entry.link)
        key = canonical_url(link.url) if link.url else None
        # An undecoded Google link has no key yet; its own link stands in for one here.
        identity = key or entry.link
        if identity in seen:
            continue
        seen.add(identity)
        out.append(Candidate(entry, link, key))
    return out


def select(
    found: Sequence[Candidate],
    *,
    known_keys: set[str],
    known_entry_ids: set[str],
    cap: int,
    decoding: bool,
) -> Selection:
    """New entries first, at most ``cap`` of them; the rest are counted as left.

    ``known_keys`` are canonical URLs already stored (by any feed); ``known_entry_ids`` are
    entry ids this feed already stored, which is how an undecoded Google News link is known
    without asking Google again. With ``decoding`` off, Google News article links are skipped.
    """
    take: list[Candidate] = []
    known = left = 0
    skipped: Counter[str] = Counter()
    for candidate in found:
        if _is_known(candidate, known_keys, known_entry_ids):
            known += 1
        elif candidate.link.kind is LinkKind.UNUSABLE:
            skipped[candidate.link.reason or "aggregator link without an article"] += 1
        elif candidate.link.kind is LinkKind.NEEDS_DECODING and not decoding:
            skipped[DECODING_OFF] += 1
        elif len(take) < cap:
            take.append(candidate)
        else:
            left += 1
    return Selection(take=take, known=known, left=left, skipped=skipped)


def _is_known(candidate: Candidate, known_keys: set[str], known_entry_ids: set[str]) -> bool:
    if candidate.key is not None:
        return candidate.key in known_keys
    return candidate.entry.entry_id is not None and candidate.entry.entry_id in known_entry_ids


def describe_skipped(skipped: Counter[str]) -> str | None:
    """``"3 entries skipped: <reason>; 1 entry skipped: <reason>"``, most frequent first."""
    if not skipped:
        return None
    return "; ".join(
        f"{count} {'entry' if count == 1 else 'entries'} skipped: {reason}"
        for reason, count in skipped.most_common()
    )
