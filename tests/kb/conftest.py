"""Fixtures shared by the tests of kb/: the two seed documents, their draft, and the shipped KB
(written by analysts from the same two seeds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_KB_PATH
from kb.drafting import draft_kb
from matching.kb import KnowledgeBase, load_kb

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SHIPPED_KB = DEFAULT_KB_PATH


@pytest.fixture(scope="module")
def seeds() -> list[tuple[str, str]]:
    files = sorted(SEEDS.glob("*.txt"))
    assert len(files) == 2, f"expected the two seed documents in {SEEDS}"
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


@pytest.fixture(scope="module")
def draft(seeds) -> KnowledgeBase:
    return draft_kb(seeds)


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return load_kb(SHIPPED_KB)
