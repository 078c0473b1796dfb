"""Stories: which articles tell the same event, so that a story is shown once with "+N outlets".

An article joins the story of an earlier article when it is

* a **wire copy** of it — the same body under another headline, with a trimmed ending or an
  added paragraph: MinHash over 5-word shingles of the body's first 100 words, found with
  datasketch's LSH and kept at an estimated Jaccard of 0.5. A trimmed ending leaves the first
  100 words alone, and a paragraph of k added words there gives J ≈ (100 − k)/(100 + k), still
  ≥ 0.5 up to a third of the window; two outlets telling one event in their own words share
  few 5-word runs (labelled dev rewrites: median J 0.02, at most 0.31), so the bar sits clear;
* a **close rewrite** — the same event told in other words within 48 hours: the cosine of
  all-MiniLM-L6-v2 embeddings of title and lead (the first two sentences, dateline removed).
  The bar is lower between two outlets than within one: an outlet that tells the same thing
  again in other words within two days is mostly giving another statement or a follow-up (a
  wire service's "X condemns the attack", then "Y condemns the attack"), and its reprints are
  copies, found above. Both bars are chosen on the dev split of
  ``tests/data/story_pairs.jsonl`` (``notify.story_evaluation.choose_rewrite_cosines``).

Both pass one guard against hard negatives: when both leads give figures (casualties, sums,
counts), at least half of the shorter list must be shared. Two attacks in one district on one
day read alike to an encoder but rarely give the same toll, and an agency's daily release is a
near-copy of yesterday's but for its figures. On the dev pairs, with the chosen bars, the guard
raised precision from 0.85 to 0.92 for a recall of 0.65 instead of 0.69 (hard negatives merged:
9 of 126 → 4).

A story's id is the id of its first article. ``StoryIndex`` holds the recent window's
signatures (the LSH and the embedding matrix); the service rebuilds it from the store with
``add(candidate, story_id=...)`` and calls ``evict`` as the window moves. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from matching.semantic import Encoder, MiniLMEncoder, Vectors
from matching.sentences import split_sentences
from matching.text import normalise


@dataclass(frozen=True)
class StoryCandidate:
    """An article as story grouping sees it."""

    article_id: int
    source: str  # the outlet (site name or host)
    title: str
    text: str
    published: datetime  # timezone-aware


@dataclass(frozen=True)
class StoryParams:
    shingle_words: int = 5
    body_words: int = 100  # the copy signature reads the body's first N words
    num_perm: int = 128
    copy_jaccard: float = 0.5  # estimated Jaccard of the body shingles
    copy_window: timedelta = timedelta(days=7)  # a copy republished days later is still a copy
    # Title + lead cosine of a rewrite by another outlet, and by the same outlet: both chosen on
    # the dev split for the best F0.5 (notify.story_evaluation.choose_rewrite_cosines).
    rewrite_cosine: float = 0.67
    same_outlet_cosine: float = 0.86
    rewrite_window: timedelta = timedelta(hours=48)
    lead_sentences: int = 2
    number_guard: bool = True


@dataclass(frozen=True)
class StorySignature:
    """What the index keeps of an article: its copy sketch, its lead's embedding, its figures."""

    article_id: int
    source: str
    published: datetime
    minhash: LeanMinHash | None  # None when the body is too short to sketch
    vector: Vectors  # unit length
    numbers: frozenset[str]


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    article_id: int  # the article it was matched to
    how: str  # "copy" or "rewrite"
    score: float  # Jaccard estimate or cosine


