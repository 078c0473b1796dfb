"""Match clean text against the knowledge base: entity mentions, claim matches, relevance.

One :class:`Matcher` composes three swappable parts:

* :class:`~matching.entities.EntityMatcher` finds entity mentions;
* a :class:`~matching.claims.ClaimMatcher` finds claims: :class:`~matching.lexical.LexicalClaimMatcher`,
  or :class:`~matching.semantic.SemanticClaimMatcher` behind the same protocol;
* a :class:`~matching.relevance.RelevanceModel` scores the text's theme relevance, 0..1 (without
  one, :func:`relevance` turns the entities and claims found into a score).

Stance (asserts / reports / denies) is decided per claim match from its evidence sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from matching.claims import ClaimExplanation, ClaimHit, ClaimMatcher
from matching.entities import EntityMatcher, MentionHit
from matching.frames import FrameMatcher
from matching.kb import KnowledgeBase
from matching.lexical import LexicalClaimMatcher
from matching.relevance import RelevanceModel
from matching.sentences import Sentence, split_sentences
from matching.stance import Stance, detect_stance


@dataclass(frozen=True)
class MatchResult:
    mentions: list[MentionHit]
    claims: list[ClaimHit]
    relevance: float

    def mention_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mention in self.mentions:
            counts[mention.entity_id] = counts.get(mention.entity_id, 0) + 1
        return counts


def relevance(kb: KnowledgeBase, mentions: Sequence[MentionHit], claims: Sequence[ClaimHit]) -> float:
    """0..1: saturating sum of distinct entity weights and twice the claim scores (used when no
    relevance model is configured; on real news it passes 42% of off-theme articles).

    One mention of "Pakistan" (weight 0.3) scores ~0.1; the Taliban and the ISI together
    with one claim match score above 0.6. The alert threshold is a setting.
    """
    weights = {e.id: e.weight for e in kb.entities}
    evidence = sum(weights.get(eid, 0.0) for eid in {m.entity_id for m in mentions})
    evidence += 2 * sum(c.score for c in claims)
    return round(1 - math.exp(-evidence / 3), 4)


#: Texts at least this long are articles, whose topic the relevance model can judge (it was
#: fitted on articles of 50 to 3,000 words); a sentence or a paragraph has no topic to judge.
ARTICLE_WORDS = 120


class Matcher:
    """Entity matching, claim matching and relevance for one text. Build once, reuse.

    With a relevance model, an article scoring below ``claim_min_relevance`` is about something
    else (sport, markets, weather), and is not searched for claims: a claim's words there are
    coincidence ("recovery ... after ... significant" in a market report read as US-Pakistan
    ties). Measured out of fold on 1,109 labelled articles, a floor of 0.1 took the off-theme
    articles with a claim from 18 to 3 of 594 and kept all 91 on-theme articles with one; it
    also spares the encoder most off-theme articles.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        claim_matcher: ClaimMatcher | None = None,
        threshold: float = 0.55,
        relevance_model: RelevanceModel | None = None,
        claim_min_relevance: float = 0.0,
        version: str | None = None,
    ) -> None:
        self.kb = kb
        # What a stored article records it was matched with (``Article.kb_version``): the
        # knowledge base's version, and from ``services.wiring.build_matcher`` also a digest of
        # the calibration, relevance model and settings, so a change to any of them reaches
        # stored articles through the workers' rematch (``services.rematch``).
        self.version = version or kb.full_version
        self.relevance_model = relevance_model
        self.claim_min_relevance = claim_min_relevance
        self.entities = EntityMatcher(kb)
        lexical = LexicalClaimMatcher(kb)
        self.claims: ClaimMatcher = claim_matcher or lexical
        self.threshold = threshold
        self._cues = lexical.negation_cues  # the claim words stance looks for
        self.frames = FrameMatcher(kb)

    def match(self, text: str) -> MatchResult:
        mentions, score, searched = self._survey(text)
        if not searched:
            return MatchResult(mentions, [], score or 0.0)
        sentences = split_sentences(text)
        found = self.claims.match(sentences, mentions, self.threshold)
        found += self._framed(sentences, mentions, {hit.claim_id for hit in found})
        claims = [replace(match, stance=self._stance(match, sentences)) for match in found]
        return MatchResult(mentions, claims, relevance(self.kb, mentions, claims) if score is None else score)

    def _stance(self, match: ClaimHit, sentences: Sequence[Sentence]) -> Stance:
        if match.stance is not None:  # a frame that takes a side ("ties are improving")
            return match.stance
        stance = detect_stance(
            match.evidence.text, _previous(sentences, match.evidence), self._cues.get(match.claim_id, ())
        )
        frame = self.frames.frame_of(match)
        if stance == "asserts" and frame is not None and frame.attributed:
            return "reports"  # "New Delhi's attempts to link Pakistan to the attack"
        return stance

    def _survey(self, text: str) -> tuple[list[MentionHit], float | None, bool]:
        """The text's mentions, its relevance score (None without a model), and whether it is
        searched for claims: not without a mention, nor an article below the claim floor (see
        the class docstring). What :meth:`match` and :meth:`explain` both decide first."""
        mentions = self.entities.find(text)
        score = self.relevance_model.score(text) if self.relevance_model is not None else None
        below_floor = score is not None and score < self.claim_min_relevance and is_article(text)
        return mentions, score, bool(mentions) and not below_floor

    def _framed(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], taken: set[str]
    ) -> list[ClaimHit]:
        """Frame matches of the claims the method did not take (frames add, never replace)."""
        return [hit for hit in self.frames.match(sentences, mentions) if hit.claim_id not in taken]

    def explain(self, text: str, near: int = 5) -> list[ClaimExplanation]:
        """The claims that matched ``text`` and the ``near`` closest that did not, each with its
        best sentence and what decided it (``mediamon match --explain``); none for an article
        below the claim floor, which :meth:`match` does not search for claims either."""
        mentions, _score, searched = self._survey(text)
        if not searched:
            return []
        sentences = split_sentences(text)
        explained = self.claims.explain(sentences, mentions, self.threshold)
        taken = {e.claim_id for e in explained if e.matched}
        framed = {
            hit.claim_id: self._frame_explanation(hit) for hit in self._framed(sentences, mentions, taken)
        }
        # a frame's match replaces the method's near miss of the same claim
        explained = [e for e in explained if e.claim_id not in framed] + list(framed.values())
        matched = [e for e in explained if e.matched]
        return matched + [e for e in explained if not e.matched][:near]

    def _frame_explanation(self, hit: ClaimHit) -> ClaimExplanation:
        frame = self.frames.frame_of(hit)
        assert frame is not None  # called for frame matches only
        return ClaimExplanation(
            claim_id=hit.claim_id,
            sentence=hit.evidence,
            matched=True,
            method=hit.method,
            score=hit.score,
            threshold=self.threshold,
            # a filled frame names all its actors and holds all its cue slots
            entity_share=1.0,
            term_share=1.0,
            frame=frame.says,
        )


def is_article(text: str) -> bool:
    """Long enough to be an article (a snippet or a sentence is always searched for claims)."""
    return len(text.split()) >= ARTICLE_WORDS


def _previous(sentences: Sequence[Sentence], sentence: Sentence) -> str | None:
    before = [s for s in sentences if s.end <= sentence.start]
    return before[-1].text if before else None
