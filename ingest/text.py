"""Text normalisation with an offset map: the one place that decides when two spellings are the same.

Used by the knowledge-base validator (two aliases that normalise alike collide) and by the
matcher (which searches the normalised text and maps hits back to original offsets).
"""

from __future__ import annotations

import unicodedata

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
APOSTROPHES = "'\u2019\u2018`"


def normalise(text: str, *, fold_case: bool = True) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index of the original character.

    Case folded (optional), diacritics removed, apostrophes unified, and every run of white
    space and dashes collapsed to one space, so "Lashkar -e-Taiba" and "Lashkar-e-Taiba"
    normalise alike.
    """
    out: list[str] = []
    index: list[int] = []
    previous_space = True
    for position, char in enumerate(text):
        if char.isspace() or char in DASHES:
            if not previous_space:
                out.append(" ")
                index.append(position)
            previous_space = True
            continue
        previous_space = False
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
    return "".join(out), index


def normalised_key(text: str) -> str:
    """The form two aliases are compared by."""
    return normalise(text)[0].strip()
