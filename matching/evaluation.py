"""Measure matching against the labelled dev set (``tests/data/matching_dev.jsonl``), and
calibrate thresholds on its ``dev`` split so that ``test`` figures are honest.

Claim matching is scored as micro precision/recall/F1 over (sentence, claim) pairs; stance as
accuracy over the pairs found; entities as precision/recall/F1 over (sentence, entity, surface
text) mentions. Three more views: claims per ~800-word article composed of labelled sentences
(the encoder budget of long texts), the labelled corpus pages cleaned as the pipeline cleans
them (real news), and k-fold cross-validation over every sentence (no split to choose).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching.calibration import Calibration
from matching.entities import EntityMatcher
from matching.kb import KnowledgeBase
from matching.lexical import LexicalClaimMatcher
from matching.matcher import Matcher
from matching.news_corpus import DEFAULT_NEWS_CORPUS, load_corpus
from matching.semantic import Blend, ClaimCandidate, SemanticClaimMatcher, best_blended
from matching.sentences import split_sentences

DEFAULT_DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "matching_dev.jsonl"
DEFAULT_PAGE_LABELS = DEFAULT_DEV_SET.with_name("corpus_labels.json")
#: Sentences of real news (the shared news corpus), labelled blind; the file holds offsets, not text.
DEFAULT_REAL_PROSE = DEFAULT_DEV_SET.with_name("real_prose.jsonl")
DEFAULT_REAL_PROSE_TRAINING = DEFAULT_DEV_SET.with_name("real_prose_train.jsonl")
#: Real news articles labelled on or off the theme (ids only).
DEFAULT_RELEVANCE_LABELS = DEFAULT_DEV_SET.with_name("relevance.jsonl")
DEFAULT_RELEVANCE_TRAINING = DEFAULT_DEV_SET.with_name("relevance_train.jsonl")
#: The saved news pages the labels refer to (the shared corpus beside the checkout).
DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"


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


class LabelDrift(ValueError):
    """A labelled span no longer holds the sentence that was labelled (the corpus changed)."""


def sentence_hash(text: str) -> str:
    """The short hash that ends a real-prose sentence id (``<corpus id>:<hash>``)."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:10]


