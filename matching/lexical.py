"""The lexical claim matcher: entity coverage plus cue-term coverage, per sentence.

It is a method of its own and the first stage of the semantic one, which reuses its
(sentence, claim) pairs and their features.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from matching.claims import LEXICAL_MIN_TERM_SHARE, ClaimExplanation, ClaimHit
from matching.entities import MentionHit
from matching.kb import KbClaim, KnowledgeBase
from matching.sentences import Sentence, entities_per_sentence
from matching.stance import is_negative
from matching.text import normalise


@dataclass(frozen=True)
class PairFeatures:
    """Lexical evidence that sentence ``index`` makes ``claim``: the first stage of every method."""

    index: int
    claim: KbClaim
    entity_share: float  # share of the claim's entities named (or acted for) in this or the previous sentence
    term_share: float  # share of the claim's cue-term groups found in the sentence

    @property
    def lexical_score(self) -> float:
        """The lexical method's score; the semantic method ranks its candidates by it too."""
        return 0.4 * self.entity_share + 0.6 * self.term_share


#: A claim needs a subject and a predicate: a shorter line is a heading or a caption ("Afghan
#: Refugees" above a paragraph on deportations was matched as the refugee-spillover claim).
MIN_CLAIM_WORDS = 4


class LexicalClaimMatcher:
    """v1: entity coverage plus cue-term coverage, per sentence (with the previous one as context).

    score = 0.4 × entity share + 0.6 × term share

    A sentence must also hold at least half of the term groups: naming the right entities
    with one shared word is topical, not the claim.
    """

    method = "lexical"
    min_term_share = LEXICAL_MIN_TERM_SHARE

    def __init__(self, kb: KnowledgeBase) -> None:
        self._claims = list(kb.claims)
        # A mention counts for every entity it is part of (the ISI speaks for Pakistan).
        self._counts_for = {e.id: frozenset(kb.broader(e.id)) for e in kb.entities}
        self.cues = {claim.id: [compile_group(group) for group in claim.terms] for claim in self._claims}
        # The claim words a bare negation must touch to deny a claim (stance); none for a claim
        # whose statement is itself a negative, where only explicit denial words count. The
        # statement, not the variants: it is the claim's canonical form, and a variant's
        # incidental "failing to" does not make the claim negative.
        self.negation_cues = {c.id: [] if is_negative(c.statement) else self.cues[c.id] for c in self._claims}
        # Every cue alternative of every claim in one automaton: one pass per sentence finds
        # which (claim, group) cues it holds, instead of a regex search per group.
        self._terms = ahocorasick.Automaton()
        owners: dict[str, list[tuple[str, int]]] = {}
        whole: set[str] = set()  # alternatives that match a whole word only ("coup$")
        for claim in self._claims:
            for number, group in enumerate(claim.terms):
                for alternative in group.split("|"):
                    key, exact = _cue(alternative)
                    if key:
                        owners.setdefault(key, []).append((claim.id, number))
                        if exact:
                            whole.add(key)
        for key, groups in owners.items():
            self._terms.add_word(key, (len(key), key in whole, groups))
        if owners:
            self._terms.make_automaton()

    def _groups_found(self, folded: str) -> set[tuple[str, int]]:
        """The (claim id, group number) cues present in ``folded``, matched as word prefixes
        (or whole words, for an alternative written with a trailing ``$``)."""
        found: set[tuple[str, int]] = set()
        if self._terms.kind != ahocorasick.AHOCORASICK:
            return found
        for end, (length, whole_word, groups) in self._terms.iter(folded):
            start = end - length + 1
            if start > 0 and folded[start - 1].isalnum() and folded[start].isalnum():
                continue  # inside a word
            if whole_word and end + 1 < len(folded) and folded[end + 1].isalnum() and folded[end].isalnum():
                continue  # a longer word: "coup$" is not "couple"
            found.update(groups)
        return found

    def pair_features(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit]
    ) -> list[PairFeatures]:
        """Every (sentence, claim) pair whose context names at least one of the claim's entities;
        a "sentence" under :data:`MIN_CLAIM_WORDS` words is a heading, and only context."""
        per_sentence = entities_per_sentence(sentences, mentions)
        pairs: list[PairFeatures] = []
        for i, sentence in enumerate(sentences):
            named = per_sentence[i] | (per_sentence[i - 1] if i > 0 else set())
            if not named or len(sentence.text.split()) < MIN_CLAIM_WORDS:
                continue
            context = set().union(*(self._counts_for.get(e, {e}) for e in named))
            found = self._groups_found(normalise(sentence.text)[0])
            for claim in self._claims:
                entity_share = sum(e in context for e in claim.entities) / len(claim.entities)
                if entity_share == 0:
                    continue
                held = sum((claim.id, number) in found for number in range(len(claim.terms)))
                pairs.append(PairFeatures(i, claim, entity_share, held / len(claim.terms)))
        return pairs

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimHit]:
        return self.decide(self.pair_features(sentences, mentions), sentences, threshold)

    def decide(
        self, pairs: Iterable[PairFeatures], sentences: Sequence[Sentence], threshold: float
    ) -> list[ClaimHit]:
        """The lexical matches among ``pairs`` (the semantic method reuses its own pairs)."""
        scored = ((pair, round(pair.lexical_score, 4)) for pair in pairs if self.passes(pair, threshold))
        return best_per_claim(scored, sentences, threshold, self.method)

    def explain(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimExplanation]:
        return self.explain_pairs(self.pair_features(sentences, mentions), sentences, threshold)

    def explain_pairs(
        self, pairs: Iterable[PairFeatures], sentences: Sequence[Sentence], threshold: float
    ) -> list[ClaimExplanation]:
        """Each claim's best pair by lexical score, with the rule that decided it."""
        best: dict[str, PairFeatures] = {}
        for pair in pairs:
            current = best.get(pair.claim.id)
            if current is None or pair.lexical_score > current.lexical_score:
                best[pair.claim.id] = pair
        found = [
            ClaimExplanation(
                claim_id=pair.claim.id,
                sentence=sentences[pair.index],
                matched=self.passes(pair, threshold),
                method=self.method,
                score=round(pair.lexical_score, 4),
                threshold=threshold,
                entity_share=pair.entity_share,
                term_share=pair.term_share,
            )
            for pair in best.values()
        ]
        return sorted(found, key=lambda e: (not e.matched, -e.score, e.claim_id))

    def passes(self, pair: PairFeatures, threshold: float) -> bool:
        """Whether the lexical method matches ``pair``'s claim in ``pair``'s sentence."""
        return pair.term_share >= self.min_term_share and round(pair.lexical_score, 4) >= threshold


