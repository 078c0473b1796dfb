"""Sentences with their offsets, and which entities each one names.

Every matching method and the knowledge-base drafts work sentence by sentence; this is the
one splitter and the one mention-to-sentence mapping they share.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from matching.entities import MentionHit


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


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


def sentence_at(sentences: Sequence[Sentence], position: int) -> int | None:
    """The index of the sentence holding character ``position``, or None between sentences."""
    index = bisect.bisect_right([s.start for s in sentences], position) - 1
    if index < 0 or position >= sentences[index].end:
        return None
    return index


def entities_per_sentence(sentences: Sequence[Sentence], mentions: Sequence[MentionHit]) -> list[set[str]]:
    """For each sentence, the ids of the entities mentioned in it."""
    found: list[set[str]] = [set() for _ in sentences]
    i = 0
    for mention in sorted(mentions, key=lambda m: m.start):
        while i < len(sentences) and sentences[i].end <= mention.start:
            i += 1
        if i < len(sentences) and sentences[i].start <= mention.start:
            found[i].add(mention.entity_id)
    return found
