"""Ids for drafted entities and claims: readable slugs, made unique with a numeric suffix."""

from __future__ import annotations

import re

from matching.text import normalised_key


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens ("Jaish-e-Mohammed" → "jaish-e-mohammed")."""
    slug = re.sub(r"[^a-z0-9]+", "-", normalised_key(text)).strip("-")
    return slug or "x"


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... if taken; the id returned is added to ``taken``."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate
