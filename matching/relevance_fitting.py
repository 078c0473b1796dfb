"""Fit the theme-relevance model (``mediamon eval --fit-relevance``): scikit-learn's TF-IDF and
logistic regression over labelled real articles, turned into the plain word table that
:class:`~matching.relevance.RelevanceModel` scores with (no pickles, no scikit-learn at run time).

How, and why:
- fitted on the training set and the dev split of the evaluation set together; the test split
  is never seen;
- the regularisation strength is chosen by 5-fold cross-validation, as the one whose out-of-fold
  scores let through the fewest off-theme articles at the target on-theme recall;
- the operating point is the out-of-fold score that keeps ``recall`` of the on-theme articles
  (out-of-fold over ~1,100 articles is steadier than the ~240 of the dev split alone, whose
  chosen threshold swung the test figures by several points between neighbouring settings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from matching.relevance import RelevanceModel, logit, probability, words

#: Regularisation strengths tried (inverse: higher fits the words more closely).
STRENGTHS = (10.0, 30.0, 100.0)
MIN_ARTICLES = 2  # a word must appear in at least this many training articles


@dataclass(frozen=True)
class RelevanceFit:
    model: RelevanceModel
    strength: float
    operating_point: float  # the probability that keeps ``recall`` of on-theme articles, out of fold
    on_recall: float  # out of fold, at the operating point
    off_pass: float  # out of fold: share of off-theme articles at or above it
    by_strength: dict[float, float]  # each strength tried: its out-of-fold off-theme pass rate
    out_of_fold: tuple[float, ...]  # each article's out-of-fold score, on the shipped model's scale


#: Claim floors tried by :func:`claim_floors` (``MEDIAMON_CLAIM_MIN_RELEVANCE``).
FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


@dataclass(frozen=True)
class FloorRow:
    floor: float
    on_claimed_kept: int  # on-theme articles with a claim that the floor still searches
    off_claimed: int  # off-theme articles with a claim that the floor still searches
    on_unsearched: int  # on-theme articles the floor leaves unsearched


def claim_floors(
    scores: Sequence[float], on_theme: Sequence[bool], claimed: Sequence[bool], long: Sequence[bool]
) -> list[FloorRow]:
    """What each floor keeps: an article is searched for claims unless it is long (an article,
    not a snippet) and scores below the floor; ``claimed`` says whether it has a claim when searched."""
    rows = []
    for floor in FLOORS:
        searched = [not is_long or score >= floor for score, is_long in zip(scores, long, strict=True)]
        rows.append(
            FloorRow(
                floor,
                sum(o and c and k for o, c, k in zip(on_theme, claimed, searched, strict=True)),
                sum(not o and c and k for o, c, k in zip(on_theme, claimed, searched, strict=True)),
                sum(o and not k for o, k in zip(on_theme, searched, strict=True)),
            )
        )
    return rows


def chosen_floor(rows: Sequence[FloorRow], off_theme: int, off_rate: float = 0.01) -> FloorRow:
    """The lowest floor that leaves claims on at most ``off_rate`` of the off-theme articles and
    loses no on-theme article with a claim; failing that, the one with the fewest off-theme claims
    among those losing none."""
    keeping_all = [row for row in rows if row.on_claimed_kept == rows[0].on_claimed_kept]
    for row in keeping_all:
        if row.off_claimed <= off_rate * off_theme:
            return row
    return min(keeping_all, key=lambda row: (row.off_claimed, row.floor))


def pipeline(strength: float) -> Pipeline:
    """TF-IDF over :func:`~matching.relevance.words` and a class-balanced logistic regression."""
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    tokenizer=words,
                    lowercase=False,  # words() folds case itself
                    token_pattern=None,
                    stop_words=sorted(ENGLISH_STOP_WORDS),
                    min_df=MIN_ARTICLES,
                    sublinear_tf=True,
                ),
            ),
            ("model", LogisticRegression(C=strength, max_iter=5000, class_weight="balanced")),
        ]
    )


def operating_point(scores: np.ndarray, on_theme: np.ndarray, recall: float) -> float:
    """The highest threshold at which at least ``recall`` of the on-theme scores pass."""
    on = np.sort(scores[on_theme])
    return float(on[int(np.floor((1 - recall) * len(on)))])


def fit_relevance(
    texts: Sequence[str],
    on_theme: Sequence[bool],
    *,
    recall: float = 0.92,
    default_threshold: float = 0.3,
    folds: int = 5,
    progress: Callable[[str], None] = lambda _line: None,
) -> RelevanceFit:
    labels = np.asarray(on_theme, dtype=bool)
    if labels.all() or not labels.any():
        raise ValueError("relevance needs both on-theme and off-theme articles to fit")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    by_strength: dict[float, tuple[float, float, float]] = {}
    out_of_fold: dict[float, np.ndarray] = {}
    for strength in STRENGTHS:
        scores = cross_val_predict(
            pipeline(strength), list(texts), labels, cv=splitter, method="predict_proba"
        )[:, 1]
        out_of_fold[strength] = scores
        point = operating_point(scores, labels, recall)
        off_pass = float((scores[~labels] >= point).mean())
        on_recall = float((scores[labels] >= point).mean())
        by_strength[strength] = (off_pass, point, on_recall)
        progress(
            f"C={strength:g}: out of fold, off-theme pass rate {off_pass:.3f} "
            f"at on-theme recall {on_recall:.3f}"
        )
    strength = min(STRENGTHS, key=lambda s: (by_strength[s][0], s))
    off_pass, point, on_recall = by_strength[strength]
    fitted = pipeline(strength).fit(list(texts), labels)
    offset = logit(default_threshold) - logit(point)
    model = model_from(fitted, offset=offset)
    # on the shipped scale: the same offset on the logit (clipped: a fold may be certain)
    shipped = tuple(
        probability(logit(float(np.clip(p, 1e-12, 1 - 1e-12))) + offset) for p in out_of_fold[strength]
    )
    return RelevanceFit(
        model, strength, point, on_recall, off_pass, {s: v[0] for s, v in by_strength.items()}, shipped
    )


def model_from(fitted: Pipeline, offset: float = 0.0) -> RelevanceModel:
    """The fitted pipeline as a word table: each vocabulary word's IDF and weight."""
    vectorizer: TfidfVectorizer = fitted.named_steps["tfidf"]
    regression: LogisticRegression = fitted.named_steps["model"]
    coefficients = regression.coef_[0]
    idf = vectorizer.idf_
    vocabulary = vectorizer.vocabulary_
    return RelevanceModel(
        idf={word: float(idf[column]) for word, column in vocabulary.items()},
        weights={word: float(coefficients[column]) for word, column in vocabulary.items()},
        intercept=float(regression.intercept_[0]),
        offset=offset,
    )
