"""Text normalisation with an offset map: the one place that decides when two spellings are the same.

Used by the knowledge-base validator (two aliases that normalise alike collide) and by the
matcher (which searches the normalised text and maps hits back to original offsets).
"""

from __future__ import annotations

import functools
import re
import unicodedata

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
APOSTROPHES = "'\u2019\u2018`"


_SEPARATORS = re.compile(r"[\s" + re.escape(DASHES) + r"]+")


@functools.lru_cache(maxsize=512)
def normalise(text: str, *, fold_case: bool = True) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index of the original character.

    Cached: one article is normalised whole by the entity matcher and the relevance model,
    and sentence by sentence by the lexical stage and the frames; the offset list is shared,
    so callers must not change it.

    Case folded (optional), diacritics and invisible format characters (soft hyphens,
    zero-width spaces) removed, apostrophes unified, and every run of white
    space and dashes collapsed to one space, so "Lashkar -e-Taiba" and "Lashkar-e-Taiba"
    normalise alike. Words in plain ASCII take a fast path (this runs on every article).
    """
    out: list[str] = []
    index: list[int] = []
    position = 0
    for separator in (*_SEPARATORS.finditer(text), None):
        end = separator.start() if separator else len(text)
        if end > position:
            _append_word(text, position, end, fold_case, out, index)
        if separator is None:
            break
        if out:  # leading separators vanish, inner runs become one space
            out.append(" ")
            index.append(separator.start())
        position = separator.end()
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def _append_word(text: str, start: int, end: int, fold_case: bool, out: list[str], index: list[int]) -> None:
    word = text[start:end]
    if word.isascii():
        word = word.replace("`", "'")
        out.append(word.lower() if fold_case else word)
        index.extend(range(start, end))
        return
    for position in range(start, end):
        char = text[position]
        if unicodedata.category(char) == "Cf":
            # Invisible format characters: a newspaper's soft hyphens ("Afg\xadhanistan", in
            # hundreds of Dawn articles) and zero-width spaces must not split a name.
            continue
        if char in APOSTROPHES:
            out.append("'")
            index.append(position)
            continue
        for piece in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(piece):
                continue
            for folded in piece.lower() if fold_case else piece:
                out.append(folded)
                index.append(position)


def normalised_key(text: str) -> str:
    """The form two aliases are compared by."""
    return normalise(text)[0].strip()


def is_acronym(alias: str) -> bool:
    """Aliases like ISI, TTP, LeT, JeM, IS-K are matched case-sensitively ("let" is not LeT);
    transliterated names like Lashkar-e-Taiba are not acronyms, whatever their capitals."""
    letters = [c for c in alias if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return " " not in alias.strip() and capitals >= 2 and capitals * 2 >= len(letters)
