"""Draft a knowledge base from the analysts' own reference documents.

Pure functions, no database, no CLI. :func:`draft_kb` turns a set of documents into a
:class:`KnowledgeBase`: its entities are the entity-name candidates of every document
(:func:`kb.names.find_entity_candidates`) merged across documents, its claims are the
documents' own assertive sentences with their cue terms (:mod:`kb.claim_terms`);
:func:`kb.yaml_writer.yaml_dump` writes it in the layout of the shipped ``kb.yaml``. The
output is a draft: heuristics propose, analysts decide.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from kb.claim_terms import cue_terms, inverse_document_frequency, without_mentions
from kb.ids import slugify, unique_id
from kb.layout import is_heading, is_metadata
from kb.lexicon import GAZETTEER, GAZETTEER_KEYS
from kb.names import TYPE_PRIORITY, NameCandidate, find_entity_candidates
from kb.union_find import KeyGroups
from matching.entities import EntityMatcher
from matching.kb import EntityType, KbClaim, KbEntity, KbSource, KnowledgeBase
from matching.sentences import Sentence, split_sentences
from matching.text import is_acronym, normalised_key

MIN_WORDS, MAX_WORDS = 6, 80
COUNTRY_WEIGHT = 0.3
DRAFT_VERSION = "0-draft"


def draft_kb(
    documents: Sequence[tuple[str, str]], progress: Callable[[str, str], None] | None = None
) -> KnowledgeBase:
    """A draft knowledge base from ``(source_name, text)`` pairs.

    Entities are every candidate seen, merged across documents; claims are the documents' own
    sentences that name an entity and make an assertion (see :data:`kb.lexicon.ASSERTIONS`).
    ``progress(stage, source_name)`` is called per document for the "entities" and "claims" stages.
    """
    per_document = []
    for name, text in documents:
        per_document.append(find_entity_candidates(text))
        if progress:
            progress("entities", name)
    entities = _merge_entities([c for found in per_document for c in found])
    matcher = EntityMatcher(KnowledgeBase(version=DRAFT_VERSION, entities=tuple(entities), claims=()))
    entity_words = {w for e in entities for form in e.surface_forms for w in normalised_key(form).split()}
    sentences = {name: _claim_sentences(text) for name, text in documents}
    idf = inverse_document_frequency(s.text for found in sentences.values() for s in found)
    claims: list[KbClaim] = []
    seen_statements: set[str] = set()
    ids: set[str] = set()
    for name, text in documents:
        mentions = matcher.find(text)
        for sentence in sentences[name]:
            inside = [m for m in mentions if sentence.start <= m.start < sentence.end]
            entity_ids = tuple(dict.fromkeys(m.entity_id for m in inside))
            statement = _trim(sentence.text)
            if not entity_ids or normalised_key(statement) in seen_statements:
                continue
            terms = cue_terms(without_mentions(sentence, inside), entity_words, idf)
            if terms is None:
                continue
            seen_statements.add(normalised_key(statement))
            first_words = [t.split("|")[0] for t in terms[:2]]
            claim_id = unique_id(slugify("-".join([entity_ids[0], *first_words])), ids)
            claims.append(
                KbClaim(id=claim_id, statement=statement, entities=entity_ids, terms=terms, source=name)
            )
        if progress:
            progress("claims", name)
    return KnowledgeBase(
        version=DRAFT_VERSION,
        description=(
            f"DRAFT drafted from {len(documents)} document(s) by `mediamon kb build`: "
            "review every entity and claim before use."
        ),
        sources={name: _source(name, text) for name, text in documents},
        entities=tuple(entities),
        claims=tuple(claims),
    )


def _merge_entities(candidates: Sequence[NameCandidate]) -> list[KbEntity]:
    """One entity per group of candidates sharing a surface form; ids and aliases unique."""
    groups = KeyGroups()
    for candidate in candidates:
        keys = [normalised_key(f) for f in candidate.surface_forms]
        for key in keys[1:]:
            groups.union(keys[0], key)
    merged: dict[str, list[NameCandidate]] = {}
    for candidate in candidates:
        merged.setdefault(groups.find(normalised_key(candidate.name)), []).append(candidate)
    entities: list[KbEntity] = []
    ids: set[str] = set()
    for members in sorted(merged.values(), key=lambda ms: (-sum(c.count for c in ms), ms[0].name)):
        names = Counter[str]()
        types = Counter[EntityType]()
        for c in members:
            names[c.name] += c.count
            types[c.type] += c.count
        name = max(names, key=lambda n: (n in GAZETTEER_KEYS.values(), names[n], len(n), n))
        kind = next(t for t in TYPE_PRIORITY if t in types)
        forms = dict.fromkeys(f for c in members for f in c.surface_forms)
        by_key: dict[str, str] = {}
        for form in forms:
            by_key.setdefault(normalised_key(form), form)
        name_key = normalised_key(name)
        aliases = tuple(sorted((f for k, f in by_key.items() if k != name_key), key=str.lower))
        acronyms = [a for a in aliases if is_acronym(a) and len(a) <= 6]
        gazetteer = name in GAZETTEER
        entity_id = unique_id(slugify(acronyms[0] if acronyms and not gazetteer else name), ids)
        weight = COUNTRY_WEIGHT if kind == "country" else 1.0
        entities.append(KbEntity(id=entity_id, name=name, type=kind, aliases=aliases, weight=weight))
    return entities


def _claim_sentences(text: str) -> list[Sentence]:
    """Sentences that could be claims: not metadata, headings, questions, or very short/long."""
    found = []
    for sentence in split_sentences(text):
        words = len(sentence.text.split())
        if (
            is_metadata(sentence.text)
            or is_heading(sentence.text)
            or sentence.text.rstrip("\"”’)' ").endswith("?")
            or not MIN_WORDS <= words <= MAX_WORDS
        ):
            continue
        found.append(sentence)
    return found


def _trim(sentence: str) -> str:
    return re.sub(r"\s+", " ", sentence).strip().strip('"“”')


def _source(name: str, text: str) -> KbSource:
    date = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", text[:300])
    lines = [s.text for s in split_sentences(text) if not is_metadata(s.text)]
    title = lines[0] if lines else name
    return KbSource(
        file=name,
        title=title if len(title) <= 100 else title[:97].rstrip() + "…",
        date=date and date.group(1),
    )
