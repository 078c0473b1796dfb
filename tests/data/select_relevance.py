"""Draw the articles of the theme-relevance set (``relevance.jsonl``) from the shared news corpus.

Run once, before any labelling: ``python -m tests.data.select_relevance OUT.jsonl``. Strata by the
knowledge base's entities only (no relevance score is computed), seeded, 120 articles each:
- ``both``: names Pakistan and Afghanistan (where a cricket or trade story looks on-theme);
- ``group``: names an armed group, the ISI, the army or the FATF;
- ``other``: any other article.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

from config.settings import DEFAULT_KB_PATH
from matching.entities import EntityMatcher
from matching.kb import load_kb
from matching.news_corpus import DEFAULT_NEWS_CORPUS as NEWS
from tests.data.select_real_prose import GROUPS, SEED

PER_STRATUM = 120


def main(out: Path) -> None:
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
    rng = random.Random(SEED)
    chosen = [row for pool in pools.values() for row in rng.sample(pool, PER_STRATUM)]
    rng.shuffle(chosen)
    for name, pool in pools.items():
        print(f"{name}: {PER_STRATUM} of {len(pool)} articles", file=sys.stderr)
    with out.open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
