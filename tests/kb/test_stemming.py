"""The prefix stemmer of draft claim terms (kb/stemming.py)."""

from __future__ import annotations

import pytest

from kb.stemming import stem


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("training", "train"),
        ("orchestrated", "orchestrat"),
        ("weapons", "weapon"),
        ("tenuous", "tenuous"),
        ("radicalization", "radicaliz"),
        ("countries", "countr"),
        ("allies", "alli"),
    ],
)
def test_stems_are_prefixes(word, expected):
    assert stem(word) == expected
    assert word.startswith(stem(word))