def load_real_prose(path: Path = DEFAULT_REAL_PROSE, corpus: Path = DEFAULT_NEWS_CORPUS) -> list[Item]:
    """The real-prose set: each line names a corpus article and a character span of its text
    (the sentence labelled), checked against the hash in its id; ``kind`` is the stratum it was
    drawn from (``group``, ``press``, ``state``: see ``tests/data/README.md``)."""
    raws = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = load_corpus(corpus, {raw["corpus_id"] for raw in raws})
    items = []
    for raw in raws:
        article = articles.get(raw["corpus_id"])
        if article is None:
            raise LabelDrift(f"{raw['id']}: article {raw['corpus_id']} is not in {corpus}")
        text = article.text[raw["start"] : raw["end"]]
        if sentence_hash(text) != raw["id"].rsplit(":", 1)[1]:
            raise LabelDrift(
                f"{raw['id']}: the span {raw['start']}–{raw['end']} no longer holds its sentence"
            )
        items.append(
            Item(
                id=raw["id"],
                text=text,
                split=raw["split"],
                kind=raw["stratum"],
                claims={c["id"]: c["stance"] for c in raw["claims"]},
                entities=tuple((e["id"], e["text"]) for e in raw["entities"]),
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

    def __iadd__(self, other: Scores) -> Scores:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn
        return self

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
    # what found each reported claim (frame, semantic, lexical): right (tp) or wrong (fp)
    per_method: dict[str, Scores] = field(default_factory=dict)
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
        for claim in result.claims:
            right = claim.claim_id in item.claims
            report.per_method.setdefault(claim.method, Scores()).add(
                [claim.claim_id] if right else [], [claim.claim_id]
            )
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


@dataclass(frozen=True)
class Article:
    text: str
    claims: frozenset[str]


def compose_articles(
    items: Sequence[Item], count: int = 60, words: int = 800, seed: int = 3
) -> list[Article]:
    """Articles of about ``words`` words made of labelled sentences in a shuffled order, labelled
    with the union of their claims: every sentence on the theme, denser than real news. They
    test what single sentences cannot, the encoder budget of a long text."""
    pool = list(items)
    rng = random.Random(seed)  # noqa: S311 -- a reproducible shuffle, not a secret
    articles = []
    for _ in range(count):
        rng.shuffle(pool)
        chosen, total = [], 0
        for item in pool:
            chosen.append(item)
            total += len(item.text.split())
            if total >= words:
                break
        articles.append(
            Article(" ".join(i.text for i in chosen), frozenset().union(*(i.claims for i in chosen)))
        )
    return articles


def evaluate_articles(matcher: Matcher, articles: Sequence[Article]) -> Scores:
    """Claim matching per article: the claims the whole text makes, whichever sentence."""
    scores = Scores()
    for article in articles:
        scores.add(article.claims, {c.claim_id for c in matcher.match(article.text).claims})
    return scores


@dataclass(frozen=True)
class RelevanceReport:
    """How the relevance score separates on-theme from off-theme articles at one threshold: the
    share of on-theme articles that pass (what alerts and a no-filter digest would carry) and
    the share of off-theme ones that pass (the noise they would carry)."""

    threshold: float
    on_theme: int
    off_theme: int
    on_passed: int
    off_passed: int
    missed: tuple[str, ...]  # corpus ids of on-theme articles below the threshold
    passed_off: tuple[str, ...]  # corpus ids of off-theme articles at or above it
    claimed_off: tuple[str, ...] = ()  # corpus ids of off-theme articles with a claim matched
    claimed_on: int = 0  # on-theme articles with a claim matched

    @property
    def on_recall(self) -> float:
        return self.on_passed / self.on_theme if self.on_theme else 0.0

    @property
    def off_pass_rate(self) -> float:
        return self.off_passed / self.off_theme if self.off_theme else 0.0


@dataclass(frozen=True)
class RelevanceLabel:
    """One labelled article of ``tests/data/relevance.jsonl`` (its text stays in the corpus)."""

    corpus_id: str
    on_theme: bool
    split: str
    stratum: str


def load_relevance_labels(path: Path = DEFAULT_RELEVANCE_LABELS, split: str = "all") -> list[RelevanceLabel]:
    """The labelled articles of ``split`` ("all": every one), in file order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        RelevanceLabel(row["corpus_id"], bool(row["on_theme"]), row["split"], row["stratum"])
        for row in rows
        if split == "all" or row["split"] == split
    ]


def relevance_training_set(
    training: Path = DEFAULT_RELEVANCE_TRAINING,
    labels: Path = DEFAULT_RELEVANCE_LABELS,
    corpus: Path = DEFAULT_NEWS_CORPUS,
) -> tuple[list[str], list[bool]]:
    """The texts and labels the relevance model is fitted on: the training set and the dev split
    of the evaluation set (never its test split), in file order."""
    rows = load_relevance_labels(training) + load_relevance_labels(labels, "dev")
    articles = load_corpus(corpus, {row.corpus_id for row in rows})
    return [articles[row.corpus_id].text for row in rows], [row.on_theme for row in rows]


def evaluate_relevance(
    matcher: Matcher,
    threshold: float,
    split: str = "test",
    labels: Path = DEFAULT_RELEVANCE_LABELS,
    corpus: Path = DEFAULT_NEWS_CORPUS,
) -> RelevanceReport:
    """Score each labelled article's body as the pipeline does (``Matcher.match``) and count
    what passes ``threshold`` (``split`` "all" takes every article)."""
    rows = load_relevance_labels(labels, split)
    articles = load_corpus(corpus, {row.corpus_id for row in rows})
    missed, passed_off, claimed_off = [], [], []
    on = off = on_passed = off_passed = claimed_on = 0
    for row in rows:
        result = matcher.match(articles[row.corpus_id].text)
        passes = result.relevance >= threshold
        if row.on_theme:
            on += 1
            on_passed += passes
            claimed_on += bool(result.claims)
            if not passes:
                missed.append(row.corpus_id)
        else:
            off += 1
            off_passed += passes
            if passes:
                passed_off.append(row.corpus_id)
            if result.claims:
                claimed_off.append(row.corpus_id)
    return RelevanceReport(
        threshold,
        on,
        off,
        on_passed,
        off_passed,
        tuple(missed),
        tuple(passed_off),
        tuple(claimed_off),
        claimed_on,
    )


@dataclass
class PageReport:
    """Whole-page matching, as the pipeline does it (trafilatura's main text, then the matcher),
    scored per page: the set of entities mentioned and the set of claims made."""

    pages: int = 0
    entities: Scores = field(default_factory=Scores)
    claims: Scores = field(default_factory=Scores)
    wrong_claims: list[tuple[str, str]] = field(default_factory=list)  # (page, claim id) not labelled


def evaluate_pages(
    matcher: Matcher,
    clean: Callable[[bytes], str],
    labels: Path = DEFAULT_PAGE_LABELS,
    pages: Path = DEFAULT_PAGES,
) -> PageReport:
    """Entities and claims of whole saved pages; ``clean`` turns a page into the text the
    pipeline would match (``ingest.clean``, handed in: matching does not depend on ingest)."""
    report = PageReport()
    for label in json.loads(labels.read_text(encoding="utf-8")):
        result = matcher.match(clean((pages / label["file"]).read_bytes()))
        found_claims = {c.claim_id for c in result.claims}
        report.pages += 1
        report.entities.add(set(label["entities"]), {m.entity_id for m in result.mentions})
        report.claims.add(set(label["claims"]), found_claims)
        report.wrong_claims += [(label["file"], c) for c in sorted(found_claims - set(label["claims"]))]
    return report


# --- calibration ---------------------------------------------------------------------------

_LEXICAL_THRESHOLDS = [round(0.30 + 0.01 * i, 2) for i in range(61)]
_SEMANTIC_THRESHOLDS = [round(0.05 + 0.01 * i, 2) for i in range(91)]


@dataclass(frozen=True)
class Features:
    """What calibration needs of one labelled item, computed once: the semantic candidates with
    their cosines, and the lexical score of every claim the lexical method could report."""

    item: Item
    candidates: list[ClaimCandidate]
    lexical: dict[str, float]  # claim id → the lexical method's best score for it


def features(kb: KnowledgeBase, semantic: SemanticClaimMatcher, items: Sequence[Item]) -> list[Features]:
    entities = EntityMatcher(kb)
    lexical = LexicalClaimMatcher(kb)
    prepared = []
    for item in items:
        mentions = entities.find(item.text)
        sentences = split_sentences(item.text)
        candidates = semantic.candidates(sentences, mentions) if mentions else []
        scores = {m.claim_id: m.score for m in lexical.match(sentences, mentions, 0.0)}
        prepared.append(Features(item, candidates, scores))
    return prepared


def lexical_found(row: Features, threshold: float) -> set[str]:
    return {claim_id for claim_id, score in row.lexical.items() if score >= threshold}


def semantic_found(
    row: Features,
    blend: Blend,
    threshold: float,
    lexical_threshold: float,
    claim_floors: Mapping[str, float] | None = None,
) -> set[str]:
    """The claims :meth:`SemanticClaimMatcher.match` reports for the item: blended candidates
    at or above ``threshold`` (and their claim's floor), plus the lexical matches."""
    found = best_blended(row.candidates, blend, threshold, claim_floors)
    return set(found) | lexical_found(row, lexical_threshold)


def _best_threshold(
    rows: Sequence[Features], found: Callable[[Features, float], set[str]], thresholds: Sequence[float]
) -> tuple[float, float]:
    """The threshold whose claims (``found(row, threshold)``) give the best F1; (threshold, F1)."""
    best = (thresholds[0], -1.0)
    for threshold in thresholds:
        scores = Scores()
        for row in rows:
            scores.add(row.item.claims, found(row, threshold))
        if scores.f1 > best[1]:
            best = (threshold, scores.f1)
    return best


def fit_blend(rows: Sequence[Features]) -> Blend:
    """A logistic regression over the candidates' features: does the sentence make the claim?"""
    from sklearn.linear_model import LogisticRegression

    x = [Blend.features(candidate) for row in rows for candidate in row.candidates]
    y = [candidate.pair.claim.id in row.item.claims for row in rows for candidate in row.candidates]
    if len(set(y)) < 2:
        raise ValueError(
            "too little labelled data to fit the blend: the candidates need both sentences that make "
            f"their claim and sentences that do not ({sum(y)} of {len(y)} do)"
        )
    model = LogisticRegression(C=3.0, max_iter=2000).fit(x, y)
    weights = {
        name: round(float(w), 4) for name, w in zip(Blend.feature_names(), model.coef_[0], strict=True)
    }
    return Blend(**weights, bias=round(float(model.intercept_[0]), 4))


@dataclass(frozen=True)
class Fitted:
    lexical_threshold: float
    lexical_f1: float
    blend: Blend
    semantic_threshold: float
    semantic_f1: float


def fit(rows: Sequence[Features]) -> Fitted:
    """Both methods' parameters, chosen for the best F1 on ``rows``."""
    lexical_threshold, lexical_f1 = _best_threshold(rows, lexical_found, _LEXICAL_THRESHOLDS)
    blend = fit_blend(rows)
    semantic_threshold, semantic_f1 = _best_threshold(
        rows, lambda row, t: semantic_found(row, blend, t, lexical_threshold), _SEMANTIC_THRESHOLDS
    )
    return Fitted(lexical_threshold, lexical_f1, blend, semantic_threshold, semantic_f1)


#: How far below the lowest written positive of a claim its floor sits. Chosen by 5-fold
#: cross-validation over the written dev split (floors fitted without a fold, its positives lost):
#: 0.05 lost 5 of 288, 0.1 lost 2, 0.15 to 0.3 lost 1; 0.25, the widest that still cut two
#: thirds of the real pools' wrong matches (22 of 33), leaves the most room for wordings unseen.
CLAIM_FLOOR_MARGIN = 0.25


def fit_claim_floors(
    written: Sequence[Features],
    real: Sequence[Features],
    blend: Blend,
    threshold: float,
    margin: float = CLAIM_FLOOR_MARGIN,
) -> dict[str, float]:
    """Per claim, a semantic bar above ``threshold``, where real news shows the encoder misleads.

    On real prose (the training pools of ``real_prose_train.jsonl``) most of the encoder's own
    matches are wrong, and a few claims draw most of them (trade and connectivity stories for
    "economic ties ease the fallout"). A claim gets a floor only if some real sentence matched
    it wrongly; the floor sits ``margin`` below the lowest blended score of the claim's
    written positives (``written``, the dev split), and is kept only if it is above the
    threshold and would have turned at least one of those wrong matches away.
    """
    lowest: dict[str, float] = {}
    for row in written:
        for claim_id, (_, score) in best_blended(row.candidates, blend, threshold).items():
            if claim_id in row.item.claims:
                lowest[claim_id] = min(lowest.get(claim_id, score), score)
    wrong: dict[str, list[float]] = {}
    for row in real:
        for claim_id, (_, score) in best_blended(row.candidates, blend, threshold).items():
            if claim_id not in row.item.claims:
                wrong.setdefault(claim_id, []).append(score)
    floors = {}
    for claim_id, scores in sorted(wrong.items()):
        floor = round(lowest.get(claim_id, threshold) - margin, 2)
        if floor > threshold and min(scores) < floor:
            floors[claim_id] = floor
    return floors


def calibrated(
    kb: KnowledgeBase,
    semantic: SemanticClaimMatcher,
    items: Sequence[Item],
    real: Sequence[Item] = (),
) -> Calibration:
    """Thresholds and blend fitted on the ``dev`` split, leaving ``test`` unseen; with ``real``
    (the real-prose training pools and dev split, never its test split), the per-claim floors too."""
    dev = [item for item in items if item.split == "dev"]
    rows = features(kb, semantic, dev)
    fitted = fit(rows)
    floors = (
        fit_claim_floors(rows, features(kb, semantic, real), fitted.blend, fitted.semantic_threshold)
        if real
        else {}
    )
    return Calibration(
        thresholds={"lexical": fitted.lexical_threshold, "semantic": fitted.semantic_threshold},
        blend=fitted.blend,
        measured={
            "on": "dev split of tests/data/matching_dev.jsonl",
            "sentences": len(dev),
            "kb_version": kb.full_version,
            "dev_f1": {"lexical": round(fitted.lexical_f1, 4), "semantic": round(fitted.semantic_f1, 4)},
            "claim_floors_on": (
                f"{len(real)} real-prose sentences (training pools and dev split)" if real else None
            ),
        },
        claim_floors=floors,
    )


# --- cross-validation ----------------------------------------------------------------------


@dataclass
class CrossValidation:
    folds: int
    sentences: int
    lexical: Scores = field(default_factory=Scores)
    semantic: Scores = field(default_factory=Scores)
    per_fold: list[tuple[float, float]] = field(default_factory=list)  # (lexical F1, semantic F1)
    # With real-prose sentences given: semantic with per-claim floors fitted in each fold, and
    # how many claims each fold floored.
    floored: Scores | None = None
    floors_per_fold: list[int] = field(default_factory=list)


def cross_validate(
    kb: KnowledgeBase,
    semantic: SemanticClaimMatcher,
    items: Sequence[Item],
    folds: int = 5,
    real: Sequence[Item] = (),
) -> CrossValidation:
    """k-fold cross-validation over every labelled item, whatever its split: each fold is
    scored with thresholds and blend fitted on the other folds only. Folds are stratified by
    kind of sentence (round-robin in id order), so each holds its share of negations and hard
    negatives. A steadier figure than one fixed split, and no split to choose. With ``real``
    (real-prose sentences, as for :func:`calibrated`), each fold is also scored with per-claim
    floors fitted on those and the other folds (``floored``): what the floors cost written text."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    rows = features(kb, semantic, items)
    real_rows = features(kb, semantic, real) if real else []
    fold_of: dict[str, int] = {}
    for kind in sorted({item.kind for item in items}):
        same_kind = sorted(item.id for item in items if item.kind == kind)
        fold_of.update({item_id: n % folds for n, item_id in enumerate(same_kind)})
    result = CrossValidation(folds=folds, sentences=len(items), floored=Scores() if real_rows else None)
    for fold in range(folds):
        train = [row for row in rows if fold_of[row.item.id] != fold]
        held_out = [row for row in rows if fold_of[row.item.id] == fold]
        fitted = fit(train)
        threshold = fitted.semantic_threshold
        floors = fit_claim_floors(train, real_rows, fitted.blend, threshold) if real_rows else {}
        lexical, blended, floored = Scores(), Scores(), Scores()
        for row in held_out:
            lexical.add(row.item.claims, lexical_found(row, fitted.lexical_threshold))
            blended.add(
                row.item.claims, semantic_found(row, fitted.blend, threshold, fitted.lexical_threshold)
            )
            floored.add(
                row.item.claims,
                semantic_found(row, fitted.blend, threshold, fitted.lexical_threshold, floors),
            )
        result.lexical += lexical
        result.semantic += blended
        if result.floored is not None:
            result.floored += floored
            result.floors_per_fold.append(len(floors))
        result.per_fold.append((lexical.f1, blended.f1))
    return result
