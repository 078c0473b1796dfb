"""Draft a knowledge base from the analysts' own reference documents.

Pure functions, no database, no CLI. :func:`find_entity_candidates` is the ONE place that
proposes entity names from raw text (``mediamon kb build`` and ``mediamon kb candidates``
both use it); :func:`draft_kb` turns a set of documents into a :class:`KnowledgeBase` whose
claims are the documents' own assertive sentences; :func:`yaml_dump` writes it in the layout
of the shipped ``kb.yaml``. The output is a draft: heuristics propose, analysts decide.

Candidates come from three patterns — runs of capitalised words (with the lower-case
particles of transliterated names: "Jaish-e-Mohammed", "Center for Political and Foreign
Affairs"), acronyms (ISI, IS-K, LeT), and "Long Form (ACR)" pairs — filtered by a stoplist
and by whether a sentence-initial capital is attested elsewhere in the text.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import yaml

from ingest.kb import Claim, Entity, EntityType, KnowledgeBase, Source
from ingest.kb_lexicon import (
    ASSERTIONS,
    DEMONYMS,
    EVENT_NOUNS,
    GAZETTEER,
    GAZETTEER_KEYS,
    GENERIC_CAPITALS,
    GROUP_CUES,
    HONORIFICS,
    ORG_CUES,
    PARTICLES,
    ROLE_NOUNS,
    STOP_CAPITALS,
    STOPWORDS,
    TITLES,
)
from ingest.match import EntityMatcher, Sentence, split_sentences
from ingest.text import normalise, normalised_key

_ASSERTION_PATTERNS = [
    (name, re.compile(r"\b(?:" + pattern + r")\b"), group) for name, (pattern, group) in ASSERTIONS.items()
]

# --- patterns ------------------------------------------------------------------------------

_CAPWORD = r"[A-Z][A-Za-z\u00C0-\u024F]*(?:['’][A-Z][A-Za-z]+)?"
_HYPHEN = r"(?:-|\s-(?=[a-z]{1,3}-))(?:[a-z]{1,3}-)?"
_TOKEN = re.compile(
    rf"(?<![\w-])(?:(?:[A-Z]\.){{2,}}|(?:(?:al|el|ul|bin)-)?{_CAPWORD}(?:{_HYPHEN}{_CAPWORD})*)(?![\w-])"
)
_GAP = re.compile(r"\s+(?:(?:" + "|".join(re.escape(p) for p in PARTICLES) + r")\s+)?")
_PAREN_AFTER = re.compile(r"\s*\(\s*([^()]{2,80}?)\s*\)")
_YEAR_EVENT = re.compile(rf"\b((?:19|20)\d\d)\s+((?:{_CAPWORD}\s+)+(?:[a-z]+\s+){{0,2}}?(?:{EVENT_NOUNS}))\b")
_LED_GROUP = re.compile(r"\b([A-Z]{2,6}|NATO)-led\s+(coalition|forces|alliance|mission)(\s+forces)?\b")
_PEACE_PROCESS = re.compile(rf"\b({_CAPWORD}(?:\s+{_CAPWORD})*)\s+(peace\s+(?:process|talks|deal))\b")
_METADATA = re.compile(r"^\s*(?:date|published|updated|author|by|source|image source)\b\s*:?", re.IGNORECASE)
_ROLE_BEFORE = re.compile(rf"\b(?:{ROLE_NOUNS})\s+$")
_TITLE_DOT = re.compile(r"\.\s+")
_ROLE_AFTER = re.compile(rf",\s+(?:the|a|an|its|their)?\s*(?:\w+\s+){{0,2}}?(?:{ROLE_NOUNS})\b")
_SENTENCE_LEAD = re.compile(r"[\s\"'“‘(\[]*")


@dataclass(frozen=True)
class Candidate:
    """A proposed entity: its best name, a guessed type, other surface forms seen, and where."""

    name: str
    type: EntityType
    aliases: tuple[str, ...] = ()
    count: int = 0
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def surface_forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class _Occurrence:
    surface: str
    start: int
    end: int
    cue: EntityType | None = None
    same_as: list[str] = field(default_factory=list)  # other surface forms of the same entity
    long_form: bool = False
    paren_end: int = 0  # "Long Form (ACR)": the bracketed form is part of this one mention


def is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return " " not in word and capitals >= 2 and capitals * 2 >= len(letters)


def is_heading(sentence: str) -> bool:
    """A line without closing punctuation whose words are mostly capitalised (or very short)."""
    text = sentence.strip()
    if not text or text[-1] in '.!?…:;"”’)':
        return False
    words = re.findall(r"[A-Za-z][\w’'-]*", text)
    capitals = sum(w[0].isupper() for w in words if w.lower() not in STOPWORDS or w[0].isupper())
    content = [w for w in words if w.lower() not in STOPWORDS or w[0].isupper()]
    return len(words) <= 14 and (len(words) <= 4 or capitals * 3 >= len(content) * 2)


def _clean_surface(surface: str) -> str:
    return re.sub(r"\s+-(?=[a-z]{1,3}-)", "-", re.sub(r"\s+", " ", surface)).strip()


def _acronym_matches(acronym: str, words: Sequence[str]) -> bool:
    """Do the acronym's letters spell the initials of ``words`` (particles optional)?

    Hyphenated parts count as words, so "Jaish-e-Mohammed" → JeM and "Islamic State Khorasan" → IS-K.
    """
    letters = [c.lower() for c in acronym if c.isalpha()]
    parts = [p for w in words for p in re.split(r"[-\s]+", w) if p]
    particles = {p for phrase in PARTICLES for p in phrase.split()}

    def walk(i: int, j: int) -> bool:
        if j == len(parts):
            return i == len(letters)
        part = parts[j]
        if i < len(letters) and part[0].lower() == letters[i] and walk(i + 1, j + 1):
            return True
        return part.lower() in particles and walk(i, j + 1)

    return len(letters) >= 2 and walk(0, 0)


# --- candidates ----------------------------------------------------------------------------


def find_entity_candidates(text: str) -> list[Candidate]:
    """Entity names proposed from raw text, most frequent first (see the module docstring)."""
    body: list[Sentence] = []
    headings: list[Sentence] = []
    for sentence in split_sentences(text):
        if _METADATA.match(sentence.text):
            continue
        (headings if is_heading(sentence.text) else body).append(sentence)
    tokens_by_sentence = [_tokens(s) for s in body]
    attested = {
        normalised_key(tok) for toks in tokens_by_sentence for tok, _, _, initial in toks if not initial
    }
    occurrences: list[_Occurrence] = []
    for sentence, tokens in zip(body, tokens_by_sentence, strict=True):
        occurrences.extend(_runs(text, sentence, tokens, attested))
    events = _patterns(text, body)
    # Events are named after places: "2019 Pulwama attack" makes Pulwama a place.
    event_words = {normalised_key(w) for o in events if o.cue == "event" for w in o.surface.split()}
    for occurrence in occurrences:
        if occurrence.cue is None and normalised_key(occurrence.surface) in event_words:
            occurrence.cue = "place"
    occurrences.extend(events)
    occurrences.extend(_heading_occurrences(headings, occurrences))
    return _aggregate(occurrences)


def _tokens(sentence: Sentence) -> list[tuple[str, int, int, bool]]:
    """Capitalised tokens of a sentence with absolute offsets and whether each opens the sentence."""
    lead = _SENTENCE_LEAD.match(sentence.text)
    first = lead.end() if lead else 0
    return [
        (m.group(), sentence.start + m.start(), sentence.start + m.end(), m.start() == first)
        for m in _TOKEN.finditer(sentence.text)
    ]


def _runs(
    text: str, sentence: Sentence, tokens: list[tuple[str, int, int, bool]], attested: set[str]
) -> list[_Occurrence]:
    runs: list[list[tuple[str, int, int, bool]]] = []
    for token in tokens:
        if runs:
            previous = runs[-1][-1]
            joined = not is_acronym(previous[0]) and not is_acronym(token[0])
            after_title = normalised_key(previous[0]) in TITLES and _TITLE_DOT.fullmatch(
                text, previous[2], token[1]
            )  # "Lt. Gen. Nadeem Anjum"
            if joined and (_GAP.fullmatch(text, previous[2], token[1]) or after_title):
                runs[-1].append(token)
                continue
        runs.append([token])
    found: list[_Occurrence] = []
    for run in runs:
        if found and run[0][1] < found[-1].paren_end:
            continue
        for piece in _split_and(text, run):
            found.extend(_name_from_run(text, piece, attested))
    return found


def _split_and(text: str, run: list[tuple[str, int, int, bool]]) -> list[list[tuple[str, int, int, bool]]]:
    """ "Turkey and Qatar" is two names; "Jammu and Kashmir" and "Center for … and … Affairs" are one."""
    surface = text[run[0][1] : run[-1][2]]
    words = {normalised_key(t[0]) for t in run}
    if normalised_key(surface) in GAZETTEER_KEYS or words & ORG_CUES:
        return [run]
    pieces: list[list[tuple[str, int, int, bool]]] = [[run[0]]]
    for previous, token in itertools.pairwise(run):
        gap = text[previous[2] : token[1]].strip()
        if gap in ("and", "&"):
            pieces.append([token])
        else:
            pieces[-1].append(token)
    return pieces


def _name_from_run(text: str, run: list[tuple[str, int, int, bool]], attested: set[str]) -> list[_Occurrence]:
    cue: EntityType | None = None
    tokens = list(run)
    while tokens:
        word, _, _, initial = tokens[0]
        key = normalised_key(word)
        rest = {normalised_key(t[0]) for t in tokens[1:]}
        if key in TITLES and tokens[1:] and not rest & ORG_CUES:
            cue = "person"  # "President Donald Trump", "Former ... President Pervez Musharraf"
        elif not (
            (key in DEMONYMS and len(tokens) > 1 and normalised_key(tokens[1][0]) in TITLES)
            or key in STOP_CAPITALS
            or (initial and _unattested(word, key, attested) and (len(tokens) == 1 or _adverb_like(key)))
        ):
            break
        tokens.pop(0)
    while tokens and normalised_key(tokens[-1][0]) in STOP_CAPITALS | TITLES and len(tokens) > 1:
        tokens.pop()
    if not tokens:
        return []
    start, end = tokens[0][1], tokens[-1][2]
    surface = _clean_surface(text[start:end])
    key = normalised_key(surface)
    if len(tokens) == 1 and (key in STOP_CAPITALS | GENERIC_CAPITALS | TITLES | HONORIFICS or len(key) < 2):
        return []
    occurrence = _Occurrence(surface, start, end, cue)
    if normalised_key(tokens[0][0]) in HONORIFICS and len(tokens) > 1:
        occurrence.cue = "person"
        occurrence.same_as.append(_clean_surface(text[tokens[1][1] : end]))
    elif cue is None and not is_acronym(surface) and key not in GAZETTEER_KEYS:
        before = text[max(0, start - 40) : start]
        if _ROLE_AFTER.match(text, end) or (len(tokens) > 1 and _ROLE_BEFORE.search(before)):
            occurrence.cue = "person"  # "Masood Azhar, the founder", "spokesman Ned Price"
    found = [occurrence]
    paren = _PAREN_AFTER.match(text, end)
    if paren:
        inner = paren.group(1)
        if is_acronym(inner):
            words = surface.split()
            for first in range(len(words)):  # the longest tail of the run the acronym spells
                if _acronym_matches(inner, words[first:]):
                    long_form = " ".join(words[first:])
                    offset = start + surface.find(long_form) if long_form != surface else start
                    found[0] = _Occurrence(
                        long_form, offset, end, occurrence.cue, [inner], long_form=True, paren_end=paren.end()
                    )
                    break
        elif is_acronym(surface) and _acronym_matches(surface, inner.split()):
            occurrence.same_as.append(_clean_surface(inner))
            occurrence.paren_end = paren.end()
    return found


def _unattested(word: str, key: str, attested: set[str]) -> bool:
    """A sentence-initial capital no other sentence confirms is just a capitalised word."""
    hyphenated_name = bool(re.search(r"-[A-Z]", word))  # "Al-Qaeda", "Jaish-e-Mohammed"
    return not (
        key in attested or key in GAZETTEER_KEYS or key in HONORIFICS or is_acronym(word) or hyphenated_name
    )


def _adverb_like(key: str) -> bool:
    """ "Ironically", "Speaking": sentence openers that are not names even before a capital."""
    return key.endswith(("ly", "ing"))


def _patterns(text: str, body: list[Sentence]) -> list[_Occurrence]:
    """Named events and groups whose names run into lower-case words."""
    found: list[_Occurrence] = []
    for sentence in body:
        base = sentence.start
        for m in _YEAR_EVENT.finditer(sentence.text):
            name = f"{m.group(1)} {_clean_surface(m.group(2))}"
            found.append(_Occurrence(name, base + m.start(), base + m.end(), "event", [m.group(2)]))
        for m in _LED_GROUP.finditer(sentence.text):
            found.append(_Occurrence(m.group(), base + m.start(), base + m.end(), "group"))
        for m in _PEACE_PROCESS.finditer(sentence.text):
            words = m.group(1).split()
            while words and normalised_key(words[0]) in STOP_CAPITALS:
                words.pop(0)
            if words:
                name = " ".join([*words, m.group(2)])
                found.append(_Occurrence(name, base + m.end() - len(name), base + m.end(), "event"))
    return found


def _heading_occurrences(headings: list[Sentence], body: list[_Occurrence]) -> list[_Occurrence]:
    """Title-case headings capitalise everything: take only acronyms and names the body knows."""
    known = {normalised_key(o.surface) for o in body} | {normalised_key(s) for o in body for s in o.same_as}
    surnames = {normalised_key(o.surface.split()[-1]) for o in body if o.cue == "person"}
    found: list[_Occurrence] = []
    for heading in headings:
        taken: list[tuple[int, int]] = []
        for form in sorted({o.surface for o in body if " " in o.surface}, key=len, reverse=True):
            for m in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", heading.text):
                taken.append((m.start(), m.end()))
                found.append(_Occurrence(form, heading.start + m.start(), heading.start + m.end()))
        for m in _TOKEN.finditer(heading.text):
            key = normalised_key(m.group())
            if any(a <= m.start() < b for a, b in taken) or key in STOP_CAPITALS | GENERIC_CAPITALS:
                continue
            if is_acronym(m.group()) or key in known or key in surnames or key in GAZETTEER_KEYS:
                found.append(_Occurrence(m.group(), heading.start + m.start(), heading.start + m.end()))
    return found


_TYPE_PRIORITY: tuple[EntityType, ...] = ("country", "place", "event", "person", "group", "organisation")


class _Groups:
    """Union-find over normalised keys: every surface form of one entity ends up in one group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _aggregate(occurrences: Iterable[_Occurrence]) -> list[Candidate]:
    occurrences = list(occurrences)
    groups = _Groups()
    surfaces: dict[str, Counter[str]] = {}
    for occ in occurrences:
        key = normalised_key(occ.surface)
        groups.find(key)
        surfaces.setdefault(key, Counter())[occ.surface] += 1
        for other in occ.same_as:
            surfaces.setdefault(normalised_key(other), Counter())[other] += 0
            groups.union(key, normalised_key(other))
        if key in GAZETTEER_KEYS:
            groups.union(key, normalised_key(GAZETTEER_KEYS[key]))
    persons = [k for k in surfaces if " " in k and any(o.cue == "person" for o in occurrences if _k(o) == k)]
    for key in surfaces:
        if " " not in key and not is_acronym(surfaces[key].most_common(1)[0][0]):
            owners = {groups.find(p) for p in persons if p.split()[-1] == key}
            if len(owners) == 1:
                groups.union(key, owners.pop())
    members: dict[str, list[_Occurrence]] = {}
    for occ in occurrences:
        members.setdefault(groups.find(_k(occ)), []).append(occ)
    forms_of: dict[str, list[str]] = {}
    for key in surfaces:
        forms_of.setdefault(groups.find(key), []).append(key)
    candidates = []
    for root, occs in members.items():
        forms = [surfaces[k].most_common(1)[0][0] for k in sorted(forms_of[root])]
        name = _best_name(forms, occs)
        candidates.append(
            Candidate(
                name=name,
                type=_guess_type(name, forms, occs),
                aliases=tuple(f for f in forms if f != name),
                count=len(occs),
                spans=tuple(sorted((o.start, o.end) for o in occs)),
            )
        )
    return sorted(candidates, key=lambda c: (-c.count, c.name))


