"""Claim frames: the press's own shapes of a claim (``KbFrame`` in the knowledge base).

Real news seldom restates an op-ed claim. It reports who accused whom of what ("New Delhi
blamed Islamabad for the attack without evidence"), with few of the claim's words and a cosine
to its wordings that overlaps sentences making no claim (see the real-prose figures in
``mediamon eval``). A frame names the actors and the act, in the order the press writes them;
a sentence that fills one makes the claim, whichever method runs, and says exactly why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from matching.claims import ClaimHit
from matching.entities import MentionHit
from matching.kb import KbFrame, KnowledgeBase
from matching.lexical import MIN_CLAIM_WORDS, compile_group
from matching.sentences import Sentence
from matching.text import normalise

Span = tuple[int, int]  # start and end in the sentence's text
_Places = dict[str, list[Span]]  # entity id → where the sentence names it
_WORD = re.compile(r"\w\w+")
_WORD_REST = re.compile(r"\w*")

#: A frame match's score: above every method's threshold, below a perfect lexical match.
FRAME_SCORE = 0.9
METHOD = "frame"


@dataclass(frozen=True)
class _Slot:
    entity: str | None  # an entity id, or None for cue terms
    cues: re.Pattern[str] | None = None


@dataclass(frozen=True)
class _Frame:
    claim_id: str
    number: int  # the frame's place in its claim's list (kept with the match)
    frame: KbFrame
    order: tuple[_Slot, ...]
    anywhere: tuple[_Slot, ...]
    unless: tuple[_Slot, ...]


class FrameMatcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        # A mention counts for every entity it is part of ("Islamabad" fills "@pakistan").
        self._counts_for = {e.id: frozenset(kb.broader(e.id)) for e in kb.entities}
        self._frames = [
            _Frame(
                claim.id,
                number,
                frame,
                tuple(_slot(s) for s in frame.order),
                tuple(_slot(s) for s in frame.anywhere),
                tuple(_slot(s) for s in frame.unless),
            )
            for claim in kb.claims
            for number, frame in enumerate(claim.frames)
        ]
        self.frames = {(f.claim_id, f.number): f.frame for f in self._frames}

    def match(self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit]) -> list[ClaimHit]:
        """Per claim, the first sentence that fills one of its frames (and the first frame it fills)."""
        if not self._frames:
            return []
        found: dict[str, ClaimHit] = {}
        for sentence in sentences:
            if len(sentence.text.split()) < MIN_CLAIM_WORDS:
                continue
            places = self._places(sentence, mentions)
            folded: tuple[str, list[int]] | None = None  # normalised once, if a frame's actors are named
            for frame in self._frames:
                if frame.claim_id in found or not _names_the_actors(frame, places):
                    continue
                folded = folded or normalise(sentence.text)
                if _fills(frame, places, sentence.text, *folded):
                    found[frame.claim_id] = ClaimHit(
                        frame.claim_id,
                        FRAME_SCORE,
                        METHOD,
                        sentence,
                        stance=frame.frame.stance,
                        features=(("frame", float(frame.number)),),
                    )
        return list(found.values())

    def frame_of(self, hit: ClaimHit) -> KbFrame | None:
        """The frame ``hit`` filled (None: another method found it)."""
        if hit.method != METHOD:
            return None
        return self.frames[(hit.claim_id, int(dict(hit.features)["frame"]))]

    def _places(self, sentence: Sentence, mentions: Sequence[MentionHit]) -> _Places:
        """Where each entity is named in the sentence (spans in the sentence's text)."""
        places: _Places = {}
        for mention in mentions:
            if sentence.start <= mention.start and mention.end <= sentence.end:
                span = (mention.start - sentence.start, mention.end - sentence.start)
                for entity_id in self._counts_for.get(mention.entity_id, {mention.entity_id}):
                    places.setdefault(entity_id, []).append(span)
        return places


def _slot(text: str) -> _Slot:
    if text.startswith("@"):
        return _Slot(entity=text[1:])
    return _Slot(entity=None, cues=compile_group(text))


def _names_the_actors(frame: _Frame, places: _Places) -> bool:
    """The cheap test first: every entity slot of the frame is named in the sentence."""
    return all(slot.entity is None or slot.entity in places for slot in frame.order + frame.anywhere)


def _fills(frame: _Frame, places: _Places, text: str, folded: str, index: list[int]) -> bool:
    if not _in_order(frame, places, text, folded, index):
        return False
    if not all(_positions(slot, places, folded, index) for slot in frame.anywhere):
        return False
    return not any(_positions(slot, places, folded, index) for slot in frame.unless)


def _in_order(frame: _Frame, places: _Places, text: str, folded: str, index: list[int]) -> bool:
    """The order slots are filled one after another, each at most ``near`` words after the last."""
    near = frame.frame.near
    reached: list[Span] | None = None  # where the slots so far can end
    for slot in frame.order:
        found = _positions(slot, places, folded, index)
        if reached is not None:
            found = [
                (start, end)
                for start, end in found
                if any(
                    start >= last_end and (near is None or _words(text[last_end:start]) <= near)
                    for _, last_end in reached
                )
            ]
        if not found:
            return False
        reached = found
    return True


def _words(text: str) -> int:
    # Words of two letters or more: a possessive's "s" or an initial does not push slots apart.
    return len(_WORD.findall(text))


def _positions(slot: _Slot, places: _Places, folded: str, index: list[int]) -> list[Span]:
    """Where the slot is filled in the sentence: an entity's mentions, or its cue terms."""
    if slot.entity is not None:
        return places.get(slot.entity, [])
    assert slot.cues is not None
    # A cue is a word's beginning ("accus"): its span runs to the end of the word ("accused").
    spans = []
    for found in slot.cues.finditer(folded):
        word_end = _WORD_REST.match(folded, found.end())
        end = word_end.end() if word_end else found.end()
        spans.append((index[found.start()], index[end - 1] + 1))
    return spans
