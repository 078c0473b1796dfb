"""Matching benchmark: CPU per ~800-word article and sentences per second, lexical vs semantic.

Two sets of articles: composed ones, assembled from the labelled dev set (on-theme claims,
entity-only sentences, hard negatives and off-topic sentences in a fixed shuffled order) to
about 800 words, the size of an average news article; and real ones, the Dawn and APP articles
of the shared news corpus labelled on-theme (``tests/data/relevance.jsonl``), as the service
meets them. The two seed documents are timed as the worst case (every sentence on the theme,
so every sentence is an encoder candidate).

Then each stage's share of the time on real articles (entities, relevance, sentences, lexical
candidates, encoding, claim similarity with margins and stance cues, blend, frames, stance), and
last, recall against the encoder's budget: claims found per article at budgets from 2 sentences
to all of them, on composed articles and on real articles holding a labelled claim.

Run: ``.venv/bin/python -m bench.matching`` (quality figures: ``mediamon eval``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from config.settings import DEFAULT_CALIBRATION_PATH, DEFAULT_KB_PATH, DEFAULT_RELEVANCE_MODEL_PATH, Settings
from matching.calibration import load_calibration
from matching.evaluation import (
    compose_articles,
    evaluate_articles,
    load_dev_set,
    load_real_prose,
    load_relevance_labels,
)
from matching.kb import load_kb
from matching.matcher import Matcher
from matching.news_corpus import DEFAULT_NEWS_CORPUS, load_corpus
from matching.relevance import load_relevance_model
from matching.semantic import MiniLMEncoder, SemanticClaimMatcher, Vectors
from matching.sentences import split_sentences
from matching.text import normalise

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
TRAINING_POOL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real_prose_train.jsonl"
WORDS_PER_ARTICLE = 800


def articles(count: int = 20, seed: int = 7) -> list[str]:
    return [article.text for article in compose_articles(load_dev_set(), count, WORDS_PER_ARTICLE, seed)]


def real_articles(limit: int = 60, on_theme: bool = True) -> list[str]:
    """The bodies of the first ``limit`` on-theme (or off-theme) labelled corpus articles (by id)."""
    ids = sorted(row.corpus_id for row in load_relevance_labels() if row.on_theme is on_theme)[:limit]
    corpus = load_corpus(DEFAULT_NEWS_CORPUS, ids)
    return [corpus[i].text for i in ids]


class TimedEncoder:
    """The real encoder, with the CPU time spent inside it added up."""

    def __init__(self, encoder: MiniLMEncoder) -> None:
        self.name = encoder.name
        self._encoder = encoder
        self.cpu_s = 0.0
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        started = time.process_time()
        try:
            return self._encoder.encode(texts)
        finally:
            self.cpu_s += time.process_time() - started
            self.calls += 1


def cpu_ms_per_text(matcher: Matcher, texts: list[str], repeat: int = 3) -> list[float]:
    matcher.match(texts[0])  # warm-up
    timings = []
    for text in texts:
        started = time.process_time()
        for _ in range(repeat):
            normalise.cache_clear()  # each repetition pays as the first did: no text seen before
            matcher.match(text)
        timings.append((time.process_time() - started) / repeat * 1000)
    return timings


def main() -> None:
    kb = load_kb(DEFAULT_KB_PATH)
    calibration = load_calibration(DEFAULT_CALIBRATION_PATH)
    started = time.perf_counter()
    encoder = TimedEncoder(MiniLMEncoder(threads=1))
    load_s = time.perf_counter() - started
    semantic = SemanticClaimMatcher(
        kb, encoder, blend=calibration.blend, lexical_threshold=calibration.threshold("lexical")
    )
    # as the service matches: with the relevance model and its claim floor
    relevance, floor = load_relevance_model(DEFAULT_RELEVANCE_MODEL_PATH), Settings().claim_min_relevance
    lexical = Matcher(
        kb, threshold=calibration.threshold("lexical"), relevance_model=relevance, claim_min_relevance=floor
    )
    semantic_matcher = Matcher(
        kb,
        semantic,
        threshold=calibration.threshold("semantic"),
        relevance_model=relevance,
        claim_min_relevance=floor,
    )
    # (name, matcher, encoder budget): the default budget and a cheaper one, to show the trade
    runs = [("lexical", lexical, None), ("semantic", semantic_matcher, 8), ("semantic", semantic_matcher, 6)]
    seeds = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    print(f"model load (quantized MiniLM, once per process): {load_s:.1f} s")
    sets = [("composed", articles())]
    if DEFAULT_NEWS_CORPUS.exists():
        # off-theme articles mostly fall below the claim floor: no claim search, no encoder
        sets += [("real on-theme", real_articles()), ("real off-theme", real_articles(on_theme=False))]
    for label, texts in sets:
        sentences = sum(len(split_sentences(t)) for t in texts)
        words = statistics.fmean(len(t.split()) for t in texts)
        print(f"\n{label} articles: {len(texts)} of ~{words:.0f} words ({sentences} sentences), 1 thread")
        header = f"{'method':<9} {'budget':>6} {'ms CPU/article':>15} {'p95':>7} {'encoder ms':>11}"
        print(f"{header} {'other ms':>9} {'sentences/s':>12} {'seed docs ms CPU':>17}")
        for name, matcher, budget in runs:
            if budget is not None:
                semantic.max_sentences = budget
            encoder.cpu_s, encoder.calls = 0.0, 0
            per_article = cpu_ms_per_text(matcher, texts)
            # the encoder's share of the CPU per article matched (each article matched 3 times)
            encoder_ms = encoder.cpu_s * 1000 / (3 * len(texts) + 1)
            other_ms = statistics.fmean(per_article) - encoder_ms
            per_seed = cpu_ms_per_text(matcher, seeds)
            p95 = statistics.quantiles(per_article, n=20)[-1]
            rate = sentences / (sum(per_article) / 1000)
            seed_ms = " / ".join(f"{ms:.0f}" for ms in per_seed)
            print(
                f"{name:<9} {budget or '-':>6} {statistics.fmean(per_article):>15.1f} {p95:>7.1f} "
                f"{encoder_ms:>11.1f} {other_ms:>9.1f} {rate:>12.0f} {seed_ms:>17}"
            )
    print("encoder ms: CPU inside the encoder per article; other ms: entities, sentences, the lexical stage,")
    print("claim similarity, margins and stance")
    print("target: < 50 ms CPU per ~800-word article with the semantic stage on")
    if DEFAULT_NEWS_CORPUS.exists():
        where_the_time_goes(semantic_matcher, real_articles())
    recall_against_budget(semantic, semantic_matcher)


#: The stages of one article's match, as (label, module file, function): cumulative time each.
STAGES = (
    ("entities", "entities.py", "find"),
    ("relevance model", "relevance.py", "score"),
    ("sentences", "sentences.py", "split_sentences"),
    ("lexical candidates", "lexical.py", "pair_features"),
    ("encoding", "matching.py", "encode"),  # the TimedEncoder above, around the model
    ("claim similarity, margins, stance cues", "semantic.py", "_measure"),
    ("blend", "semantic.py", "best_blended"),
    ("frames", "frames.py", "match"),
    ("stance", "stance.py", "detect_stance"),
)


def where_the_time_goes(matcher: Matcher, texts: list[str]) -> None:
    """Each stage's share of the matching time on real on-theme articles, under cProfile (which
    slows everything down, pure Python most: read the shares, not the milliseconds)."""
    import cProfile
    import pstats

    matcher.match(texts[0])  # warm-up
    profile = cProfile.Profile()
    profile.enable()
    for text in texts:
        normalise.cache_clear()
        matcher.match(text)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    cumulative = {
        label: sum(
            row[3] for (path, _, function), row in stats.items() if path.endswith(name) and function == wanted
        )
        for label, name, wanted in STAGES
    }
    total = sum(row[2] for row in stats.values())
    # _measure calls the encoder: its own share is what is left once the encoding is taken out
    cumulative["claim similarity, margins, stance cues"] -= cumulative["encoding"]
    print(f"\nwhere the time goes (real on-theme articles, {len(texts)}, under cProfile):")
    for label, share in cumulative.items():
        print(f"  {label:<40} {share / total:>6.1%}")
    print(f"  {'everything else':<40} {1 - sum(cumulative.values()) / total:>6.1%}")


#: Encoder budgets (sentences per text) the recall table tries; None: every candidate sentence.
BUDGETS = (2, 4, 6, 8, 12, None)


def recall_against_budget(semantic: SemanticClaimMatcher, matcher: Matcher) -> None:
    """What the encoder budget buys: claims found per article at each budget, on the composed
    articles of the written test split (precision too: every sentence there is labelled) and on
    the real articles that hold a labelled real-prose sentence with a claim (dev split and
    training pools; recall only: the rest of those articles is unlabelled)."""
    composed = compose_articles([i for i in load_dev_set() if i.split == "test"])
    real: dict[str, set[str]] = {}
    if DEFAULT_NEWS_CORPUS.exists():
        labelled = [i for i in load_real_prose() if i.split == "dev"] + load_real_prose(TRAINING_POOL)
        for item in labelled:
            if item.claims:
                real.setdefault(item.id.split(":")[0], set()).update(item.claims)
    bodies = load_corpus(DEFAULT_NEWS_CORPUS, set(real)) if real else {}
    print(
        f"\nrecall against budget (semantic): {len(composed)} composed articles of the written test split; "
        f"{len(real)} real articles with {sum(map(len, real.values()))} labelled claims"
    )
    print(f"{'budget':>6} {'composed P':>11} {'composed R':>11} {'real R':>7} {'real claims/article':>20}")
    kept = semantic.max_sentences
    try:
        for budget in BUDGETS:
            semantic.max_sentences = budget if budget is not None else 10**6
            scores = evaluate_articles(matcher, composed)
            found = reported = 0
            for corpus_id, claims in real.items():
                result = {c.claim_id for c in matcher.match(bodies[corpus_id].text).claims}
                found += len(claims & result)
                reported += len(result)
            labelled_claims = sum(map(len, real.values())) or 1
            print(
                f"{budget or 'all':>6} {scores.precision:>11.3f} {scores.recall:>11.3f} "
                f"{found / labelled_claims:>7.3f} {reported / max(len(real), 1):>20.1f}"
            )
    finally:
        semantic.max_sentences = kept


if __name__ == "__main__":
    main()
