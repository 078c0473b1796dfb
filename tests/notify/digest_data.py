"""A weekly digest built from real Dawn and APP articles (../shared/corpus/news), at test time.

The week of the Pahalgam attack (22–29 April 2025), read by an analyst in Asia/Karachi:
claims and an entity chosen by words in the titles, the evidence the first sentence of each
article that names the claim's key phrase, with that phrase marked. Grouping articles into
stories is not tested here (notify.stories is): the first story of each claim simply carries
the next two articles as its other outlets, so "+2 outlets" has real names and times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from notify.kinds import Mode
from notify.records import (
    ClaimSection,
    ClaimTrend,
    Digest,
    EntitySection,
    Envelope,
    Outlet,
    SinceLast,
    StoryItem,
)
from notify.tokens import make_token
from tests.support.news import NewsArticle, news

WEEK_START = datetime(2025, 4, 22, 19, 0, tzinfo=UTC)  # 23 April, 00:00 in Karachi
WEEK_END = datetime(2025, 4, 29, 19, 0, tzinfo=UTC)
SECRET = "test-secret-key"
_DAWN_SUFFIX = re.compile(r"\s+-\s+[\w ]+\s+-\s+DAWN\.COM$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

#: (claim id, statement, words every title holds, phrase marked in the evidence, stances read
#: off the three stories shown: Mushaal's "false flag" is a denial)
CLAIMS = (
    (
        "iwt-suspended",
        "India has suspended the Indus Waters Treaty",
        ("Indus Waters",),
        "Indus Waters Treaty",
        ("reports", "asserts", "reports"),
    ),
    (
        "pahalgam-blame",
        "India blames Pakistan for the Pahalgam attack",
        ("Pahalgam",),
        "Pahalgam",
        ("reports", "denies", "reports"),
    ),
    (
        "kp-operations",
        "Security forces kill terrorists in Khyber Pakhtunkhwa",
        ("terrorists", "killed"),
        "terrorists",
        ("reports", "reports", "reports"),
    ),
)


@dataclass(frozen=True)
class CorpusDigest:
    digest: Digest
    envelope: Envelope
    titles: tuple[str, ...]  # every story title shown, as the reader should see it
    grouped: tuple[StoryItem, ...]  # the stories carried by more than one outlet


def clean_title(title: str) -> str:
    """Dawn's titles end in " - Pakistan - DAWN.COM": the store keeps the headline only."""
    return _DAWN_SUFFIX.sub("", title).strip()


def evidence(article: NewsArticle, phrase: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The first sentence naming ``phrase`` (or the title), with the phrase's spans."""
    sentences = [s.strip() for s in _SENTENCE.split(article.text.replace("\n", " ")) if s.strip()]
    sentence = next((s for s in sentences if phrase.casefold() in s.casefold() and len(s) < 400), "")
    sentence = sentence or clean_title(article.title)
    spans = tuple((m.start(), m.end()) for m in re.finditer(re.escape(phrase), sentence, re.IGNORECASE))
    return sentence, spans


def outlet(article: NewsArticle) -> Outlet:
    return Outlet(article.source, article.url, article.published)


def week_articles(*words: str, used: frozenset[str] = frozenset()) -> list[NewsArticle]:
    wanted = [w.casefold() for w in words]
    return [
        a
        for a in news()
        if WEEK_START <= a.published < WEEK_END
        and all(w in a.title.casefold() for w in wanted)
        and a.id not in used
    ]


def story_items(
    articles: list[NewsArticle], phrase: str, first_id: int, stances: tuple[str, ...]
) -> list[StoryItem]:
    """The first story carries the first three articles' outlets; the rest stand alone."""
    lead, *rest = articles
    groups = [[lead, *rest[:2]], *([a] for a in rest[2:])]
    items = []
    for n, group in enumerate(groups[: len(stances)]):
        head = group[0]
        sentence, spans = evidence(head, phrase)
        items.append(
            StoryItem(
                story_id=first_id + n,
                title=clean_title(head.title),
                url=head.url,
                published=head.published,
                outlets=tuple(outlet(a) for a in group),
                evidence=sentence,
                highlights=spans,
                stance=stances[n],
                relevance=0.9 - n / 10,
            )
        )
    return items


@cache
def build_corpus_digest(timezone: str = "Asia/Karachi") -> CorpusDigest:
    claims = []
    used: set[str] = set()  # each story is shown once in a digest
    for index, (claim_id, statement, words, phrase, stances) in enumerate(CLAIMS):
        articles = week_articles(*words, used=frozenset(used))
        assert len(articles) >= 5, f"the corpus changed: {words} found {len(articles)}"
        items = story_items(articles, phrase, 100 * (index + 1), stances)
        used.update(a.id for a in articles[: len(items) + 2])
        more = max(0, len(articles) - 2 - len(items))
        claims.append(ClaimSection(claim_id, statement, tuple(items), more=more))
    baloch = week_articles("Balochistan")[:2]
    entity_items = []
    for n, article in enumerate(baloch):
        sentence, spans = evidence(article, "Balochistan")
        entity_items.append(
            StoryItem(
                900 + n,
                clean_title(article.title),
                article.url,
                article.published,
                (outlet(article),),
                sentence,
                spans,
            )
        )
    entities = (EntitySection("balochistan", "Balochistan", tuple(entity_items)),)
    since = SinceLast(
        first_seen=(ClaimTrend("iwt-suspended", CLAIMS[0][1], 7),),
        growing=(ClaimTrend("pahalgam-blame", CLAIMS[1][1], 29, 0 + 3),),
        denied=(ClaimTrend("pahalgam-blame", CLAIMS[1][1], 4),),
    )
    digest = Digest(
        subscription_id=42,
        address="analyst@example.org",
        mode=Mode.WEEKLY,
        window_start=WEEK_START,
        window_end=WEEK_END,
        timezone=timezone,
        claims=tuple(claims),
        entities=entities,
        since_last=since,
    )
    stories = [s for c in digest.claims for s in c.stories] + [s for e in digest.entities for s in e.stories]
    titles = tuple(s.title for s in stories)
    grouped = tuple(s for section in digest.claims for s in section.stories if s.more_outlets)
    return CorpusDigest(digest, envelope_for(digest.address), titles, grouped)


def envelope_for(to: str, *, subscription_id: int = 42) -> Envelope:
    token = make_token(SECRET, subscription_id)
    return Envelope(
        mail_from="mediamon <digest@mediamon.example>",
        to=to,
        message_id="<digest.42.20250429@mediamon.example>",
        date=datetime(2025, 4, 29, 19, 0, 5, tzinfo=UTC),
        list_id="mediamon digest <digest.mediamon.example>",
        # Long on purpose: past 78 characters, where the standard library would encode it.
        unsubscribe_url=f"https://mediamon.example/unsubscribe/{token}?list=weekly-digest-for-subscription",
        unsubscribe_mailto="unsubscribe@mediamon.example?subject=unsubscribe%2042",
        manage_url="https://mediamon.example/subscriptions/42",
    )