def _cue(alternative: str) -> tuple[str, bool]:
    """One cue alternative, normalised, and whether it must match a whole word: cues match as
    word prefixes ("financ" finds "financing"), unless written with a trailing ``$`` ("coup$"
    finds "coup" and not "couple", "eased$" not "easel")."""
    text = alternative.strip()
    exact = text.endswith("$")
    return normalise(text.removesuffix("$").strip())[0], exact


def compile_group(group: str) -> re.Pattern[str]:
    """'fund|financ|grey list|coup$' → word-prefix (or, with ``$``, whole-word) alternatives
    over normalised text."""
    patterns = []
    for alternative in group.split("|"):
        key, exact = _cue(alternative)
        if key:
            patterns.append(re.escape(key) + (r"\b" if exact else ""))
    return re.compile(r"\b(?:" + "|".join(patterns) + r")")


def best_per_claim(
    scored: Iterable[tuple[PairFeatures, float]], sentences: Sequence[Sentence], threshold: float, method: str
) -> list[ClaimHit]:
    """Keep, for each claim, its best-scoring sentence at or above ``threshold``."""
    best: dict[str, ClaimHit] = {}
    for pair, score in scored:
        claim_id = pair.claim.id
        if score >= threshold and (claim_id not in best or score > best[claim_id].score):
            features = (
                ("entity_share", round(pair.entity_share, 4)),
                ("term_share", round(pair.term_share, 4)),
            )
            best[claim_id] = ClaimHit(claim_id, score, method, sentences[pair.index], features=features)
    return sorted(best.values(), key=lambda m: -m.score)
