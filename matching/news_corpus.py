"""The shared news corpus (``../shared/corpus/news``: Dawn and APP, spring 2025, gzip JSONL), read
at run time by the evaluations that label it by id: story pairs, real-prose claim sentences and
theme relevance. Its text is never copied into the project (see its README)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

#: The shared news corpus beside the checkout.
DEFAULT_NEWS_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news" / "pk-news-2025-04-15_05-31.jsonl.gz"
)


@dataclass(frozen=True)
class CorpusArticle:
    id: str
    source: str
    title: str
    text: str
    published: datetime


def load_corpus(
    path: Path = DEFAULT_NEWS_CORPUS, ids: Iterable[str] | None = None
) -> dict[str, CorpusArticle]:
    """The corpus articles by id (all of them, or only ``ids``)."""
    wanted = set(ids) if ids is not None else None
    found: dict[str, CorpusArticle] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            if wanted is None or raw["id"] in wanted:
                published = datetime.fromisoformat(raw["published"].replace("Z", "+00:00"))
                found[raw["id"]] = CorpusArticle(
                    raw["id"], raw["source"], raw["title"], raw["text"], published
                )
    return found
