"""The smallest valid knowledge base, as the mapping a kb.yaml file holds: tests change one
field of a fresh copy to show what validation refuses, or load it to match against one claim."""

from __future__ import annotations

from typing import Any


def minimal_kb_data() -> dict[str, Any]:
    return {
        "version": "1",
        "sources": {"s": {"file": "a.txt", "title": "A"}},
        "entities": [
            {"id": "isi", "name": "Inter-Services Intelligence", "type": "organisation", "aliases": ["ISI"]},
            {"id": "taliban", "name": "Taliban", "type": "group"},
        ],
        "claims": [
            {
                "id": "c1",
                "statement": "The ISI arms the Taliban.",
                "entities": ["isi", "taliban"],
                "terms": ["arm|weapon"],
                "source": "s",
            }
        ],
    }
