"""Grouping the names of one entity: a union-find over normalised keys.

Entity-name candidates (:mod:`kb.names`) group the surface forms seen in one text; the draft
(:mod:`kb.drafting`) groups candidates across documents.
"""

from __future__ import annotations


class KeyGroups:
    """Union-find over normalised keys: every surface form of one entity ends up in one group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
