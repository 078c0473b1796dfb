"""Draw the sentences of the real-prose claim set (``real_prose.jsonl``) from the shared news corpus.

Run once, before any labelling: ``python -m tests.data.select_real_prose OUT.jsonl`` (with ``--train``:
the training pool, 600 sentences from the articles the evaluation set left; with ``--train2``: a
second pool, from the articles neither of those uses; ``--train3``: a third, aimed at sentences
naming Pakistan with the United States or Afghanistan). The draw uses
the knowledge base's entities and a few press forms of them, never the claims' cue terms, and no
matcher runs: whoever labels the output sees sentences and nothing the matcher says.

Strata (seeded, at most two sentences per article, 40–400 characters, no repeated sentence):
- ``group``: a sentence naming an armed group, the ISI, the army or the FATF (the claims' subjects);
- ``press``: a press form the knowledge base did not know when the set was drawn ("Jaish",
  "Lashkar", "the Haqqanis", "the spy agency", "the establishment", "GHQ", "increased monitoring",
  "Rawalpindi", "New Delhi") — so recall is measured on wording the matcher never saw;
- ``state``: a sentence naming Pakistan with Afghanistan, India or the United States (or their capitals).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from config.settings import DEFAULT_KB_PATH
from matching.entities import EntityMatcher
from matching.evaluation import load_real_prose, sentence_hash
from matching.kb import load_kb
from matching.news_corpus import DEFAULT_NEWS_CORPUS as NEWS
from matching.sentences import entities_per_sentence, split_sentences

SEED = 20261127
QUOTA = {"group": 200, "press": 130, "state": 120}
TRAIN_QUOTA = {"group": 300, "press": 100, "state": 200}
TRAIN2_QUOTA = {"group": 350, "press": 100, "state": 350}
# The third pool aims at the claims the first two barely hold (Pakistan and the United States,
# Pakistan and Afghanistan): the ``state`` stratum split by the other state named.
TRAIN3_QUOTA = {"group": 150, "state-us": 350, "state-af": 300}
TRAIN_POOL = Path(__file__).with_name("real_prose_train.jsonl")

GROUPS = frozenset(
    "isi pakistan-army fatf fatf-grey-list fatf-blacklist taliban ttp isk haqqani-network jem let "
    "masood-azhar".split()
)
STATES = frozenset("afghanistan kabul india united-states".split())
PRESS = re.compile(
    r"\b(Jaish|Lashkar|Haqqanis|spy agency|the establishment|GHQ|increased monitoring|Rawalpindi|New Delhi)\b"
)


def sentence_key(corpus_id: str, text: str) -> str:
    """Stable id of a sentence: its article and a hash of its text (the splitter may change)."""
    return f"{corpus_id}:{sentence_hash(text)}"


def candidates() -> Iterator[tuple[str, dict[str, object]]]:
    matcher = EntityMatcher(load_kb(DEFAULT_KB_PATH))
    with gzip.open(NEWS, "rt", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            text = article["text"]
            sentences = split_sentences(text)
            per_sentence = entities_per_sentence(sentences, matcher.find(text))
            for sentence, entities in zip(sentences, per_sentence, strict=True):
                if not 40 <= len(sentence.text) <= 400:
                    continue
                if entities & GROUPS:
                    stratum = "group"
                elif PRESS.search(sentence.text):
                    stratum = "press"
                elif ("pakistan" in entities and entities & STATES) or (
                    "islamabad" in entities and entities & STATES
                ):
                    stratum = "state"
                else:
                    continue
                yield (
                    stratum,
                    {
                        "id": sentence_key(article["id"], sentence.text),
                        "corpus_id": article["id"],
                        "source": article["source"],
                        "stratum": stratum,
                        "states": sorted(entities & STATES),
                        "text": sentence.text,
                    },
                )


def main(out: Path, training_pool: int = 0) -> None:
    """``training_pool`` 0 draws the evaluation set, 1 to 3 the training pools."""
    pools: dict[str, list[dict[str, object]]] = {name: [] for name in (*QUOTA, *TRAIN3_QUOTA)}
    for stratum, row in candidates():
        pools[stratum].append(row)
        if stratum == "state":
            states = set(row["states"])  # type: ignore[call-overload]
            if "united-states" in states:
                pools["state-us"].append(row)
            elif states & {"afghanistan", "kabul"}:
                pools["state-af"].append(row)
    rng = random.Random(SEED)
    quotas = QUOTA
    chosen: list[dict[str, object]] = []
    per_article: dict[object, int] = {}
    seen: set[object] = set()
    if training_pool:
        # A training pool for writing frames and aliases: its own seed, and never a sentence (or
        # an article) of the evaluation set, whose test split stays unseen, nor of an earlier pool.
        rng = random.Random(SEED + training_pool)
        quotas = {1: TRAIN_QUOTA, 2: TRAIN2_QUOTA, 3: TRAIN3_QUOTA}[training_pool]
        earlier = {1: 0, 2: 600, 3: 1223}[training_pool]  # the lines of the earlier pools
        used = load_real_prose() + (load_real_prose(TRAIN_POOL)[:earlier] if earlier else [])
        evaluation = {item.id for item in load_real_prose()}
        for item in used:
            seen.add(item.text)
            # The third pool may draw other sentences of an earlier pool's articles (the first
            # two left too few); an evaluation article is never drawn from.
            if training_pool < 3 or item.id in evaluation:
                per_article[item.id.split(":")[0]] = 2
    for stratum, quota in quotas.items():
        pool = pools[stratum]
        rng.shuffle(pool)
        taken = 0
        for row in pool:
            if taken == quota:
                break
            if row["text"] in seen or per_article.get(row["corpus_id"], 0) >= 2:
                continue
            seen.add(row["text"])
            per_article[row["corpus_id"]] = per_article.get(row["corpus_id"], 0) + 1
            chosen.append(row)
            taken += 1
        print(f"{stratum}: {taken} of {len(pool)} candidate sentences", file=sys.stderr)
    rng.shuffle(chosen)
    with out.open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    flags = {"--train": 1, "--train2": 2, "--train3": 3}
    arguments = [a for a in sys.argv[1:] if a not in flags]
    main(Path(arguments[0]), training_pool=max((flags[a] for a in sys.argv[1:] if a in flags), default=0))
