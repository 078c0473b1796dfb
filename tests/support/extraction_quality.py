"""Extraction quality against the corpus gold snippets, scored as trafilatura's own evaluation
does: a ``must_include`` snippet found is a true positive, missing a false negative; a
``must_exclude`` snippet found is a false positive, absent a true negative.

Used by ``tests/ingest/test_clean.py`` (a floor) and ``bench/pipeline.py`` (the figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ingest.clean import CleanArticle, ExtractionFailed, clean_html
from matching.evaluation import Scores as MatchScores
from tests.support.corpus_site import PAGES_DIR, load_manifest


@dataclass
class Scores(MatchScores):
    """tp: must_include found, fn: missing; fp: must_exclude found, tn: absent."""

    tn: int = 0
    failed: int = 0
    pages: int = 0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / (self.tp + self.fn + self.fp + self.tn)


def page_url(page: dict[str, Any]) -> str | None:
    url = str(page["url"])
    return url if url.startswith(("http://", "https://")) else None  # some are "hard::<file>"


@cache
def extract(file: str) -> CleanArticle | ExtractionFailed:
    page = next(p for p in load_manifest() if p["file"] == file)
    return clean_html((PAGES_DIR / file).read_bytes(), page_url(page))


def score_extraction(language: str = "en") -> Scores:
    """Score ``clean_html`` over the manifest pages of one language ("en" or "unknown-non-en")."""
    scores = Scores()
    for page in load_manifest():
        if page["language"] != language:
            continue
        scores.pages += 1
        result = extract(page["file"])
        text = result.text if isinstance(result, CleanArticle) else ""
        scores.failed += isinstance(result, ExtractionFailed)
        for snippet in page["must_include"]:
            if snippet in text:
                scores.tp += 1
            else:
                scores.fn += 1
        for snippet in page["must_exclude"]:
            if snippet in text:
                scores.fp += 1
            else:
                scores.tn += 1
    return scores
