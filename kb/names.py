"""Entity-name candidates proposed from raw text: the ONE place that does it.

``mediamon kb build`` (:func:`kb.drafting.draft_kb`) and ``mediamon kb candidates``
(:func:`kb.unknown_names.unknown_candidates`) both use :func:`find_entity_candidates`. It groups
the occurrences found by :mod:`kb.name_occurrences` — a long form and its acronym, a surname and
the full name, a demonym and its country — into one candidate each, with a best name and a
guessed type. Heuristics propose, analysts decide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kb.lexicon import GAZETTEER, GAZETTEER_KEYS, GROUP_CUES, ORG_CUES
from kb.name_occurrences import Occurrence, find_occurrences
from kb.union_find import KeyGroups
from matching.kb import EntityType
from matching.text import is_acronym, normalised_key


@dataclass(frozen=True)
class NameCandidate:
    """A proposed entity: its best name, a guessed type, other surface forms seen, and where."""

    name: str
    type: EntityType
    aliases: tuple[str, ...] = ()
    count: int = 0
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def surface_forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def find_entity_candidates(text: str) -> list[NameCandidate]:
    """Entity names proposed from raw text, most frequent first (see the module docstring)."""
    return _aggregate(find_occurrences(text))


# The type a candidate gets when its occurrences suggest several, strongest first.
TYPE_PRIORITY: tuple[EntityType, ...] = ("country", "place", "event", "person", "group", "organisation")


def _aggregate(occurrences: Iterable[Occurrence]) -> list[NameCandidate]:
    occurrences = list(occurrences)
    groups = KeyGroups()
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
    members: dict[str, list[Occurrence]] = {}
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
            NameCandidate(
                name=name,
                type=_guess_type(name, forms, occs),
                aliases=tuple(f for f in forms if f != name),
                count=len(occs),
                spans=tuple(sorted((o.start, o.end) for o in occs)),
            )
        )
    return sorted(candidates, key=lambda c: (-c.count, c.name))


def _k(occ: Occurrence) -> str:
    return normalised_key(occ.surface)


def _best_name(forms: list[str], occs: list[Occurrence]) -> str:
    for form in forms:
        canonical = GAZETTEER_KEYS.get(normalised_key(form))
        if canonical:
            return canonical
    long_forms = [o.surface for o in occs if o.long_form]
    if long_forms:
        return Counter(long_forms).most_common(1)[0][0]
    counts = Counter(o.surface for o in occs)
    return max(forms, key=lambda f: (len(f.split()), counts[f], len(f), f))


def _guess_type(name: str, forms: list[str], occs: list[Occurrence]) -> EntityType:
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
    return next((t for t in TYPE_PRIORITY if t in cues), "organisation")
