"""Where candidate entity names occur in raw text, each occurrence with a type cue if the text gives one.

Candidates come from three patterns — runs of capitalised words (with the lower-case
particles of transliterated names: "Jaish-e-Mohammed", "Center for Political and Foreign
Affairs"), acronyms (ISI, IS-K, LeT), and "Long Form (ACR)" pairs — filtered by a stoplist
and by whether a sentence-initial capital is attested elsewhere in the text. Named events
("2019 Pulwama attack") and groups ("US-led coalition") that run into lower-case words have
patterns of their own; title-case headings contribute only names the body knows.
:mod:`kb.names` groups the occurrences into one candidate per entity.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kb.layout import is_heading, is_metadata
from kb.lexicon import (
    DEMONYMS,
    EVENT_NOUNS,
    GAZETTEER_KEYS,
    GENERIC_CAPITALS,
    HONORIFICS,
    ORG_CUES,
    PARTICLES,
    ROLE_NOUNS,
    STOP_CAPITALS,
    TITLES,
)
from matching.kb import EntityType
from matching.sentences import Sentence, split_sentences
from matching.text import is_acronym, normalised_key

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
_ROLE_BEFORE = re.compile(rf"\b(?:{ROLE_NOUNS})\s+$")
_TITLE_DOT = re.compile(r"\.\s+")
_ROLE_AFTER = re.compile(rf",\s+(?:the|a|an|its|their)?\s*(?:\w+\s+){{0,2}}?(?:{ROLE_NOUNS})\b")
_SENTENCE_LEAD = re.compile(r"[\s\"'“‘(\[]*")


@dataclass
class Occurrence:
    """One mention of a candidate name: its surface form, where, and what the text says it is."""

    surface: str
    start: int
    end: int
    cue: EntityType | None = None
    same_as: list[str] = field(default_factory=list)  # other surface forms of the same entity
    long_form: bool = False
    paren_end: int = 0  # "Long Form (ACR)": the bracketed form is part of this one mention


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


def find_occurrences(text: str) -> list[Occurrence]:
    """Every occurrence of a candidate name in raw text, with its type cue and other forms (see the
    module docstring), in no particular order."""
    body: list[Sentence] = []
    headings: list[Sentence] = []
    for sentence in split_sentences(text):
        if is_metadata(sentence.text):
            continue
        (headings if is_heading(sentence.text) else body).append(sentence)
    tokens_by_sentence = [_tokens(s) for s in body]
    attested = {
        normalised_key(tok) for toks in tokens_by_sentence for tok, _, _, initial in toks if not initial
    }
    occurrences: list[Occurrence] = []
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
    return occurrences


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
) -> list[Occurrence]:
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
    found: list[Occurrence] = []
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


def _name_from_run(text: str, run: list[tuple[str, int, int, bool]], attested: set[str]) -> list[Occurrence]:
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
    occurrence = Occurrence(surface, start, end, cue)
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
                    found[0] = Occurrence(
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


def _patterns(text: str, body: list[Sentence]) -> list[Occurrence]:
    """Named events and groups whose names run into lower-case words."""
    found: list[Occurrence] = []
    for sentence in body:
        base = sentence.start
        for m in _YEAR_EVENT.finditer(sentence.text):
            name = f"{m.group(1)} {_clean_surface(m.group(2))}"
            found.append(Occurrence(name, base + m.start(), base + m.end(), "event", [m.group(2)]))
        for m in _LED_GROUP.finditer(sentence.text):
            found.append(Occurrence(m.group(), base + m.start(), base + m.end(), "group"))
        for m in _PEACE_PROCESS.finditer(sentence.text):
            words = m.group(1).split()
            while words and normalised_key(words[0]) in STOP_CAPITALS:
                words.pop(0)
            if words:
                name = " ".join([*words, m.group(2)])
                found.append(Occurrence(name, base + m.end() - len(name), base + m.end(), "event"))
    return found


def _heading_occurrences(headings: list[Sentence], body: list[Occurrence]) -> list[Occurrence]:
    """Title-case headings capitalise everything: take only acronyms and names the body knows."""
    known = {normalised_key(o.surface) for o in body} | {normalised_key(s) for o in body for s in o.same_as}
    surnames = {normalised_key(o.surface.split()[-1]) for o in body if o.cue == "person"}
    found: list[Occurrence] = []
    for heading in headings:
        taken: list[tuple[int, int]] = []
        for form in sorted({o.surface for o in body if " " in o.surface}, key=len, reverse=True):
            for m in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", heading.text):
                taken.append((m.start(), m.end()))
                found.append(Occurrence(form, heading.start + m.start(), heading.start + m.end()))
        for m in _TOKEN.finditer(heading.text):
            key = normalised_key(m.group())
            if any(a <= m.start() < b for a, b in taken) or key in STOP_CAPITALS | GENERIC_CAPITALS:
                continue
            if is_acronym(m.group()) or key in known or key in surnames or key in GAZETTEER_KEYS:
                found.append(Occurrence(m.group(), heading.start + m.start(), heading.start + m.end()))
    return found
