"""Match clean text against the knowledge base: entity mentions, claim matches, relevance.

One :class:`Matcher` composes three swappable parts:

* :class:`EntityMatcher` — every alias of every entity in one Aho-Corasick pass over a
  normalised copy of the text (case folded, diacritics dropped, runs of spaces and dashes
  made one space) with a map back to the original character offsets. Word boundaries are
  enforced; acronym-like aliases (ISI, LeT, IS-K) must match case exactly; overlapping hits
  keep the longest ("Tehreek-e-Taliban Pakistan" wins over "Taliban").
* a :class:`ClaimMatcher` — v1 is :class:`LexicalClaimMatcher`; the matching-quality work
  adds a semantic one behind the same protocol.
* :func:`relevance` — a 0..1 theme score from the distinct entities and claim scores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import ahocorasick

from ingest.kb import Claim, KnowledgeBase
from ingest.stance import Stance, detect_stance, is_negative
from ingest.text import normalise


@dataclass(frozen=True)
class Mention:
    entity_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ClaimMatch:
    claim_id: str
    score: float
    method: str
    evidence: Sentence
    stance: Stance | None = None


@dataclass(frozen=True)
class MatchResult:
    mentions: list[Mention]
    claims: list[ClaimMatch]
    relevance: float

    def mention_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mention in self.mentions:
            counts[mention.entity_id] = counts.get(mention.entity_id, 0) + 1
        return counts


def _is_acronym(alias: str) -> bool:
    """Aliases like ISI, TTP, LeT, JeM, IS-K are matched case-sensitively ("let" is not LeT);
    transliterated names like Lashkar-e-Taiba are not acronyms, whatever their capitals."""
    letters = [c for c in alias if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return " " not in alias.strip() and capitals >= 2 and capitals * 2 >= len(letters)


# --- entities ------------------------------------------------------------------------------


class EntityMatcher:
    #: An ambiguous alias counts only if an unambiguous mention of another entity lies this
    #: close (characters, either side): about the sentence and its neighbours.
    context_window = 250

    def __init__(self, kb: KnowledgeBase) -> None:
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[tuple[str, str | None]]] = {}
        self._needs_context: set[tuple[str, str]] = set()
        for entity in kb.entities:
            for form in entity.surface_forms:
                key, _ = normalise(form)
                key = key.strip()
                if not key:
                    continue
                exact = normalise(form, fold_case=False)[0].strip() if _is_acronym(form) else None
                patterns.setdefault(key, []).append((entity.id, exact))
            for form in entity.context_aliases:
                self._needs_context.add((entity.id, normalise(form)[0].strip()))
            for phrase in entity.not_within:
                patterns.setdefault(normalise(phrase)[0].strip(), []).append((_NOT_A_MENTION, None))
        for key, owners in patterns.items():
            self._automaton.add_word(key, (len(key), owners))
        self._empty = not patterns
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Mention]:
        if self._empty or not text:
            return []
        folded, index = normalise(text)
        hits: list[tuple[int, int, str]] = []
        ambiguous: set[int] = set()  # start positions of hits on a context alias
        for end_pos, (length, owners) in self._automaton.iter(folded):
            start_pos = end_pos - length + 1
            if not _at_word_boundary(folded, start_pos, end_pos + 1):
                continue
            original = text[index[start_pos] : index[end_pos] + 1]
            for entity_id, exact in owners:
                if exact is not None and normalise(original, fold_case=False)[0] != exact:
                    continue  # an acronym alias must match its case exactly
                hits.append((start_pos, end_pos + 1, entity_id))
                if (entity_id, folded[start_pos : end_pos + 1]) in self._needs_context:
                    ambiguous.add(start_pos)
                break
        mentions: list[Mention] = []
        needing_context: list[Mention] = []
        taken_until = -1
        for start_pos, end_pos, entity_id in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
            if start_pos < taken_until:
                continue  # inside a longer mention already taken
            taken_until = end_pos
            if entity_id == _NOT_A_MENTION:
                continue  # a phrase that covers an alias but names something else
            start, end = index[start_pos], index[end_pos - 1] + 1
            mention = Mention(entity_id, start, end, text[start:end])
            mentions.append(mention)
            if start_pos in ambiguous:
                needing_context.append(mention)
        if not needing_context:
            return mentions
        anchors = [m for m in mentions if m not in needing_context]
        return [
            m
            for m in mentions
            if m not in needing_context
            or any(
                a.entity_id != m.entity_id and abs(a.start - m.start) <= self.context_window for a in anchors
            )
        ]


#: The owner of a ``not_within`` phrase: it wins the longest-match contest and is then dropped.
_NOT_A_MENTION = ""


def _at_word_boundary(text: str, start: int, end: int) -> bool:
    """No letter or digit glued to the hit's edges; an edge that is itself punctuation ("US$")
    needs no boundary."""
    before = text[start - 1] if start > 0 and text[start].isalnum() else " "
    after = text[end] if end < len(text) and text[end - 1].isalnum() else " "
    return not before.isalnum() and not after.isalnum()


# --- sentences -----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-•*])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen col lt maj capt sgt st jr sr no vs etc inc ltd co corp u.s u.k e.g i.e".split()
)


def split_sentences(text: str) -> list[Sentence]:
    """Split into sentences with offsets; headings and paragraphs without a full stop count too."""
    sentences: list[Sentence] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        last_word = text[start : boundary.start()].rsplit(None, 1)[-1:] or [""]
        if last_word[0].rstrip(".").lower() in _ABBREVIATIONS:
            continue
        _append_lines(sentences, text, start, boundary.start())
        start = boundary.end()
    _append_lines(sentences, text, start, len(text))
    return sentences


def _append_lines(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    """Lines inside a chunk are separate units (trafilatura puts headings on their own line)."""
    for match in re.finditer(r"[^\n]+", text[start:end]):
        piece = match.group()
        stripped = piece.strip()
        if len(stripped) < 3:
            continue
        offset = start + match.start() + (len(piece) - len(piece.lstrip()))
        sentences.append(Sentence(offset, offset + len(stripped), stripped))


# --- claims --------------------------------------------------------------------------------


class ClaimMatcher(Protocol):
    """Scores claims against an article's sentences; one best evidence sentence per claim."""

    method: str

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[Mention], threshold: float
    ) -> list[ClaimMatch]: ...