def _k(occ: _Occurrence) -> str:
    return normalised_key(occ.surface)


def _best_name(forms: list[str], occs: list[_Occurrence]) -> str:
    for form in forms:
        canonical = GAZETTEER_KEYS.get(normalised_key(form))
        if canonical:
            return canonical
    long_forms = [o.surface for o in occs if o.long_form]
    if long_forms:
        return Counter(long_forms).most_common(1)[0][0]
    counts = Counter(o.surface for o in occs)
    return max(forms, key=lambda f: (len(f.split()), counts[f], len(f), f))


def _guess_type(name: str, forms: list[str], occs: list[_Occurrence]) -> EntityType:
    cues: set[EntityType] = {o.cue for o in occs if o.cue}
    gazetteer = GAZETTEER_KEYS.get(normalised_key(name))
    if gazetteer:
        cues.add(GAZETTEER[gazetteer][0])
    words = {w for f in forms for w in normalised_key(f).split()}
    head = normalised_key(name).split()[-1] if name.strip() else ""
    if head in GROUP_CUES or (head not in ORG_CUES and words & GROUP_CUES):
        cues.add("group")  # the head noun decides: "State Department" is not a group
    elif words & ORG_CUES:
        cues.add("organisation")
    return next((t for t in _TYPE_PRIORITY if t in cues), "organisation")


