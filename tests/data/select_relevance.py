"""Draw the articles of the theme-relevance sets from the shared news corpus.

Run once, before any labelling. Strata by the knowledge base's entities only (no relevance score
is computed), seeded:
- ``both``: names Pakistan and Afghanistan (where a cricket or trade story looks on-theme);
- ``group``: names an armed group, the ISI, the army or the FATF;
- ``other``: any other article.

``python -m tests.data.select_relevance OUT.jsonl`` draws the evaluation set (``relevance.jsonl``,
120 articles a stratum); ``python -m tests.data.select_relevance --train OUT.jsonl`` draws the
training set (``relevance_train.jsonl``, 400 a stratum) from the articles the evaluation set left.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

from config.settings import DEFAULT_KB_PATH
from matching.entities import EntityMatcher
from matching.evaluation import DEFAULT_RELEVANCE_LABELS, load_relevance_labels
from matching.kb import load_kb
from matching.news_corpus import DEFAULT_NEWS_CORPUS as NEWS
from tests.data.select_real_prose import GROUPS, SEED

PER_STRATUM = 120
TRAIN_PER_STRATUM = 400


def strata() -> dict[str, list[dict[str, str]]]:
    """Every usable corpus article, in corpus order, by stratum."""
    matcher = EntityMatcher(load_kb(DEFAULT_KB_PATH))
    pools: dict[str, list[dict[str, str]]] = {"both": [], "group": [], "other": []}
    seen_titles: set[str] = set()
    with gzip.open(NEWS, "rt", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            if article["title"] in seen_titles or len(article["text"]) < 300:
                continue  # the corpus's repeated scrapes, and stubs
            seen_titles.add(article["title"])
            found = {hit.entity_id for hit in matcher.find(article["title"] + "\n" + article["text"])}
            stratum = (
                "group" if found & GROUPS else "both" if {"pakistan", "afghanistan"} <= found else "other"
            )
            pools[stratum].append(
                {"corpus_id": article["id"], "source": article["source"], "stratum": stratum}
            )
    return pools


def main(out: Path, train: bool) -> None:
    pools = strata()
    per_stratum = PER_STRATUM
    rng = random.Random(SEED)
    if train:
        # Its own seed, and never an article of the evaluation set: the model is fitted on these.
        taken = {label.corpus_id for label in load_relevance_labels(DEFAULT_RELEVANCE_LABELS)}
        pools = {name: [row for row in pool if row["corpus_id"] not in taken] for name, pool in pools.items()}
        per_stratum, rng = TRAIN_PER_STRATUM, random.Random(SEED + 1)
    chosen = [row for pool in pools.values() for row in rng.sample(pool, min(per_stratum, len(pool)))]
    rng.shuffle(chosen)
    for name, pool in pools.items():
        print(f"{name}: {min(per_stratum, len(pool))} of {len(pool)} articles", file=sys.stderr)
    with out.open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", action="store_true", help="draw the training set")
    args = parser.parse_args()
    main(args.out, args.train)