@dataclass(frozen=True)
class PairFeatures:
    """Lexical evidence that sentence ``index`` makes ``claim``: the first stage of every method."""

    index: int
    claim: Claim
    entity_share: float  # share of the claim's entities named (or acted for) in this or the previous sentence
    term_share: float  # share of the claim's cue-term groups found in the sentence

    @property
    def lexical_score(self) -> float:
        """The lexical method's score; the semantic method ranks its candidates by it too."""
        return 0.4 * self.entity_share + 0.6 * self.term_share


class LexicalClaimMatcher:
    """v1: entity coverage plus cue-term coverage, per sentence (with the previous one as context).

    score = 0.4 × entity share + 0.6 × term share

    A sentence must also hold at least half of the term groups: naming the right entities
    with one shared word is topical, not the claim.
    """

    method = "lexical"
    min_term_share = 0.5

    def __init__(self, kb: KnowledgeBase) -> None:
        self._claims = list(kb.claims)
        # A mention counts for every entity it is part of (the ISI speaks for Pakistan).
        self._counts_for = {e.id: frozenset(kb.broader(e.id)) for e in kb.entities}
        self.cues = {claim.id: [_compile_group(group) for group in claim.terms] for claim in self._claims}
        # The claim words a bare negation must touch to deny a claim (stance); none for a claim
        # whose statement is itself a negative, where only explicit denial words count. The
        # statement, not the variants: it is the claim's canonical form, and a variant's
        # incidental "failing to" does not make the claim negative.
        self.negation_cues = {c.id: [] if is_negative(c.statement) else self.cues[c.id] for c in self._claims}
        # Every cue alternative of every claim in one automaton: one pass per sentence finds
        # which (claim, group) cues it holds, instead of a regex search per group.
        self._terms = ahocorasick.Automaton()
        owners: dict[str, list[tuple[str, int]]] = {}
        for claim in self._claims:
            for number, group in enumerate(claim.terms):
                for alternative in group.split("|"):
                    key = normalise(alternative.strip())[0]
                    if key:
                        owners.setdefault(key, []).append((claim.id, number))
        for key, groups in owners.items():
            self._terms.add_word(key, (len(key), groups))
        if owners:
            self._terms.make_automaton()

    def _groups_found(self, folded: str) -> set[tuple[str, int]]:
        """The (claim id, group number) cues present in ``folded``, matched as word prefixes."""
        found: set[tuple[str, int]] = set()
        if self._terms.kind != ahocorasick.AHOCORASICK:
            return found
        for end, (length, groups) in self._terms.iter(folded):
            start = end - length + 1
            if start == 0 or not folded[start - 1].isalnum() or not folded[start].isalnum():
                found.update(groups)
        return found

    def pair_features(self, sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> list[PairFeatures]:
        """Every (sentence, claim) pair whose context names at least one of the claim's entities."""
        per_sentence = _entities_per_sentence(sentences, mentions)
        pairs: list[PairFeatures] = []
        for i, sentence in enumerate(sentences):
            named = per_sentence[i] | (per_sentence[i - 1] if i > 0 else set())
            if not named:
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
        self, sentences: Sequence[Sentence], mentions: Sequence[Mention], threshold: float
    ) -> list[ClaimMatch]:
        return self.decide(self.pair_features(sentences, mentions), sentences, threshold)

    def decide(
        self, pairs: Iterable[PairFeatures], sentences: Sequence[Sentence], threshold: float
    ) -> list[ClaimMatch]:
        """The lexical matches among ``pairs`` (the semantic method reuses its own pairs)."""
        scored = ((pair, round(pair.lexical_score, 4)) for pair in pairs if self.passes(pair, threshold))
        return best_per_claim(scored, sentences, threshold, self.method)

    def passes(self, pair: PairFeatures, threshold: float) -> bool:
        """Whether the lexical method matches ``pair``'s claim in ``pair``'s sentence."""
        return pair.term_share >= self.min_term_share and round(pair.lexical_score, 4) >= threshold


