"""Measure matching against the labelled dev set (``tests/data/matching_dev.jsonl``), and
calibrate thresholds on its ``dev`` split so that ``test`` figures are honest.

Claim matching is scored as micro precision/recall/F1 over (sentence, claim) pairs; stance as
accuracy over the pairs found; entities as precision/recall/F1 over (sentence, entity, surface
text) mentions.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.calibration import Calibration
from ingest.kb import KnowledgeBase
from ingest.match import EntityMatcher, LexicalClaimMatcher, Matcher, PairFeatures, split_sentences
from ingest.semantic import Blend, SemanticClaimMatcher

DEFAULT_DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "matching_dev.jsonl"


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    split: str
    kind: str
    claims: dict[str, str]  # claim id → stance
    entities: tuple[tuple[str, str], ...]  # (entity id, surface text)


def load_dev_set(path: Path = DEFAULT_DEV_SET) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        items.append(
            Item(
                id=raw["id"],
                text=raw["text"],
                split=raw.get("split", "dev"),
                kind=raw.get("kind", ""),
                claims={c["id"]: c.get("stance", "asserts") for c in raw.get("claims", [])},
                entities=tuple((e["id"], e["text"]) for e in raw.get("entities", [])),
            )
        )
    return items


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: Iterable[Any], found: Iterable[Any]) -> None:
        want, got = Counter(list(expected)), Counter(list(found))  # a dict counts by its keys
        overlap = sum((want & got).values())
        self.tp += overlap
        self.fp += sum(got.values()) - overlap
        self.fn += sum(want.values()) - overlap


@dataclass
class ClaimReport:
    method: str
    threshold: float
    scores: Scores = field(default_factory=Scores)
    per_claim: dict[str, Scores] = field(default_factory=dict)
    per_kind: dict[str, Scores] = field(default_factory=dict)
    stance_right: int = 0
    stance_total: int = 0
    sentences_per_s: float = 0.0

    @property
    def stance_accuracy(self) -> float:
        return self.stance_right / self.stance_total if self.stance_total else 0.0


def evaluate_claims(matcher: Matcher, items: Sequence[Item]) -> ClaimReport:
    report = ClaimReport(method=matcher.claims.method, threshold=matcher.threshold)
    started = time.perf_counter()
    results = [matcher.match(item.text) for item in items]
    elapsed = time.perf_counter() - started
    sentences = sum(len(split_sentences(item.text)) for item in items)
    report.sentences_per_s = sentences / elapsed if elapsed else 0.0
    for item, result in zip(items, results, strict=True):
        found = {c.claim_id: c.stance for c in result.claims}
        report.scores.add(item.claims, found)
        report.per_kind.setdefault(item.kind, Scores()).add(item.claims, found)
        for claim_id in set(item.claims) | set(found):
            report.per_claim.setdefault(claim_id, Scores()).add(
                [claim_id] if claim_id in item.claims else [], [claim_id] if claim_id in found else []
            )
        for claim_id, stance in item.claims.items():
            if claim_id in found:
                report.stance_total += 1
                report.stance_right += found[claim_id] == stance
    return report


def evaluate_entities(entities: EntityMatcher, items: Sequence[Item]) -> Scores:
    scores = Scores()
    for item in items:
        found = [(m.entity_id, m.text) for m in entities.find(item.text)]
        scores.add(item.entities, found)
    return scores


# --- calibration ---------------------------------------------------------------------------

_THRESHOLDS = [round(0.30 + 0.01 * i, 2) for i in range(61)]


def calibrate_lexical(kb: KnowledgeBase, items: Sequence[Item]) -> tuple[float, float]:
    """The threshold with the best F1 on ``items``; returns (threshold, F1)."""
    best = (0.55, -1.0)
    for threshold in _THRESHOLDS:
        f1 = evaluate_claims(Matcher(kb, threshold=threshold), items).scores.f1
        if f1 > best[1]:
            best = (threshold, f1)
    return best


def calibrate_semantic(
    kb: KnowledgeBase, semantic: SemanticClaimMatcher, items: Sequence[Item], lexical_threshold: float
) -> tuple[Blend, float, float]:
    """Fit the blend (a logistic regression over the pair features) and the threshold on
    ``items``, encoding each item once; returns (blend, threshold, F1)."""
    from sklearn.linear_model import LogisticRegression

    entities = EntityMatcher(kb)
    lexical = LexicalClaimMatcher(kb)
    cached: list[tuple[Item, list[tuple[PairFeatures, float]], set[str]]] = []
    features: list[list[float]] = []
    labels: list[bool] = []
    for item in items:
        mentions = entities.find(item.text)
        sentences = split_sentences(item.text)
        pairs = semantic.candidate_cosines(sentences, mentions) if mentions else []
        by_lexicon = {m.claim_id for m in lexical.match(sentences, mentions, lexical_threshold)}
        cached.append((item, pairs, by_lexicon))
        for pair, cosine in pairs:
            features.append(Blend.features(cosine, pair.entity_share, pair.term_share))
            labels.append(pair.claim.id in item.claims)
    model = LogisticRegression(C=3.0, max_iter=2000).fit(features, labels)
    cosine, entity, term, cosine_entity, cosine_term = (round(float(w), 4) for w in model.coef_[0])
    blend = Blend(cosine, entity, term, cosine_entity, cosine_term, bias=round(float(model.intercept_[0]), 4))
    per_item = [(item, _best_scores(blend, pairs), by_lexicon) for item, pairs, by_lexicon in cached]
    best: tuple[float, float] = (0.5, -1.0)
    for threshold in [round(0.05 + 0.01 * i, 2) for i in range(91)]:
        scores = Scores()
        for item, best_scores, by_lexicon in per_item:
            scores.add(item.claims, {c for c, s in best_scores.items() if s >= threshold} | by_lexicon)
        if scores.f1 > best[1]:
            best = (threshold, scores.f1)
    return blend, best[0], best[1]


def _best_scores(blend: Blend, pairs: Sequence[tuple[PairFeatures, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for pair, cosine in pairs:
        score = round(blend.score(cosine, pair.entity_share, pair.term_share), 4)
        best[pair.claim.id] = max(score, best.get(pair.claim.id, -1.0))
    return best


def calibrated(kb: KnowledgeBase, semantic: SemanticClaimMatcher, items: Sequence[Item]) -> Calibration:
    dev = [item for item in items if item.split == "dev"]
    lexical_threshold, lexical_f1 = calibrate_lexical(kb, dev)
    blend, semantic_threshold, semantic_f1 = calibrate_semantic(kb, semantic, dev, lexical_threshold)
    return Calibration(
        thresholds={"lexical": lexical_threshold, "semantic": semantic_threshold},
        blend=blend,
        measured={
            "on": "dev split of tests/data/matching_dev.jsonl",
            "sentences": len(dev),
            "kb_version": kb.full_version,
            "dev_f1": {"lexical": round(lexical_f1, 4), "semantic": round(semantic_f1, 4)},
        },
    )
