"""Entity mentions: every alias of every knowledge-base entity found in one pass.

:class:`EntityMatcher` puts every alias in one Aho-Corasick automaton over a normalised copy of
the text (case folded, diacritics dropped, runs of spaces and dashes made one space) with a map
back to the original character offsets. Word boundaries are enforced; acronym-like aliases
(ISI, LeT, IS-K) must match case exactly; overlapping hits keep the longest
("Tehreek-e-Taliban Pakistan" wins over "Taliban"); an ambiguous ``context_alias`` counts only
near an unambiguous mention of another entity; ``not_within`` phrases ("Native American")
swallow what would otherwise be a hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from matching.kb import KnowledgeBase
from matching.text import is_acronym, normalise


@dataclass(frozen=True)
class MentionHit:
    entity_id: str
    start: int
    end: int
    text: str


class EntityMatcher:
    #: An ambiguous alias counts only if an unambiguous mention of another entity lies this
    #: close (characters, either side): about the sentence and its neighbours.
    context_window = 250

    def __init__(self, kb: KnowledgeBase) -> None:
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[tuple[str, str | None]]] = {}
        self._needs_context: set[tuple[str, str]] = set()
        self._needs_full_name: set[tuple[str, str]] = set()
        self._places: set[tuple[str, str]] = set()
        self._capitals: set[tuple[str, str]] = set()
        for entity in kb.entities:
            for form in entity.surface_forms:
                key, _ = normalise(form)
                key = key.strip()
                if not key:
                    continue
                exact = normalise(form, fold_case=False)[0].strip() if is_acronym(form) else None
                patterns.setdefault(key, []).append((entity.id, exact))
            for form in entity.context_aliases:
                self._needs_context.add((entity.id, normalise(form)[0].strip()))
            for form in entity.place_aliases:
                key = normalise(form)[0].strip()
                self._needs_context.add((entity.id, key))
                self._places.add((entity.id, key))
            for form in entity.capital_aliases:
                self._capitals.add((entity.id, normalise(form)[0].strip()))
            for form in entity.short_aliases:
                self._needs_full_name.add((entity.id, normalise(form)[0].strip()))
            for phrase in entity.not_within:
                patterns.setdefault(normalise(phrase)[0].strip(), []).append((_NOT_A_MENTION, None))
        for key, owners in patterns.items():
            self._automaton.add_word(key, (len(key), owners))
        self._empty = not patterns
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[MentionHit]:
        if self._empty or not text:
            return []
        folded, index = normalise(text)
        hits: list[tuple[int, int, str]] = []
        # (start, end) of hits on a context alias, and on a short alias: by span, since a longer
        # name can start where its short form does ("Lashkar-e-Taiba", "Lashkar").
        ambiguous: set[tuple[int, int]] = set()
        short: set[tuple[int, int]] = set()
        for end_pos, (length, owners) in self._automaton.iter(folded):
            start_pos = end_pos - length + 1
            if not _at_word_boundary(folded, start_pos, end_pos + 1):
                continue
            original = text[index[start_pos] : index[end_pos] + 1]
            for entity_id, exact in owners:
                if exact is not None and normalise(original, fold_case=False)[0] != exact:
                    continue  # an acronym alias must match its case exactly
                form = (entity_id, folded[start_pos : end_pos + 1])
                start, end = index[start_pos], index[end_pos] + 1
                if form in self._places and _names_the_place(text, start, end):
                    break
                if form in self._capitals and _names_the_city(text, start, end):
                    break
                hits.append((start_pos, end_pos + 1, entity_id))
                if form in self._needs_context:
                    ambiguous.add((start_pos, end_pos + 1))
                if form in self._needs_full_name:
                    short.add((start_pos, end_pos + 1))
                break
        mentions: list[MentionHit] = []
        needing_context: list[MentionHit] = []
        named_in_full: set[str] = set()
        taken_until = -1
        for start_pos, end_pos, entity_id in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
            if start_pos < taken_until:
                continue  # inside a longer mention already taken
            taken_until = end_pos
            if entity_id == _NOT_A_MENTION:
                continue  # a phrase that covers an alias but names something else
            span = (start_pos, end_pos)
            if span in short and entity_id not in named_in_full:
                continue  # a surname before the full name: someone else, most likely
            if span not in short:
                named_in_full.add(entity_id)
            # An alias's leading article tells its sense apart ("the establishment"); the
            # mention is the name after it, as "Taliban" is in "the Taliban".
            named_from = start_pos + 4 if folded.startswith("the ", start_pos) else start_pos
            start, end = index[named_from], index[end_pos - 1] + 1
            mention = MentionHit(entity_id, start, end, text[start:end])
            mentions.append(mention)
            if span in ambiguous:
                needing_context.append(mention)
        if not needing_context:
            return mentions
        anchors = [m for m in mentions if m not in needing_context]
        return [
            m
            for m in mentions
            if m not in needing_context
            or any(
                a.entity_id != m.entity_id and abs(a.start - m.start) <= self.context_window for a in anchors
            )
        ]


#: The owner of a ``not_within`` phrase: it wins the longest-match contest and is then dropped.
_NOT_A_MENTION = ""


_WORD_BEFORE = re.compile(r"([A-Za-z][\w’'.&-]*),?\s+(?:and\s+)?$")
# "in Rawalpindi", "at Rawalpindi": a place (not "to" or "of": "indifference to Rawalpindi's
# backing", "a creature of Rawalpindi" are the army).
_LOCATIVE = re.compile(r"\b(?:in|at|near|outside|around|from)\s+$", re.IGNORECASE)
_WORD_AFTER = re.compile(r"^(?:,?\s+(?:and\s+)?|-)([A-Za-z])")


def _names_the_place(text: str, start: int, end: int) -> bool:
    """Whether a city's name at ``text[start:end]`` means the city itself: written in capitals (a
    dateline), after a locative preposition ("in Rawalpindi"), or beside another capitalised word
    (a longer proper name, a list or pair of places: "Rawalpindi and Islamabad"); a capital that
    only opens a sentence does not count."""
    if text[start:end].isupper() or _LOCATIVE.search(text[max(0, start - 12) : start]):
        return True
    before = _WORD_BEFORE.search(text[max(0, start - 40) : start])
    if before and before.group(1)[0].isupper() and not _opens_sentence(text, start - len(before.group(0))):
        return True
    after = _WORD_AFTER.match(text[end : end + 40])
    return bool(after and after.group(1).isupper())


_NAME = r"[A-Z][\w’'.\u00ad-]*(?:\s+[A-Z][\w’'.\u00ad-]*)*"
# "... in Islamabad, New Delhi and ": the capital closes a list of places after a locative.
_LOCATIVE_LIST = re.compile(rf"\b(?i:in|at|near|from)\s+{_NAME}(?:,\s+{_NAME})*,?\s+(?:and\s+)?$")


# "officials in Washington", "critics in New Delhi": the people of a government, not the city.
_ITS_PEOPLE = re.compile(
    r"\b(?:officials?|critics?|sources?|lawmakers?|policymakers?|leaders?|many|some|those)"
    r"\s+(?:in|at)\s+$",
    re.IGNORECASE,
)


def _names_the_city(text: str, start: int, end: int) -> bool:
    """Whether a capital's name at ``text[start:end]`` means the city, not its government: in
    capitals (a dateline: "ISLAMABAD, May 13 (APP):"), after a locative preposition ("talks in
    Kabul", "a flight from New Delhi") unless that follows its people ("officials in
    Washington"), or in a list of places after one."""
    before = text[max(0, start - 40) : start]
    if text[start:end].isupper():
        return True
    if _LOCATIVE.search(before[-12:]):
        return not _ITS_PEOPLE.search(before)
    return bool(_LOCATIVE_LIST.search(text[max(0, start - 80) : start]))


def _opens_sentence(text: str, position: int) -> bool:
    """Whether ``position`` starts the text, a line or a sentence."""
    head = text[:position].rstrip(" \t")
    return not head or head[-1] in '.!?:;\n"“(' or head.endswith("):")


def _at_word_boundary(text: str, start: int, end: int) -> bool:
    """No letter or digit glued to the hit's edges; an edge that is itself punctuation ("US$")
    needs no boundary."""
    before = text[start - 1] if start > 0 and text[start].isalnum() else " "
    after = text[end] if end < len(text) and text[end - 1].isalnum() else " "
    return not before.isalnum() and not after.isalnum()
