"""Stance of a claim match: does the evidence assert the claim, report it as someone's
allegation, or deny/contradict it?

A rule-based cue detector over the evidence sentence (and the sentence before it when that
one introduces it: "Officials in Kabul put it bluntly: …").
Denial wins over attribution ("Islamabad denied the accusation that …" denies), and
attribution over plain assertion. Cues are matched as whole words on normalised text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from matching.text import normalise

Stance = Literal["asserts", "reports", "denies"]

# Denial words deny whatever they touch; a bare negation ("not", "never") only counts when a
# word of the claim itself follows closely ("never gave weapons"), so "the army cannot win a
# conventional war" does not deny a claim about arming the Taliban.
_DENIAL = (
    r"den(?:y|ies|ied|ying|ial)",
    r"reject(?:s|ed|ing)?",
    r"dismiss(?:es|ed|ing)?",
    r"refut(?:e|es|ed|ing)",
    r"rebut(?:s|ted)?",
    r"(?:is|was|are|were|be|been) (?:false|untrue|baseless|unfounded|a myth|a fabrication)",
    r"baseless|unfounded|fabricated|propaganda",
    r"(?:no|little|scant) (?:evidence|proof|sign|signs|indication)",
    # the press's own: "New Delhi blamed Islamabad without evidence", "the Indian false flag",
    # "in the absence of any evidence", "no shred of evidence", "false allegations", "the
    # so-called attack", "India's blame game"
    r"(?:without|sans|absence of|lack of|no shred of|not a single|not a shred of) "
    r"(?:offering |providing |sharing )?(?:any )?(?:single )?(?:shred of )?"
    r"(?:credible |concrete |solid |tangible )?(?:evidence|proof)",
    r"false flags?",
    r"false (?:allegations?|accusations?|claims?|charges?)",
    r"so called",
    r"blame games?",
    r"(?:history|habit|pattern) of (?:blam\w*|accus\w*|pinning|levell?ing|false|conducting false)",
    r"rebuttals?",
    r"contrary to|far from",
    r"(?:no|zero) (?:link|links|ties|role|support|case for)",
    r"rul(?:e|es|ed|ing) out",
    r"nothing to do with",
    r"overblown|overstated|exaggerated|fabrication|myth",
    r"(?:is|was|are|were) wrong",
)
_NEGATION = (
    r"never|not|no longer|nothing|neither|nor|hardly|no",
    r"isn't|wasn't|aren't|weren't|didn't|doesn't|don't|hasn't|haven't|hadn't|won't|cannot|can't",
)
_NEGATION_REACH = 6  # words after a negation in which a claim word makes it a denial
_ATTRIBUTION = (
    r"accus(?:e|es|ed|ing|ation|ations)",
    r"alleg(?:e|es|ed|edly|ation|ations)",
    r"claim(?:s|ed|ing)?",
    r"accord(?:ing)? to",
    r"said|says|say|told|stated|argue[sd]?|insists?|insisted|contend(?:s|ed)?|maintain(?:s|ed)?",
    # the reporting verbs of news copy (a forecast or a warning is someone's view, not a fact)
    r"warn(?:s|ed)?|fear(?:s|ed)?|expect(?:s|ed)?|predict(?:s|ed)?|estimat(?:e|es|ed)",
    r"conclud(?:e|es|ed)|describ(?:e|es|ed)|urg(?:e|es|ed)|quoted|cit(?:e|es|ed)|assert(?:s|ed)?",
    r"clarif(?:y|ies|ied)",
    r"report(?:s|ed|edly)?",
    r"announc(?:e|es|ed|ing)",
    r"suspect(?:s|ed)?|suspicions?",
    r"purported(?:ly)?|supposedly|apparently",
    r"charg(?:e|es|ed)",
    r"blam(?:e|es|ed|ing)",
    r"believe[sd]?|thought to|is said to|are said to",
    r"(?:officials?|analysts?|critics?|sources?|diplomats?|observers?) (?:say|said|believe|claim)",
)
_DENIAL_RE = re.compile(r"\b(?:" + "|".join(_DENIAL) + r")\b")
_NEGATION_RE = re.compile(r"\b(?:" + "|".join(_NEGATION) + r")\b")
_ATTRIBUTION_RE = re.compile(r"\b(?:" + "|".join(_ATTRIBUTION) + r")\b")
# Words that look like attribution and are not: a group claiming an attack owns it, a state
# "claiming to be" a partner pretends, and "say" after a determiner is a noun ("little say").
_NOT_ATTRIBUTION_RE = re.compile(
    r"\b(?:claim(?:s|ed|ing)? (?:responsibility|credit)|claimed by|claim(?:s|ed|ing)? to be"
    r"|(?:a|no|little|any|real|the|more|final|greater|some) say)\b"
)


class SentenceCues:
    """The stance cues of one sentence, found once and then asked about many claims."""

    def __init__(self, sentence: str) -> None:
        self.text = normalise(sentence)[0]
        self.explicit_denial = bool(_DENIAL_RE.search(self.text))
        # the few words after each bare negation: a claim word there makes it a denial
        self._negated = [
            " ".join(self.text[negation.end() :].split()[:_NEGATION_REACH])
            for negation in _NEGATION_RE.finditer(self.text)
        ]

    def denies(self, claim_cues: Sequence[re.Pattern[str]] = ()) -> bool:
        return self.explicit_denial or any(cue.search(reach) for reach in self._negated for cue in claim_cues)

    @property
    def attributes(self) -> bool:
        return bool(_ATTRIBUTION_RE.search(_NOT_ATTRIBUTION_RE.sub(" ", self.text)))


def detect_stance(
    evidence: str, previous: str | None = None, claim_cues: Sequence[re.Pattern[str]] = ()
) -> Stance:
    """``denies`` if the evidence rejects, or negates a word of the claim (``claim_cues``,
    matched on normalised text); ``reports`` if it (or an introducing sentence) attributes;
    else ``asserts``. Pass no cues for a claim that is itself a negative (see
    :func:`is_negative`): "ties never recovered" agrees with "ties have not improved"."""
    cues = SentenceCues(evidence)
    if cues.denies(claim_cues):
        return "denies"
    if cues.attributes:
        return "reports"
    if previous and previous.rstrip().endswith(":") and SentenceCues(previous).attributes:
        return "reports"
    return "asserts"


# Words that make a claim's own wording negative besides plain negations.
_NEGATIVE_WORDING_RE = re.compile(
    r"\b(?:barely|scarcely|little|lacks?|lacking|without|absent|fail(?:s|ed|ure)?)\b"
)


def is_negative(statement: str) -> bool:
    """Whether a claim is put in the negative ("ties have barely got better", "the
    intervention failed"), so a bare negation near its words is agreement, not denial."""
    text = normalise(statement)[0]
    return bool(_NEGATION_RE.search(text) or _NEGATIVE_WORDING_RE.search(text))
