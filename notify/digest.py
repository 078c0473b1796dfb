"""What a digest and an alert say, built from stored articles by plain functions.

Each story is shown once: the articles of one story (wire copies, rewrites, and duplicates of
the same text at another URL) become one :class:`~notify.records.StoryItem` led by the
earliest, with every outlet and its time. A digest groups stories by claim first (the claims
that match most stories first), then shows the rest under the entity they mention most; a
story already shown under a claim is not repeated under an entity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from notify.kinds import Mode
from notify.records import (
    Alert,
    ClaimSection,
    ClaimTrend,
    Digest,
    EntitySection,
    Outlet,
    SinceLast,
    SpikeNote,
    StoryItem,
)
from notify.rules import Filter, StoredArticle, StoredClaim, wanted_claims, wants

#: A digest is read in five minutes, and Gmail clips a message past 102 kB: stories per section
#: and sections are capped (at most 36 stories, about 100 kB of HTML); what the caps leave out
#: is counted in the message ("and 3 more"), never silently dropped.
MAX_PER_SECTION = 4
MAX_CLAIM_SECTIONS = 6
MAX_ENTITY_SECTIONS = 3
MAX_TRENDS = 3  # per line of "since your last digest"


def story_item(articles: Sequence[StoredArticle], claim: StoredClaim | None = None) -> StoryItem:
    """One story from its articles: led by the earliest, every outlet once, the evidence of
    ``claim`` (from the article that matched it best) with the matched words marked."""
    ordered = sorted(articles, key=lambda a: (a.published, a.article_id))
    lead = ordered[0]
    outlets: dict[str, Outlet] = {}
    for article in ordered:
        for site, url, when in ((article.site, article.url, article.published), *article.copies):
            if site not in outlets or when < outlets[site].published:
                outlets[site] = Outlet(site, url, when)
    lead_outlet = outlets.pop(lead.site)
    evidence, stance, why = "", None, ""
    highlights: tuple[tuple[int, int], ...] = ()
    if claim is not None:
        source, chosen = max(
            ((a, c) for a in ordered for c in a.claims if c.claim_id == claim.claim_id),
            key=lambda pair: pair[1].score,
        )
        evidence, stance = chosen.evidence, chosen.stance
        highlights = highlight_spans(source, chosen)
        why = why_matched(chosen.method, chosen.features)
    return StoryItem(
        story_id=lead.story_id,
        title=lead.title,
        url=lead.url,
        published=lead.published,
        outlets=(lead_outlet, *sorted(outlets.values(), key=lambda o: o.published)),
        evidence=evidence,
        highlights=highlights,
        stance=stance,
        relevance=max(a.relevance for a in ordered),
        why=why,
    )


def why_matched(method: str, features: Mapping[str, float] | None) -> str:
    """Why a stored match was made, for a reader: how close the sentence came to the claim's
    wording and how much of the claim's own words and subjects it holds ("" when not kept)."""
    if not features:
        return ""
    if method == "frame":  # see matching.frames
        return "matched by a press frame of the claim: its actors and its act, in the press's order"
    parts = []
    if "cosine" in features:
        parts.append(f"close in meaning to the claim (similarity {features['cosine']:.2f})")
    if "term_share" in features:
        parts.append(f"{features['term_share']:.0%} of its key terms")
    if "entity_share" in features:
        parts.append(f"{features['entity_share']:.0%} of its subjects named")
    if features.get("denial"):
        parts.append("worded as a denial")
    how = "by meaning" if method == "semantic" else "by its words" if method == "lexical" else ""
    return f"matched {how}: {', '.join(parts)}" if how else ", ".join(parts)


def highlight_spans(article: StoredArticle, claim: StoredClaim) -> tuple[tuple[int, int], ...]:
    """The entity mentions inside the evidence sentence, as spans of the evidence text."""
    spans = {
        (start - claim.evidence_start, end - claim.evidence_start)
        for _, start, end in article.mentions
        if claim.evidence_start <= start and end <= claim.evidence_end
    }
    return tuple(sorted(spans))