class StoryIndex:
    """The stories of a moving window. ``add`` an article to learn which story it joins."""

    def __init__(self, encoder: Encoder | None = None, params: StoryParams | None = None) -> None:
        self.params = params or StoryParams()
        self._encoder = encoder
        self._lsh = MinHashLSH(
            num_perm=self.params.num_perm, params=_lsh_bands(self.params.copy_jaccard, self.params.num_perm)
        )
        self._signatures: dict[int, StorySignature] = {}
        self._story_of: dict[int, int] = {}
        self._ids: list[int] = []  # rows of the embedding matrix
        self._matrix: Vectors = np.zeros((0, 384), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._signatures)

    @property
    def encoder(self) -> Encoder:
        # The model loads once per process (matching.semantic). One text per batch: the int8
        # model quantizes activations per batch, so a lead's vector would otherwise depend on
        # the leads encoded beside it (cosines moved by up to 0.03) — and the service sees one
        # article at a time anyway.
        if self._encoder is None:
            self._encoder = MiniLMEncoder(batch_size=1)
        return self._encoder

    def signatures(self, candidates: Sequence[StoryCandidate]) -> list[StorySignature]:
        """Signatures of many articles, their leads embedded in one batch."""
        vectors = self.encoder.encode([lead_text(c, self.params.lead_sentences) for c in candidates])
        return [
            StorySignature(
                c.article_id,
                c.source,
                c.published,
                copy_sketch(c.text, self.params),
                vectors[row],
                figures(lead_text(c, self.params.lead_sentences)),
            )
            for row, c in enumerate(candidates)
        ]

    def match(self, candidate: StoryCandidate) -> int | None:
        """The story the article would join, or None if it starts its own."""
        found = self.explain(self.signatures([candidate])[0])
        return found.story_id if found else None

    def add(self, candidate: StoryCandidate, story_id: int | None = None) -> int:
        """Add the article and return its story id. ``story_id`` given (a rebuild from the store)
        keeps that story instead of matching."""
        return self.add_signature(self.signatures([candidate])[0], story_id)

    def add_all(self, candidates: Iterable[StoryCandidate], batch: int = 64) -> list[int]:
        """Add many articles in publication order (one encoder batch per ``batch`` articles)."""
        ordered = sorted(candidates, key=lambda c: (c.published, c.article_id))
        stories: list[int] = []
        for start in range(0, len(ordered), batch):
            stories += [self.add_signature(s) for s in self.signatures(ordered[start : start + batch])]
        return stories

    def add_signature(self, signature: StorySignature, story_id: int | None = None) -> int:
        if signature.article_id in self._story_of:
            return self._story_of[signature.article_id]
        if story_id is None:
            found = self.explain(signature)
            story_id = found.story_id if found else signature.article_id
        self._signatures[signature.article_id] = signature
        self._story_of[signature.article_id] = story_id
        if signature.minhash is not None:
            self._lsh.insert(signature.article_id, signature.minhash)
        self._ids.append(signature.article_id)
        self._matrix = np.vstack([self._matrix, signature.vector[None, :]])
        return story_id

    def explain(self, signature: StorySignature) -> StoryMatch | None:
        """The best earlier article the signature matches, and how; copies before rewrites."""
        p = self.params
        if signature.minhash is not None:
            copies = []
            for other_id in self._lsh.query(signature.minhash):
                other = self._signatures[other_id]
                jaccard = float(signature.minhash.jaccard(other.minhash))
                if (
                    jaccard >= p.copy_jaccard
                    and abs(other.published - signature.published) <= p.copy_window
                    and self._figures_agree(signature, other)
                ):
                    copies.append((jaccard, -other_id))
            if copies:
                jaccard, negative_id = max(copies)
                return StoryMatch(self._story_of[-negative_id], -negative_id, "copy", jaccard)
        if not self._ids:
            return None
        cosines = self._matrix @ signature.vector
        for row in np.argsort(-cosines):
            cosine = float(cosines[row])
            if cosine < min(p.rewrite_cosine, p.same_outlet_cosine):
                break
            other = self._signatures[self._ids[row]]
            bar = p.same_outlet_cosine if other.source == signature.source else p.rewrite_cosine
            if (
                cosine >= bar
                and abs(other.published - signature.published) <= p.rewrite_window
                and self._figures_agree(signature, other)
            ):
                return StoryMatch(self._story_of[other.article_id], other.article_id, "rewrite", cosine)
        return None

    def evict(self, before: datetime) -> int:
        """Forget articles published before ``before``; their stories live on in the store."""
        old = [a for a, s in self._signatures.items() if s.published < before]
        for article_id in old:
            if self._signatures.pop(article_id).minhash is not None:
                self._lsh.remove(article_id)
            del self._story_of[article_id]
        if old:
            keep = [row for row, a in enumerate(self._ids) if a in self._signatures]
            self._ids = [self._ids[row] for row in keep]
            self._matrix = self._matrix[keep]
        return len(old)

    def _figures_agree(self, a: StorySignature, b: StorySignature) -> bool:
        """No figures on one side, or at least half of the shorter list shared."""
        if not self.params.number_guard or not (a.numbers and b.numbers):
            return True
        return 2 * len(a.numbers & b.numbers) >= min(len(a.numbers), len(b.numbers))


@cache
def _lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (bands, rows) for the threshold, worked out once: it integrates to find them."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def copy_sketch(text: str, params: StoryParams) -> LeanMinHash | None:
    """MinHash of the word shingles of the body's first ``body_words`` words."""
    words = re.findall(r"\w+", normalise(text)[0])[: params.body_words]
    n = params.shingle_words
    if len(words) < 2 * n:
        return None
    sketch = MinHash(num_perm=params.num_perm)
    sketch.update_batch(" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1))
    return LeanMinHash(sketch)


# "ISLAMABAD, May 21 (APP):", "PESHAWAR:", "DERA ISMAIL KHAN/LAKKI MARWAT:" — the same on
# every article from one place, so it only pulls unrelated leads together.
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .,'/&()-]{2,60}?(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*(?:\([A-Z]{2,6}\))?\s*:\s*"
)
_SITE_SUFFIX = re.compile(r"(?:\s+[-|]\s+[A-Z][\w&' ]{0,25})?\s+[-|]\s+[\w-]+\.[A-Za-z.]{2,}\s*$")


def clean_title(title: str) -> str:
    """The headline without a trailing "- Section - SITE.COM"."""
    return _SITE_SUFFIX.sub("", title).strip()


def lead_text(candidate: StoryCandidate, sentences: int = 2) -> str:
    """Title and the first sentences of the body: what the rewrite embedding reads."""
    body = _DATELINE.sub("", candidate.text.lstrip(), count=1)
    lead = " ".join(s.text for s in split_sentences(body)[:sentences])
    return f"{clean_title(candidate.title)}. {lead}".strip()


_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})[a-z]*\.?\s+\d{{1,2}}(?:\s*[-/]\s*\d{{1,2}})?|\d{{1,2}}(?:\s*[-/]\s*\d{{1,2}})?\s+(?:{_MONTHS})[a-z]*)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(list(_WORDS)[2:]) + r")\b", re.IGNORECASE)


def figures(text: str) -> frozenset[str]:
    """The figures a lead gives, normalised ("four" → "4", "1,200" → "1200"); dates and years
    are left out, being the same for different events of one day."""
    text = _DATE.sub(" ", text)
    found = {m.group().replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}
    found |= {_WORDS[m.group().lower()] for m in _NUMBER_WORD.finditer(text)}
    return frozenset(f for f in found if not (len(f) == 4 and f[:2] in {"19", "20"}))
