"""Top lists for a period: outlets, entities, claims, and what co-occurs with an entity."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopItem:
    """One line of a top list: ``count`` articles, ``share`` of the period's stored articles."""

    key: str
    label: str
    count: int
    share: float
    detail: dict[str, int] = field(default_factory=dict)  # stances for claims, on-theme for outlets

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "share": round(self.share, 6),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TopLists:
    since: str
    until: str
    total: int  # stored articles in the period
    sources: list[TopItem]
    entities: list[TopItem]
    claims: list[TopItem]
    cooccurring: list[TopItem] = field(default_factory=list)
    with_entity: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "since": self.since,
            "until": self.until,
            "total": self.total,
            "sources": [i.to_json() for i in self.sources],
            "entities": [i.to_json() for i in self.entities],
            "claims": [i.to_json() for i in self.claims],
            "with_entity": self.with_entity,
            "cooccurring": [i.to_json() for i in self.cooccurring],
        }


def ranked(
    counts: dict[str, int],
    *,
    total: int,
    labels: dict[str, str],
    limit: int,
    details: dict[str, dict[str, int]] | None = None,
) -> list[TopItem]:
    """The ``limit`` largest counts, ties broken by key so the order is stable."""
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        TopItem(key, labels.get(key, key), n, n / total if total else 0.0, (details or {}).get(key, {}))
        for key, n in best
    ]