def build_digest(
    *,
    subscription_id: int,
    address: str,
    mode: Mode,
    timezone: str,
    window: tuple[datetime, datetime],
    rule: Filter,
    articles: Iterable[StoredArticle],
    statements: Mapping[str, str],
    entity_names: Mapping[str, str],
    seen_before: frozenset[str] = frozenset(),
    previous_counts: Mapping[str, int] | None = None,
    spikes: Sequence[SpikeNote] = (),
) -> Digest:
    """The digest of one window for one subscription.

    ``seen_before`` holds the claims matched before the window (for "first seen"),
    ``previous_counts`` each claim's matches in the window before (for "growing"), ``spikes``
    the window's spiking days, strongest first (``services.spikes``)."""
    wanted = [a for a in articles if wants(rule, a)]
    stories = _by_story(wanted)
    claim_stories: dict[str, dict[int, StoredClaim]] = defaultdict(dict)
    counts: Counter[str] = Counter()
    denied: Counter[str] = Counter()
    for story_id, members in stories.items():
        for article in members:
            for claim in wanted_claims(rule, article):
                counts[claim.claim_id] += 1
                if claim.stance == "denies":
                    denied[claim.claim_id] += 1
                best = claim_stories[claim.claim_id].get(story_id)
                if best is None or claim.score > best.score:
                    claim_stories[claim.claim_id][story_id] = claim
    shown: set[int] = set()
    claims: list[ClaimSection] = []
    ranked = sorted(claim_stories, key=lambda c: (-len(claim_stories[c]), c))
    for claim_id in ranked[:MAX_CLAIM_SECTIONS]:
        chosen = _top(stories, claim_stories[claim_id])
        items = [story_item(stories[sid], claim_stories[claim_id][sid]) for sid in chosen]
        shown.update(claim_stories[claim_id])  # under an entity again would be twice
        more = len(claim_stories[claim_id]) - len(items)
        claims.append(ClaimSection(claim_id, statements.get(claim_id, claim_id), tuple(items), more))
    for claim_id in ranked[MAX_CLAIM_SECTIONS:]:
        shown.update(claim_stories[claim_id])
    entities, more_entities = _entity_sections(stories, shown, rule, entity_names)
    previous = previous_counts or {}
    first_seen = sorted((c for c in counts if c not in seen_before), key=lambda c: (-counts[c], c))
    growing = sorted(
        (c for c in counts if c in seen_before and counts[c] > previous.get(c, 0)),
        key=lambda c: (-(counts[c] - previous.get(c, 0)), c),
    )
    denials = sorted(denied, key=lambda c: (-denied[c], c))
    spiking = [s for s in spikes if _wants_spike(rule, s)]
    since = SinceLast(
        first_seen=tuple(_trend(c, counts, previous, statements) for c in first_seen[:MAX_TRENDS]),
        growing=tuple(_trend(c, counts, previous, statements) for c in growing[:MAX_TRENDS]),
        denied=tuple(_trend(c, denied, previous, statements) for c in denials[:MAX_TRENDS]),
        spiking=tuple(spiking[:MAX_TRENDS]),
        more=sum(max(0, len(group) - MAX_TRENDS) for group in (first_seen, growing, denials, spiking)),
    )
    return Digest(
        subscription_id=subscription_id,
        address=address,
        mode=mode,
        window_start=window[0],
        window_end=window[1],
        timezone=timezone,
        claims=tuple(claims),
        entities=entities,
        since_last=since,
        more_claims=max(0, len(ranked) - MAX_CLAIM_SECTIONS),
        more_entities=more_entities,
        total_stories=len(stories),
    )


def build_alert(
    *,
    subscription_id: int,
    address: str,
    timezone: str,
    window: tuple[datetime, datetime],
    rule: Filter,
    articles: Iterable[StoredArticle],
    room: int,
) -> Alert | None:
    """One alert for what arrived in one window, or None if nothing is wanted. ``room`` is how
    many stories the message may list (the hourly cap); the rest is counted, not dropped."""
    stories = _by_story([a for a in articles if wants(rule, a)])
    if not stories:
        return None
    items = []
    for members in stories.values():
        claims = [c for a in members for c in wanted_claims(rule, a)]
        items.append(story_item(members, max(claims, key=lambda c: c.score) if claims else None))
    items.sort(key=lambda s: (-s.relevance, s.published))
    listed = max(1, room)
    return Alert(
        subscription_id=subscription_id,
        address=address,
        window_start=window[0],
        window_end=window[1],
        timezone=timezone,
        stories=tuple(items[:listed]),
        overflow=max(0, len(items) - listed),
    )


def _by_story(articles: Iterable[StoredArticle]) -> dict[int, list[StoredArticle]]:
    stories: dict[int, list[StoredArticle]] = defaultdict(list)
    for article in articles:
        stories[article.story_id].append(article)
    return dict(stories)


def _top(stories: Mapping[int, Sequence[StoredArticle]], story_ids: Iterable[int]) -> list[int]:
    """The stories a section shows: the most relevant first, then the earliest."""
    ranked = sorted(
        story_ids,
        key=lambda sid: (-max(a.relevance for a in stories[sid]), min(a.published for a in stories[sid])),
    )
    return ranked[:MAX_PER_SECTION]


def _entity_sections(
    stories: Mapping[int, Sequence[StoredArticle]],
    shown: set[int],
    rule: Filter,
    names: Mapping[str, str],
) -> tuple[tuple[EntitySection, ...], int]:
    """Stories not shown under a claim, each under the entity its articles mention most (among
    the subscription's entities, if it names any); and how many entity sections the cap left out."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for story_id, members in stories.items():
        if story_id in shown:
            continue
        mentioned = Counter(e for a in members for e, _, _ in a.mentions)
        if rule.entity_ids:
            mentioned = Counter({e: n for e, n in mentioned.items() if e in rule.entity_ids})
        if not mentioned:
            continue
        grouped[max(mentioned, key=lambda e: (mentioned[e], e))].append(story_id)
    ranked = sorted(grouped, key=lambda e: (-len(grouped[e]), e))
    sections = []
    for entity_id in ranked[:MAX_ENTITY_SECTIONS]:
        items = tuple(story_item(stories[sid]) for sid in _top(stories, grouped[entity_id]))
        sections.append(
            EntitySection(
                entity_id, names.get(entity_id, entity_id), items, len(grouped[entity_id]) - len(items)
            )
        )
    return tuple(sections), max(0, len(ranked) - MAX_ENTITY_SECTIONS)


def _wants_spike(rule: Filter, spike: SpikeNote) -> bool:
    """A reader who follows some entities or claims hears of their spikes only; a reader with
    no filter, of every spike."""
    if not (rule.entity_ids or rule.claim_ids):
        return True
    wanted = rule.entity_ids if spike.kind == "entity" else rule.claim_ids
    return spike.key in wanted


def _trend(
    claim_id: str, counts: Mapping[str, int], previous: Mapping[str, int], statements: Mapping[str, str]
) -> ClaimTrend:
    return ClaimTrend(
        claim_id, statements.get(claim_id, claim_id), counts[claim_id], previous.get(claim_id, 0)
    )
