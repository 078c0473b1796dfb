import pytest

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from matching.lexical import LexicalClaimMatcher
from matching.matcher import Matcher
from matching.stance import detect_stance, is_negative

CUES = LexicalClaimMatcher(load_kb(DEFAULT_KB_PATH)).cues["isi-arms-militant-proxies"]


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        ("The ISI trained and armed Taliban fighters for years.", "asserts"),
        ("Afghan officials accused the ISI of arming the Taliban.", "reports"),
        ("According to a UN report, ISI officers funded the Haqqanis.", "reports"),
        ("Pakistan denied that the ISI ever gave weapons to the Taliban.", "denies"),
        ("The claim that the ISI funds the Taliban is baseless, Islamabad said.", "denies"),
        ("The ISI never gave weapons or money to the Taliban.", "denies"),
        # a negation that does not touch the claim's words is no denial
        (
            "Although the army cannot win a conventional war, the ISI armed and trained the Taliban.",
            "asserts",
        ),
        ("Analysts warn that the ISI still arms the Taliban.", "reports"),
        ("Far from arming the Taliban, the ISI has cut its ties to the movement, officials said.", "denies"),
        ("The ISI has nothing to do with the Taliban's weapons, its spokesman said.", "denies"),
        ("Talk of ISI weapons reaching the Taliban is overblown.", "denies"),
        ("There is little sign that the ISI still arms the Taliban, a think tank concludes.", "denies"),
        ("The ISI armed the Taliban, the UN monitoring team announced.", "reports"),
        # words that look like attribution and are not
        ("The ISI armed the Taliban fighters who claimed responsibility for the bombing.", "asserts"),
        ("The ISI armed the Taliban while claiming to be a partner of NATO.", "asserts"),
        ("With little real say over the Taliban, the ISI kept arming them.", "asserts"),
    ],
)
def test_stance_cues(sentence: str, stance: str) -> None:
    assert detect_stance(sentence, None, CUES) == stance


def test_an_introducing_sentence_carries_attribution() -> None:
    assert detect_stance("The ISI armed the Taliban.", "Kabul's envoy said it plainly:", CUES) == "reports"
    assert detect_stance("The ISI armed the Taliban.", "Kabul's envoy said so last year.", CUES) == "asserts"


def test_a_negation_agrees_with_a_claim_that_is_itself_negative() -> None:
    kb = load_kb(DEFAULT_KB_PATH)
    claim = next(c for c in kb.claims if c.id == "us-pakistan-ties-not-improved")
    assert is_negative(claim.statement)
    assert not is_negative("The ISI arms the Taliban.")
    matcher = Matcher(kb)
    result = matcher.match(
        "Relations between Pakistan and the United States never really recovered after the 2018 aid cut; "
        "ties between Washington and Islamabad have not improved since."
    )
    stances = {c.claim_id: c.stance for c in result.claims}
    assert stances.get("us-pakistan-ties-not-improved") == "asserts"
