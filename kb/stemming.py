"""A crude prefix stemmer for the cue terms of draft claims.

The lexical matcher (:mod:`matching.lexical`) matches claim terms as word PREFIXES, so a stem
must be a prefix of the word it came from ("orchestrated" → "orchestrat" also matches
"orchestrate" and "orchestrating"). That is why it is hand-written: the usual stemmers (Porter,
Snowball) rewrite endings ("policy" → "polici") and cut deeper ("orchestrated" → "orchestr"), so
their stems are not always prefixes and the drafted terms would change; none is installed in
this project either, and a dozen suffixes are not worth a dependency.
"""

from __future__ import annotations


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
