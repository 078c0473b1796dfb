import pytest

from ingest.kb import load_kb
from ingest.match import LexicalClaimMatcher
from ingest.stance import detect_stance
from mediamon.settings import DEFAULT_KB_PATH

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
    ],
)
def test_stance_cues(sentence: str, stance: str) -> None:
    assert detect_stance(sentence, None, CUES) == stance


def test_an_introducing_sentence_carries_attribution() -> None:
    assert detect_stance("The ISI armed the Taliban.", "Kabul's envoy said it plainly:", CUES) == "reports"
    assert detect_stance("The ISI armed the Taliban.", "Kabul's envoy said so last year.", CUES) == "asserts"