# --- names the knowledge base does not know yet ---------------------------------------------


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
        starts = [s.start for s in sentences]
        in_sentence: list[set[str]] = [set() for _ in sentences]
        for mention in matcher.find(text):
            index = bisect.bisect_right(starts, mention.start) - 1
            if index >= 0:
                in_sentence[index].add(mention.entity_id)
        counted: set[str] = set()
        for candidate in find_entity_candidates(text):
            if any(normalised_key(form) in known for form in candidate.surface_forms):
                continue
            key = normalised_key(candidate.name)
            for start, _ in candidate.spans:
                index = bisect.bisect_right(starts, start) - 1
                if index < 0 or not in_sentence[index]:
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


# --- the draft -----------------------------------------------------------------------------

MIN_WORDS, MAX_WORDS = 6, 80
COUNTRY_WEIGHT = 0.3
DRAFT_VERSION = "0-draft"


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", normalised_key(text)).strip("-")
    return slug or "x"


def draft_kb(
    documents: Sequence[tuple[str, str]], progress: Callable[[str, str], None] | None = None
) -> KnowledgeBase:
    """A draft knowledge base from ``(source_name, text)`` pairs.

    Entities are every candidate seen, merged across documents; claims are the documents' own
    sentences that name an entity and make an assertion (see :data:`ASSERTIONS`).
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
    idf = _inverse_document_frequency(s.text for found in sentences.values() for s in found)
    claims: list[Claim] = []
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
            masked = _mask(sentence, inside)
            terms = _terms(masked, entity_words, idf)
            if terms is None:
                continue
            seen_statements.add(normalised_key(statement))
            first_words = [t.split("|")[0] for t in terms[:2]]
            claim_id = _unique(slugify("-".join([entity_ids[0], *first_words])), ids)
            claims.append(
                Claim(id=claim_id, statement=statement, entities=entity_ids, terms=terms, source=name)
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


def _merge_entities(candidates: Sequence[Candidate]) -> list[Entity]:
    """One entity per group of candidates sharing a surface form; ids and aliases unique."""
    groups = _Groups()
    for candidate in candidates:
        keys = [normalised_key(f) for f in candidate.surface_forms]
        for key in keys[1:]:
            groups.union(keys[0], key)
    merged: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        merged.setdefault(groups.find(normalised_key(candidate.name)), []).append(candidate)
    entities: list[Entity] = []
    ids: set[str] = set()
    for members in sorted(merged.values(), key=lambda ms: (-sum(c.count for c in ms), ms[0].name)):
        names = Counter[str]()
        types = Counter[EntityType]()
        for c in members:
            names[c.name] += c.count
            types[c.type] += c.count
        name = max(names, key=lambda n: (n in GAZETTEER_KEYS.values(), names[n], len(n), n))
        kind = next(t for t in _TYPE_PRIORITY if t in types)
        forms = dict.fromkeys(f for c in members for f in c.surface_forms)
        by_key: dict[str, str] = {}
        for form in forms:
            by_key.setdefault(normalised_key(form), form)
        name_key = normalised_key(name)
        aliases = tuple(sorted((f for k, f in by_key.items() if k != name_key), key=str.lower))
        acronyms = [a for a in aliases if is_acronym(a) and len(a) <= 6]
        gazetteer = name in GAZETTEER
        entity_id = _unique(slugify(acronyms[0] if acronyms and not gazetteer else name), ids)
        weight = COUNTRY_WEIGHT if kind == "country" else 1.0
        entities.append(Entity(id=entity_id, name=name, type=kind, aliases=aliases, weight=weight))
    return entities


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _claim_sentences(text: str) -> list[Sentence]:
    """Sentences that could be claims: not metadata, headings, questions, or very short/long."""
    found = []
    for sentence in split_sentences(text):
        words = len(sentence.text.split())
        if (
            _METADATA.match(sentence.text)
            or is_heading(sentence.text)
            or sentence.text.rstrip("\"”’)' ").endswith("?")
            or not MIN_WORDS <= words <= MAX_WORDS
        ):
            continue
        found.append(sentence)
    return found


def _trim(sentence: str) -> str:
    return re.sub(r"\s+", " ", sentence).strip().strip('"“”')


def _mask(sentence: Sentence, mentions: Sequence[object]) -> str:
    """The sentence, normalised, with entity mentions blanked out."""
    chars = list(sentence.text)
    for mention in mentions:
        start, end = getattr(mention, "start", 0), getattr(mention, "end", 0)
        for i in range(start - sentence.start, end - sentence.start):
            chars[i] = " "
    return normalise("".join(chars))[0]


def _inverse_document_frequency(sentences: Iterable[str]) -> dict[str, float]:
    counts: Counter[str] = Counter()
    total = 0
    for sentence in sentences:
        total += 1
        counts.update(set(re.findall(r"[a-z0-9]+", normalise(sentence)[0])))
    return {word: math.log((1 + total) / (1 + n)) for word, n in counts.items()}


def stem(word: str) -> str:
    """A crude prefix stem ("training" → "train", "orchestrated" → "orchestrat"), never < 3 letters."""
    for suffix in ("izations", "isations", "ization", "isation", "ations", "ation", "ments", "ment"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("iz" if "iz" in suffix else "is" if "is" in suffix else "")
    if word.endswith(("ied", "ies")):
        return word[:-3] if len(word) >= 7 else word[:-2]
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    for suffix in ("ings", "ing", "ed", "s"):
        if word.endswith(suffix) and not word.endswith(("ss", "us", "is")) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _terms(masked: str, entity_words: set[str], idf: dict[str, float]) -> tuple[str, ...] | None:
    """3–6 cue groups: the assertion verbs found (with synonyms), then the rarest content stems."""
    found: list[tuple[int, str]] = []
    covered: set[int] = set()
    for _, pattern, group in _ASSERTION_PATTERNS:
        hits = list(pattern.finditer(masked))
        if hits:
            found.append((hits[0].start(), group))
        for hit in hits:
            covered.update(range(hit.start(), hit.end()))
    if not found:
        return None
    groups = [group for _, group in sorted(found)[:3]]  # the first assertions of the sentence
    words: dict[str, tuple[float, int]] = {}
    for position, m in enumerate(re.finditer(r"[a-z0-9]+", masked)):
        word = m.group()
        if (
            m.start() in covered
            or word in STOPWORDS
            or word in entity_words
            or len(word) < 3
            or (word.endswith("ly") and len(word) > 5)  # adverbs are weak cues
            or (word.isdigit() and len(word) < 2)
        ):
            continue
        base = stem(word)
        score = idf.get(word, 0.0) + (2.0 if word.isdigit() else 0.0) + min(len(word), 10) / 10
        if base not in words or words[base][0] < score:
            words[base] = (score, position)
    ranked = sorted(words, key=lambda w: (-words[w][0], words[w][1]))
    for base in ranked:
        if len(groups) >= 5:
            break
        if any(base in g.split("|") for g in groups):
            continue
        groups.append(f"{base}|{base[:-2]}is" if base.endswith("iz") else base)
    return tuple(groups) if len(groups) >= 3 else None


def _source(name: str, text: str) -> Source:
    date = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", text[:300])
    lines = [s.text for s in split_sentences(text) if not _METADATA.match(s.text)]
    title = lines[0] if lines else name
    return Source(
        file=name,
        title=title if len(title) <= 100 else title[:97].rstrip() + "…",
        date=date and date.group(1),
    )


# --- YAML ----------------------------------------------------------------------------------


class _Flow(list[str]):
    """A short list written inline: ``aliases: [ISI, Inter-Services Intelligence]``."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - id: ..." under "entities:", as in kb.yaml


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _listed(items: Sequence[str], inline_up_to: int = 90) -> list[str]:
    return _Flow(items) if sum(len(i) + 2 for i in items) <= inline_up_to else list(items)