def best_per_claim(
    scored: Iterable[tuple[PairFeatures, float]], sentences: Sequence[Sentence], threshold: float, method: str
) -> list[ClaimMatch]:
    """Keep, for each claim, its best-scoring sentence at or above ``threshold``."""
    best: dict[str, ClaimMatch] = {}
    for pair, score in scored:
        claim_id = pair.claim.id
        if score >= threshold and (claim_id not in best or score > best[claim_id].score):
            best[claim_id] = ClaimMatch(claim_id, score, method, sentences[pair.index])
    return sorted(best.values(), key=lambda m: -m.score)


def _compile_group(group: str) -> re.Pattern[str]:
    """'fund|financ|grey list' → word-prefix alternatives over normalised text."""
    alternatives = [normalise(a.strip())[0] for a in group.split("|") if a.strip()]
    return re.compile(r"\b(?:" + "|".join(re.escape(a) for a in alternatives) + r")")


def _entities_per_sentence(sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> list[set[str]]:
    found: list[set[str]] = [set() for _ in sentences]
    i = 0
    for mention in sorted(mentions, key=lambda m: m.start):
        while i < len(sentences) and sentences[i].end <= mention.start:
            i += 1
        if i < len(sentences) and sentences[i].start <= mention.start:
            found[i].add(mention.entity_id)
    return found


# --- relevance and the facade --------------------------------------------------------------


def relevance(kb: KnowledgeBase, mentions: Sequence[Mention], claims: Sequence[ClaimMatch]) -> float:
    """0..1: saturating sum of distinct entity weights and twice the claim scores.

    One mention of "Pakistan" (weight 0.3) scores ~0.1; the Taliban and the ISI together
    with one claim match score above 0.6. The alert threshold is a setting.
    """
    weights = {e.id: e.weight for e in kb.entities}
    evidence = sum(weights.get(eid, 0.0) for eid in {m.entity_id for m in mentions})
    evidence += 2 * sum(c.score for c in claims)
    return round(1 - math.exp(-evidence / 3), 4)


class Matcher:
    """Entity matching, claim matching and relevance for one text. Build once, reuse."""

    def __init__(
        self, kb: KnowledgeBase, claim_matcher: ClaimMatcher | None = None, threshold: float = 0.55
    ) -> None:
        self.kb = kb
        self.entities = EntityMatcher(kb)
        lexical = LexicalClaimMatcher(kb)
        self.claims: ClaimMatcher = claim_matcher or lexical
        self.threshold = threshold
        self._cues = lexical.negation_cues  # the claim words stance looks for

    def match(self, text: str) -> MatchResult:
        mentions = self.entities.find(text)
        if not mentions:
            return MatchResult(mentions, [], 0.0)
        sentences = split_sentences(text)
        claims = [
            replace(
                match,
                stance=detect_stance(
                    match.evidence.text,
                    _previous(sentences, match.evidence),
                    self._cues.get(match.claim_id, ()),
                ),
            )
            for match in self.claims.match(sentences, mentions, self.threshold)
        ]
        return MatchResult(mentions, claims, relevance(self.kb, mentions, claims))


def _previous(sentences: Sequence[Sentence], sentence: Sentence) -> str | None:
    before = [s for s in sentences if s.end <= sentence.start]
    return before[-1].text if before else None
