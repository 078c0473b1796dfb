"""Names in stored articles that the knowledge base does not know yet.

``mediamon kb candidates`` lists them: entity-name candidates (:func:`kb.names.find_entity_candidates`)
that are not KB aliases but share a sentence with a KB entity, counted over articles — what
analysts should consider adding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kb.names import find_entity_candidates
from matching.entities import EntityMatcher
from matching.kb import EntityType, KnowledgeBase
from matching.sentences import entities_per_sentence, sentence_at, split_sentences
from matching.text import normalised_key


@dataclass(frozen=True)
class NewName:
    """A candidate absent from the KB, seen in a sentence with KB entities, over a set of articles."""

    name: str
    type: EntityType
    articles: int
    cooccurring: tuple[tuple[str, int], ...]  # (KB entity id, sentences shared), most frequent first
    example: str


def unknown_candidates(kb: KnowledgeBase, texts: Iterable[str], min_articles: int = 1) -> list[NewName]:
    """Candidates whose names are not KB aliases and that share a sentence with a KB entity.

    Counted by articles (each text once), most frequent first: what analysts should consider adding.
    """
    matcher = EntityMatcher(kb)
    known = {normalised_key(f) for e in kb.entities for f in e.surface_forms}
    articles: Counter[str] = Counter()
    names: dict[str, Counter[str]] = {}
    types: dict[str, Counter[EntityType]] = {}
    companions: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    for text in texts:
        sentences = split_sentences(text)
        in_sentence = entities_per_sentence(sentences, matcher.find(text))
        counted: set[str] = set()
        for candidate in find_entity_candidates(text):
            if any(normalised_key(form) in known for form in candidate.surface_forms):
                continue
            key = normalised_key(candidate.name)
            for start, _ in candidate.spans:
                index = sentence_at(sentences, start)
                if index is None or not in_sentence[index]:
                    continue
                names.setdefault(key, Counter())[candidate.name] += 1
                types.setdefault(key, Counter())[candidate.type] += 1
                companions.setdefault(key, Counter()).update(in_sentence[index])
                examples.setdefault(key, sentences[index].text)
                if key not in counted:
                    counted.add(key)
                    articles[key] += 1
    found = [
        NewName(
            name=names[key].most_common(1)[0][0],
            type=types[key].most_common(1)[0][0],
            articles=count,
            cooccurring=tuple(sorted(companions[key].items(), key=lambda item: (-item[1], item[0]))),
            example=examples[key],
        )
        for key, count in articles.items()
        if count >= min_articles
    ]
    return sorted(found, key=lambda n: (-n.articles, -sum(c for _, c in n.cooccurring), n.name))
