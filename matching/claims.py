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
    # What decided the match, kept with it so a digest can say why it matched: the shares of the
    # claim's entities and cue terms; for the semantic method also the cosine to the claim's
    # closest wording and the margin over the next-closest claim.
    features: tuple[tuple[str, float], ...] = ()


#: The lexical rule's floor: a sentence must hold at least this share of a claim's cue-term
#: groups (naming the right entities with one shared word is topical, not the claim).
LEXICAL_MIN_TERM_SHARE = 0.5


@dataclass(frozen=True)
class ClaimExplanation:
    """Why a claim matched a text, or nearly did: its best sentence and what decided it.

    ``score`` is the deciding method's (the semantic blend, or the lexical score when the
    lexical stage decided), held against ``threshold``. ``cosine`` and ``margin`` are None
    where the encoder never saw the sentence (outside its budget, or the lexical method)."""

    claim_id: str
    sentence: Sentence
    matched: bool
    method: str  # what decided: "semantic", "lexical" or "frame"
    score: float
    threshold: float
    entity_share: float  # the claim's entities named in the sentence or the one before
    term_share: float  # the claim's cue-term groups found in the sentence
    cosine: float | None = None  # to the claim's closest wording
    margin: float | None = None  # over the next-closest claim (negative: another fits better)
    denial: bool = False  # the sentence denies the claim (stance cue)
    # Whether the encoder saw the sentence (within its per-text budget); None: no encoder in use.
    encoded: bool | None = None
    frame: str | None = None  # the press frame the sentence fills (method "frame"), in our words
    # ``threshold`` is the claim's own floor, above the method's (where real news misled the encoder)
    floor: bool = False

    @property
    def why(self) -> str:
        """In a few words, what made it match, or what kept it out."""
        if self.matched:
            if self.frame is not None:
                return f"fills the press frame “{self.frame}”"
            if self.method == "lexical":
                return f"lexical evidence {self.score:.2f} ≥ {self.threshold:.2f}: its cue terms and entities"
            return f"blend {self.score:.2f} ≥ {self.threshold:.2f}"
        if self.score >= self.threshold:  # the lexical rule: too few of the claim's own words
            reasons = [f"{self.method} score {self.score:.2f} ≥ {self.threshold:.2f}, but"]
        elif self.floor:
            reasons = [f"{self.method} score {self.score:.2f} < {self.threshold:.2f}, this claim's own floor"]
        else:
            reasons = [f"{self.method} score {self.score:.2f} < {self.threshold:.2f}"]
        if self.encoded is False:
            reasons.append("the encoder never saw the sentence (outside its per-text budget)")
        if self.term_share == 0:
            reasons.append("none of the claim's cue terms")
        elif self.method == "lexical" and self.term_share < LEXICAL_MIN_TERM_SHARE:
            reasons.append(f"only {self.term_share:.0%} of the cue-term groups (half needed)")
        if self.margin is not None and self.margin < 0:
            reasons.append(f"another claim fits the sentence better (margin {self.margin:+.2f})")
        if self.entity_share < 1:
            reasons.append(f"{self.entity_share:.0%} of the claim's entities named")
        head, rest = reasons[0], "; ".join(reasons[1:])
        if not rest:
            return head
        return f"{head} {rest}" if head.endswith("but") else f"{head}; {rest}"


class ClaimMatcher(Protocol):
    """Scores claims against an article's sentences; one best evidence sentence per claim."""

    method: str

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimHit]: ...

    def explain(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimExplanation]:
        """Every claim with a candidate sentence: its best one, matched or not, best first."""
        ...