def candidates_yaml(found: Sequence[NewName], kb: KnowledgeBase) -> str:
    """``found`` as entity entries to paste under ``entities:`` in a knowledge-base file, each
    with a description saying where it was seen. Ids that would clash with ``kb`` get a suffix."""
    names = {e.id: e.name for e in kb.entities}
    taken = set(names)
    entries = []
    for new in found:
        entity_id = base = slugify(new.name)
        suffix = 2
        while entity_id in taken:
            entity_id, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(entity_id)
        companions = ", ".join(names.get(eid, eid) for eid, _ in new.cooccurring[:3])
        entries.append(
            {
                "id": entity_id,
                "name": new.name,
                "type": new.type,
                "description": f"candidate: in {new.articles} article(s), next to {companions}",
                "aliases": _Flow([]),
                "weight": 0.5,
            }
        )
    return _dump(entries)


def _dump(data: object) -> str:
    """YAML in the layout of the shipped ``kb.yaml`` (key order kept, short lists inline)."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )
    return text


def yaml_dump(kb: KnowledgeBase) -> str:
    """The knowledge base in the layout of the shipped ``kb.yaml``; :func:`ingest.kb.load_kb` reads it."""

    entities = []
    for e in kb.entities:
        item: dict[str, object] = {"id": e.id, "name": e.name, "type": e.type}
        if e.description:
            item["description"] = e.description
        if e.aliases:
            item["aliases"] = _listed(e.aliases)
        item["weight"] = e.weight
        entities.append(item)
    claims = []
    for c in kb.claims:
        claim: dict[str, object] = {
            "id": c.id,
            "statement": c.statement,
            "entities": _listed(c.entities, inline_up_to=1000),
            "terms": list(c.terms),
            "source": c.source,
        }
        if c.stance != "asserts":
            claim["stance"] = c.stance
        claims.append(claim)
    sources = {key: s.model_dump(exclude_none=True) for key, s in kb.sources.items()}
    header = (
        "# mediamon knowledge base — a DRAFT written by `mediamon kb build`.\n"
        "# Review it: merge or drop entities, fix types and weights, reword or drop claims, then\n"
        "# run `mediamon kb check` on it. `terms` are cue groups (alternatives separated by |,\n"
        "# matched as word prefixes).\n"
    )
    return "\n".join(
        [
            header + _dump({"version": kb.version, "description": kb.description}),
            _dump({"sources": sources}),
            _dump({"entities": entities}),
            _dump({"claims": claims}),
        ]
    )
