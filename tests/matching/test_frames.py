"""Claim frames: who does what to whom, in the press's order (matching.frames, KbFrame)."""

from __future__ import annotations

import pytest

from config.settings import DEFAULT_KB_PATH
from matching.entities import EntityMatcher
from matching.frames import FRAME_SCORE, FrameMatcher
from matching.kb import KnowledgeBase, load_kb
from matching.matcher import Matcher
from matching.sentences import split_sentences
from notify.digest import why_matched
from tests.support.kb_data import minimal_kb_data

PROXIES = "islamabad-cultivates-jihadist-proxies"
TIES = "us-pakistan-ties-not-improved"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)  # the lexical method: what a frame adds does not need the encoder


def _claims(matcher: Matcher, text: str) -> dict[str, str | None]:
    return {c.claim_id: c.stance for c in matcher.match(text).claims}


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("New Delhi blamed Islamabad for the Pahalgam attack without evidence.", "denies"),
        ("India has accused Pakistan of backing the militants behind the attack in Pahalgam.", "reports"),
        ("Prime Minister Shehbaz rejected India's attempts to link Pakistan to the attack.", "denies"),
        ("Pakistan denied any involvement in the attack and offered a neutral inquiry.", "denies"),
        # the frame is India's accusation: reported, though no verb of the sentence says so
        ("New Delhi's attempts to link Pakistan to the attack drew wide condemnation.", "reports"),
        ("India has yet to show proof of Pakistan's involvement in the so-called attack.", "denies"),
        ("India blamed Pakistan for the killings in Pahalgam sans proof.", "denies"),
        ("The spokesman said India has a history of blaming Pakistan for attacks.", "denies"),
        ("The attack was orchestrated by Pakistan, the Indian minister claimed.", "reports"),
        ("Pakistani officials called the Pahalgam attack an Indian false flag.", "denies"),
    ],
)
def test_the_press_form_of_the_proxy_claim_is_matched_with_its_stance(
    matcher: Matcher, text: str, stance: str
) -> None:
    found = _claims(matcher, text)
    assert found.get(PROXIES) == stance, found


@pytest.mark.parametrize(
    "text",
    [
        # the accuser after the accusation: Pakistan accuses India, not our claim
        "Pakistan blamed India for the attack on the Jaffar Express.",
        # no attack, no terror: a trade row is not the claim
        "India accused Pakistan of dumping cement below cost.",
        # the actors named, no accusation
        "India and Pakistan traded fire after the attack, officials said.",
        # near: the accusation is India's, Pakistan only where the terrorism happened
        "He accused India of supporting terrorism within Pakistan after the attack.",
        "Pakistan has evidence of India's involvement in the attack on the train.",
        "Terrorism sponsored by India in Pakistan has killed hundreds, the attack's victims said.",
    ],
)
def test_a_sentence_that_does_not_fill_the_frame_in_order_is_not_the_claim(
    matcher: Matcher, text: str
) -> None:
    assert PROXIES not in _claims(matcher, text)


def test_a_frame_that_takes_a_side_sets_the_stance(matcher: Matcher) -> None:
    """Ties "improving" contradict "ties have barely got better", whatever the sentence's cues."""
    improving = "Washington and Islamabad have seen a marked improvement in relations this year."
    strained = "Pakistan has struggled to keep cordial relations with the United States."
    assert _claims(matcher, improving).get(TIES) == "denies"
    assert _claims(matcher, strained).get(TIES) == "asserts"


def test_a_frame_match_says_which_frame_and_why(kb: KnowledgeBase, matcher: Matcher) -> None:
    text = "The conflict began as New Delhi blamed Islamabad for the attack without evidence."
    [hit] = [c for c in matcher.match(text).claims if c.claim_id == PROXIES]
    assert (hit.method, hit.score) == ("frame", FRAME_SCORE)
    number = int(dict(hit.features)["frame"])
    claim = next(c for c in kb.claims if c.id == PROXIES)
    [explained] = [e for e in matcher.explain(text) if e.claim_id == PROXIES]
    assert explained.matched and explained.frame == claim.frames[number].says
    assert explained.why == f"fills the press frame “{claim.frames[number].says}”"
    assert why_matched("frame", dict(hit.features)).startswith("matched by a press frame")


def test_a_claim_already_matched_by_its_method_keeps_that_match(kb: KnowledgeBase) -> None:
    """Frames add what the method missed; they do not replace what it found."""
    matcher = Matcher(kb)
    text = (
        "Pakistan's ISI has for decades given training, arms, money and intelligence to the "
        "Taliban and other militant groups. India blamed Pakistan for the attack."
    )
    methods = {c.claim_id: c.method for c in matcher.match(text).claims}
    assert methods.get("isi-arms-militant-proxies") == "lexical"
    assert methods.get(PROXIES) == "frame"


def test_frame_slots_are_checked_when_the_knowledge_base_loads() -> None:
    data = minimal_kb_data()
    claim = data["claims"][0]
    claim["frames"] = [{"says": "someone does something", "anywhere": ["@no-such-entity", "acts"]}]
    with pytest.raises(ValueError, match="no-such-entity"):
        KnowledgeBase.model_validate(data)
    claim["frames"] = [{"says": "only words here", "anywhere": ["acts", "again"]}]
    with pytest.raises(ValueError, match="one of them an entity"):
        KnowledgeBase.model_validate(data)
    entity = data["entities"][0]["id"]
    claim["frames"] = [{"says": "someone acts", "anywhere": [f"@{entity}", "acts"], "near": 2}]
    with pytest.raises(ValueError, match="near bounds the words between order slots"):
        KnowledgeBase.model_validate(data)


def test_near_bounds_the_words_between_order_slots() -> None:
    data = minimal_kb_data()
    entity = data["entities"][0]
    claim = data["claims"][0]
    claim["frames"] = [{"says": "someone accused", "order": ["accus", f"@{entity['id']}"], "near": 2}]
    kb = KnowledgeBase.model_validate(data)
    frames = FrameMatcher(kb)

    def fills(text: str) -> bool:
        return bool(frames.match(split_sentences(text), EntityMatcher(kb).find(text)))

    name = entity["name"]
    assert fills(f"They accused the {name} of it.")  # one word between
    assert fills(f"They accused the old {name} of it.")  # two
    assert not fills(f"They accused the very old {name} of it.")  # three
    assert not fills(f"The {name} accused them of it.")  # out of order


def test_the_entities_of_a_frame_count_through_part_of(kb: KnowledgeBase) -> None:
    """ "The Pakistan Army" fills "@pakistan" (the army is part of the state)."""
    text = "The Pakistan Army's drills go on after the Indian false flag attack in Pahalgam."
    sentences = split_sentences(text)
    hits = FrameMatcher(kb).match(sentences, EntityMatcher(kb).find(text))
    assert PROXIES in {h.claim_id for h in hits}
