"""What every claim-matching method shares: its result record and its protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from matching.entities import MentionHit
from matching.sentences import Sentence
from matching.stance import Stance


@dataclass(frozen=True)
class ClaimHit:
    claim_id: str
    score: float
    method: str
    evidence: Sentence
    stance: Stance | None = None


class ClaimMatcher(Protocol):
    """Scores claims against an article's sentences; one best evidence sentence per claim."""

    method: str

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimHit]: ...
