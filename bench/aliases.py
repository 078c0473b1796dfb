"""What a knowledge-base change does to entity mentions on real news: per entity and surface form,
the mentions gained or lost over the shared news corpus (6,447 Dawn and APP articles), how many
of them fall in articles labelled off-theme (``tests/data/relevance.jsonl``: where a new alias is
most likely to be a false mention), and one example of each.

    python -m bench.aliases --base HEAD        # the working knowledge base against the committed one

Prints figures only; deciding whether a gain is right is the reader's job (the examples help).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from config.settings import DEFAULT_KB_PATH
from matching.entities import EntityMatcher
from matching.evaluation import load_relevance_labels
from matching.kb import KnowledgeBase, load_kb
from matching.news_corpus import DEFAULT_NEWS_CORPUS, load_corpus
from matching.text import normalised_key

Key = tuple[str, str]  # (entity id, normalised surface form)


def kb_at(revision: str) -> KnowledgeBase:
    """The knowledge base as committed at ``revision``."""
    relative = DEFAULT_KB_PATH.relative_to(Path(__file__).resolve().parents[1])
    text = subprocess.run(
        ["git", "show", f"{revision}:{relative}"], check=True, capture_output=True, text=True
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kb.yaml"
        path.write_text(text, encoding="utf-8")
        return load_kb(path)


def mentions(kb: KnowledgeBase, texts: dict[str, str]) -> dict[str, Counter[Key]]:
    matcher = EntityMatcher(kb)
    return {
        article_id: Counter((m.entity_id, normalised_key(m.text)) for m in matcher.find(text))
        for article_id, text in texts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="HEAD", help="git revision of the knowledge base to compare with")
    args = parser.parse_args()
    corpus = load_corpus(DEFAULT_NEWS_CORPUS)
    texts = {a.id: f"{a.title}\n{a.text}" for a in corpus.values()}
    off_theme = {row.corpus_id for row in load_relevance_labels() if not row.on_theme}
    before, after = mentions(kb_at(args.base), texts), mentions(load_kb(DEFAULT_KB_PATH), texts)
    change: Counter[Key] = Counter()
    in_off_theme: Counter[Key] = Counter()
    example: dict[Key, str] = {}
    for article_id in texts:
        delta = Counter(after[article_id])
        delta.subtract(before[article_id])
        for key, n in delta.items():
            if n:
                change[key] += n
                example.setdefault(key, article_id)
                if article_id in off_theme:
                    in_off_theme[key] += n
    print(f"{len(texts):,} corpus articles ({len(off_theme)} labelled off-theme); vs {args.base}")
    print(f"{'entity':<18} {'surface form':<34} {'mentions':>9} {'off-theme':>9}  example article")
    for key, n in sorted(change.items(), key=lambda item: (-abs(item[1]), item[0])):
        entity_id, surface = key
        print(f"{entity_id:<18} {surface:<34} {n:>+9,} {in_off_theme[key]:>+9}  {example[key]}")
    gained = sum(n for n in change.values() if n > 0)
    lost = -sum(n for n in change.values() if n < 0)
    print(f"mentions gained {gained:,}, lost {lost:,}")


if __name__ == "__main__":
    main()
