"""Measure story grouping on the labelled pairs (``tests/data/story_pairs.jsonl``) over the real
news corpus (Dawn and APP, gzip JSONL, read at run time: the pairs file holds ids only).

Each pair is decided as the service decides a new article: an index holding the earlier
article is asked whether the later one joins its story. Scored as pairwise precision, recall
and F1 over the pairs labelled "same", overall and by kind (``copy``, ``rewrite``; the negative
kinds ``hard_negative`` and ``negative`` only have false positives to give, so their line
reads as a false-positive rate). The rewrite bars are chosen on the ``dev`` split
(:func:`choose_rewrite_cosines`); ``test`` is reported, never tuned on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from matching.evaluation import Scores
from matching.news_corpus import DEFAULT_NEWS_CORPUS, CorpusArticle, load_corpus
from notify.stories import StoryCandidate, StoryIndex, StoryParams, StorySignature

DEFAULT_STORY_PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "story_pairs.jsonl"
POSITIVE_KINDS = ("copy", "rewrite")
BETWEEN_OUTLETS_GRID = tuple(round(0.50 + 0.01 * step, 2) for step in range(41))  # 0.50 … 0.90
WITHIN_OUTLET_GRID = tuple(round(0.70 + 0.02 * step, 2) for step in range(16))  # 0.70 … 1.00


@dataclass(frozen=True)
class StoryPair:
    a: str  # corpus ids
    b: str
    same: bool
    kind: str  # copy, rewrite, hard_negative, negative
    split: str  # dev, test


@dataclass
class PairScores(Scores):
    """Pairwise scores of story grouping: the claim scores' tp/fp/fn, plus the true negatives."""

    tn: int = 0

    def f_beta(self, beta: float) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def add_pair(self, same: bool, joined: bool) -> None:
        """One labelled pair: the same story or not, and whether grouping joined them."""
        if same:
            self.tp, self.fn = self.tp + joined, self.fn + (not joined)
        else:
            self.fp, self.tn = self.fp + joined, self.tn + (not joined)


@dataclass
class StoryReport:
    split: str
    rewrite_cosine: float
    same_outlet_cosine: float
    scores: PairScores = field(default_factory=PairScores)
    per_kind: dict[str, PairScores] = field(default_factory=dict)
    errors: list[tuple[StoryPair, str]] = field(default_factory=list)  # (pair, "fp" or "fn")


def load_story_pairs(path: Path = DEFAULT_STORY_PAIRS) -> list[StoryPair]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            pairs.append(StoryPair(raw["a"], raw["b"], bool(raw["same"]), raw["kind"], raw["split"]))
    return pairs


def candidates_for(corpus: Mapping[str, CorpusArticle]) -> dict[str, StoryCandidate]:
    """Story candidates with stable integer ids (the corpus ids in sorted order)."""
    return {
        cid: StoryCandidate(number, article.source, article.title, article.text, article.published)
        for number, (cid, article) in enumerate(sorted(corpus.items()), start=1)
    }


def evaluate_story_pairs(
    index_factory: Callable[[], StoryIndex],
    pairs: Sequence[StoryPair],
    corpus: Mapping[str, CorpusArticle],
    split: str = "",
) -> StoryReport:
    """Decide every pair with a fresh index holding its earlier article; score against the labels."""
    candidates = candidates_for(corpus)
    signatures = _signatures(index_factory(), pairs, candidates)
    probe = index_factory()
    report = StoryReport(split, probe.params.rewrite_cosine, probe.params.same_outlet_cosine)
    for pair in pairs:
        joined = _joins(index_factory(), signatures[pair.a], signatures[pair.b])
        report.scores.add_pair(pair.same, joined)
        report.per_kind.setdefault(pair.kind, PairScores()).add_pair(pair.same, joined)
        if joined != pair.same:
            report.errors.append((pair, "fp" if joined else "fn"))
    return report


def choose_rewrite_cosines(
    index_factory: Callable[[], StoryIndex],
    pairs: Sequence[StoryPair],
    corpus: Mapping[str, CorpusArticle],
    between: Sequence[float] = BETWEEN_OUTLETS_GRID,
    within: Sequence[float] = WITHIN_OUTLET_GRID,
    beta: float = 0.5,
) -> tuple[float, float, PairScores]:
    """The rewrite bars (between two outlets, within one) with the best F-beta on ``pairs`` —
    give it the dev split only. Beta 0.5 weighs precision twice as much as recall: a wrong merge
    hides an event from the reader inside another story, a missed one only shows a story twice.
    Ties go to the higher bars. Each article is encoded once for the whole sweep."""
    candidates = candidates_for(corpus)
    base = index_factory()
    signatures = _signatures(base, pairs, candidates)
    best: tuple[float, float, float, PairScores] | None = None
    for rewrite, same_outlet in itertools.product(between, within):
        params = replace(base.params, rewrite_cosine=rewrite, same_outlet_cosine=same_outlet)
        scores = PairScores()
        for pair in pairs:
            index = StoryIndex(base.encoder, params)
            scores.add_pair(pair.same, _joins(index, signatures[pair.a], signatures[pair.b]))
        if best is None or (scores.f_beta(beta), rewrite, same_outlet) >= best[:3]:
            best = (scores.f_beta(beta), rewrite, same_outlet, scores)
    assert best is not None
    return best[1], best[2], best[3]


def run_story_eval(
    pairs_path: Path = DEFAULT_STORY_PAIRS,
    corpus_path: Path = DEFAULT_NEWS_CORPUS,
    params: StoryParams | None = None,
) -> dict[str, StoryReport]:
    """Dev and test reports with the shipped parameters: what ``mediamon eval`` prints."""
    pairs = load_story_pairs(pairs_path)
    corpus = load_corpus(corpus_path, {p.a for p in pairs} | {p.b for p in pairs})
    index = StoryIndex(params=params)
    factory = lambda: StoryIndex(index.encoder, index.params)  # noqa: E731 — one encoder for all
    return {
        split: evaluate_story_pairs(factory, [p for p in pairs if p.split == split], corpus, split)
        for split in ("dev", "test")
    }


def format_story_report(reports: Mapping[str, StoryReport]) -> str:
    """Plain-text table of :func:`run_story_eval`'s reports."""
    lines = ["story pairs: pairwise precision / recall / F1 (negative kinds: false-positive rate)"]
    for split, report in reports.items():
        s = report.scores
        lines.append(
            f"  {split:<5} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
            f"(tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn}; rewrite cosine ≥ {report.rewrite_cosine:.2f} "
            f"between outlets, ≥ {report.same_outlet_cosine:.2f} within one)"
        )
        for kind, k in sorted(report.per_kind.items()):
            if kind in POSITIVE_KINDS:
                lines.append(f"    {kind:<14} recall {k.recall:.3f}  (tp {k.tp} fn {k.fn})")
            else:
                lines.append(
                    f"    {kind:<14} false positives {k.false_positive_rate:.3f}  (fp {k.fp} tn {k.tn})"
                )
    return "\n".join(lines)


def _signatures(
    index: StoryIndex, pairs: Sequence[StoryPair], candidates: Mapping[str, StoryCandidate]
) -> dict[str, StorySignature]:
    ids = sorted({p.a for p in pairs} | {p.b for p in pairs})
    return dict(zip(ids, index.signatures([candidates[i] for i in ids]), strict=True))


def _joins(index: StoryIndex, a: StorySignature, b: StorySignature) -> bool:
    first, second = (a, b) if (a.published, a.article_id) <= (b.published, b.article_id) else (b, a)
    index.add_signature(first)
    return index.add_signature(second) == first.article_id
