"""The cue terms of a draft claim: the assertion verbs of its sentence, then its rarest content stems.

A sentence becomes a claim only if it asserts something (:data:`kb.lexicon.ASSERTIONS`); its terms
are what the lexical matcher looks for in articles. Entity mentions are blanked out first, so
terms say what is claimed, not who about; words are ranked by inverse document frequency over
the candidate sentences of all documents, and stemmed (:func:`kb.stemming.stem`) to match as
prefixes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from kb.lexicon import ASSERTIONS, STOPWORDS
from kb.stemming import stem
from matching.sentences import Sentence
from matching.text import normalise

_ASSERTION_PATTERNS = [
    (name, re.compile(r"\b(?:" + pattern + r")\b"), group) for name, (pattern, group) in ASSERTIONS.items()
]


def without_mentions(sentence: Sentence, mentions: Sequence[object]) -> str:
    """The sentence, normalised, with entity mentions blanked out."""
    chars = list(sentence.text)
    for mention in mentions:
        start, end = getattr(mention, "start", 0), getattr(mention, "end", 0)
        for i in range(start - sentence.start, end - sentence.start):
            chars[i] = " "
    return normalise("".join(chars))[0]


def inverse_document_frequency(sentences: Iterable[str]) -> dict[str, float]:
    """log((1 + sentences) / (1 + sentences with the word)) per normalised word: rare words score high."""
    counts: Counter[str] = Counter()
    total = 0
    for sentence in sentences:
        total += 1
        counts.update(set(re.findall(r"[a-z0-9]+", normalise(sentence)[0])))
    return {word: math.log((1 + total) / (1 + n)) for word, n in counts.items()}


def cue_terms(masked: str, entity_words: set[str], idf: dict[str, float]) -> tuple[str, ...] | None:
    """3–5 cue groups: the assertion verbs found (with synonyms), then the rarest content stems."""
    found: list[tuple[int, str]] = []
    covered: set[int] = set()
    for _, pattern, group in _ASSERTION_PATTERNS:
        hits = list(pattern.finditer(masked))
        if hits:
            found.append((hits[0].start(), group))
        for hit in hits:
            covered.update(range(hit.start(), hit.end()))
    if not found:
        return None
    groups = [group for _, group in sorted(found)[:3]]  # the first assertions of the sentence
    words: dict[str, tuple[float, int]] = {}
    for position, m in enumerate(re.finditer(r"[a-z0-9]+", masked)):
        word = m.group()
        if (
            m.start() in covered
            or word in STOPWORDS
            or word in entity_words
            or len(word) < 3
            or (word.endswith("ly") and len(word) > 5)  # adverbs are weak cues
            or (word.isdigit() and len(word) < 2)
        ):
            continue
        base = stem(word)
        score = idf.get(word, 0.0) + (2.0 if word.isdigit() else 0.0) + min(len(word), 10) / 10
        if base not in words or words[base][0] < score:
            words[base] = (score, position)
    ranked = sorted(words, key=lambda w: (-words[w][0], words[w][1]))
    for base in ranked:
        if len(groups) >= 5:
            break
        if any(base in g.split("|") for g in groups):
            continue
        groups.append(f"{base}|{base[:-2]}is" if base.endswith("iz") else base)
    return tuple(groups) if len(groups) >= 3 else None
