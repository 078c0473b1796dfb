"""notify/render.py: digests, alerts and spread alerts rendered from real articles, parsed back.

Every message is turned into bytes and read back with the standard library's default policy,
as a mail client would: what is asserted is what a reader receives.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime

import pytest

from notify import mime
from notify.kinds import Mode
from notify.records import Alert, ClaimSection, Digest, Follower, Outlet, SpreadAlert, StoryItem
from notify.render import render_alert, render_digest, render_spread
from tests.notify.digest_data import CorpusDigest, build_corpus_digest, envelope_for, week_articles

HOSTILE = "<script>alert('pwned')</script>"


@pytest.fixture(scope="module")
def corpus_digest() -> CorpusDigest:
    return build_corpus_digest()


def subject(message: EmailMessage) -> str:
    """The Subject as a reader sees it. A value of 70-77 characters is folded onto its own line
    (``Subject:\r\n mediamon...``), legal RFC 5322 that the standard library's parser reads back
    with the folding space in front; mail clients drop it, and so does this."""
    return str(message["Subject"]).strip()


def received(message: EmailMessage) -> EmailMessage:
    """The message as a mail client parses it."""
    parsed = message_from_bytes(mime.to_bytes(message), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message, checking the structure on the way."""
    assert message.get_content_type() == "multipart/alternative"
    children = list(message.iter_parts())
    assert [p.get_content_type() for p in children] == ["text/plain", "text/html"]
    for part in children:
        assert part.get_content_charset() == "utf-8"
    text, html = (p.get_content() for p in children)
    assert isinstance(text, str)
    assert isinstance(html, str)
    return text, html


@pytest.fixture(scope="module")
def digest_message(corpus_digest: CorpusDigest) -> EmailMessage:
    return received(render_digest(corpus_digest.digest, corpus_digest.envelope))


def test_digest_is_text_then_html(digest_message: EmailMessage) -> None:
    text, html = parts(digest_message)
    assert text.startswith("YOUR WEEKLY DIGEST")
    assert html.lstrip().lower().startswith("<!doctype html>")


def test_digest_headers(corpus_digest: CorpusDigest, digest_message: EmailMessage) -> None:
    envelope = corpus_digest.envelope
    m = digest_message
    assert m["From"] == envelope.mail_from
    assert m["To"] == "analyst@example.org"
    assert subject(m) == "mediamon weekly digest, 30 Apr 2025: 11 stories, 3 claims"
    assert m["Date"] == format_datetime(envelope.date)
    assert m["Date"].datetime == envelope.date
    assert m["Message-ID"] == envelope.message_id == "<digest.42.20250429@mediamon.example>"
    assert m["List-Id"] == "mediamon digest <digest.mediamon.example>"
    assert m["List-Unsubscribe"] == (
        f"<{envelope.unsubscribe_url}>, <mailto:unsubscribe@mediamon.example?subject=unsubscribe%2042>"
    )
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert m["MIME-Version"] == "1.0"
    assert "Auto-Submitted" not in m  # a requested newsletter, not an auto-reply


def test_long_unsubscribe_link_is_never_encoded(corpus_digest: CorpusDigest) -> None:
    """Gmail ignores an RFC 2047-encoded List-Unsubscribe: the URL must stay literal."""
    raw = mime.to_bytes(render_digest(corpus_digest.digest, corpus_digest.envelope))
    assert len(f"List-Unsubscribe: <{corpus_digest.envelope.unsubscribe_url}>") > 78
    header = re.search(rb"^List-Unsubscribe: (.*?)\r\n(?! )", raw, re.MULTILINE | re.DOTALL)
    assert header is not None
    assert b"=?" not in header.group(1)
    assert f"<{corpus_digest.envelope.unsubscribe_url}>".encode() in header.group(1)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    # Written again, or read back from the outbox and written again: the same bytes.
    message = render_digest(corpus_digest.digest, corpus_digest.envelope)
    assert mime.to_bytes(message) == mime.to_bytes(message) == raw
    assert mime.to_bytes(mime.from_bytes(raw)) == raw


def test_digest_text_part(corpus_digest: CorpusDigest, digest_message: EmailMessage) -> None:
    text, _ = parts(digest_message)
    flat = " ".join(text.split())  # titles are wrapped in the text part
    for title in corpus_digest.titles:
        assert " ".join(title.split()) in flat
    assert "+2 outlets" in text
    grouped = corpus_digest.grouped[0]
    assert all(o.name in text for o in grouped.outlets)
    # Times in the reader's zone (Karachi, UTC+5) with the abbreviation.
    lead = grouped.published.astimezone(UTC)
    assert f"{lead.hour + 5:02d}:{lead.minute:02d} PKT" in text
    assert "SINCE YOUR LAST DIGEST" in text
    assert "up from 3" in text
    assert "«Indus Waters Treaty»" in flat or "«Indus Waters" in text
    assert "[denies]" in text
    assert "and 23 more not shown here" in text
    assert corpus_digest.envelope.unsubscribe_url in text
    assert "analyst@example.org is subscribed" in text
    # Sections in order: claims first, then the entity.
    assert text.index("CLAIM (") < text.index("ENTITY (")


def test_digest_html_is_inlined_and_self_contained(
    corpus_digest: CorpusDigest, digest_message: EmailMessage
) -> None:
    _, html = parts(digest_message)
    assert "<style" not in html.lower()  # inlined, not left in a block mail clients drop
    assert "<link" not in html.lower()
    assert "<script" not in html.lower()
    assert len(re.findall(r'<td[^>]+style="[^"]*padding', html)) > 10
    assert re.search(r'<mark[^>]+style="[^"]*background-color', html)
    assert re.search(r'<table[^>]+width="640"', html)  # Outlook reads widths from attributes
    assert not re.search(r"<img[^>]+src=[\"']?(https?:)?//", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
    assert "<mark" in html and "Indus Waters Treaty</mark>" in html
    assert 'class="stance stance-denies"' in html
    assert f'href="{corpus_digest.envelope.unsubscribe_url}"' in html.replace("&amp;", "&")
    assert "Since your last digest" in html


def test_hostile_web_text_arrives_escaped(corpus_digest: CorpusDigest) -> None:
    section = corpus_digest.digest.claims[0]
    story = section.stories[0]
    hostile = dataclasses.replace(
        story,
        title=f"{HOSTILE} {story.title}",
        evidence=f'{story.evidence} <img src="https://evil.example/x.png" onerror="alert(1)">',
        url="javascript:alert(document.cookie)",
        outlets=(dataclasses.replace(story.outlets[0], name="Dawn <b>bold</b>"), *story.outlets[1:]),
    )
    digest = dataclasses.replace(
        corpus_digest.digest, claims=(dataclasses.replace(section, stories=(hostile,)),), entities=()
    )
    text, html = parts(received(render_digest(digest, corpus_digest.envelope)))
    assert "<script" not in html
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<b>bold" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html  # not a link at all
    assert HOSTILE in text  # plain text needs no escaping, and shows what the site wrote
    assert "javascript:" not in text


def test_times_across_the_change_to_summer_time() -> None:
    """Europe/London moved to BST at 01:00 UTC on 29 March 2026."""
    a, b = week_articles("Indus Waters")[:2]
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    after = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    stories = (
        StoryItem(1, a.title, a.url, before, (Outlet(a.source, a.url, before),)),
        StoryItem(2, b.title, b.url, after, (Outlet(b.source, b.url, after),)),
    )
    digest = Digest(
        subscription_id=7,
        address="reader@example.org",
        mode=Mode.DAILY,
        window_start=datetime(2026, 3, 28, 7, 0, tzinfo=UTC),  # 07:00 GMT
        window_end=datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # 07:00 BST
        timezone="Europe/London",
        claims=(ClaimSection("iwt", "India has suspended the Indus Waters Treaty", stories),),
    )
    message = received(render_digest(digest, envelope_for("reader@example.org", subscription_id=7)))
    text, html = parts(message)
    for body in (text, html):
        assert "29 Mar 2026, 00:30 GMT" in body
        assert "29 Mar 2026, 02:30 BST" in body
        assert "28 Mar 2026, 07:00 GMT – 29 Mar 2026, 07:00 BST" in body
    assert subject(message) == "mediamon daily digest, 29 Mar 2026: 2 stories, 1 claim"


def test_alert(corpus_digest: CorpusDigest) -> None:
    stories = corpus_digest.digest.claims[1].stories
    alert = Alert(
        subscription_id=42,
        address="analyst@example.org",
        window_start=datetime(2025, 4, 23, 10, 0, tzinfo=UTC),
        window_end=datetime(2025, 4, 23, 10, 5, tzinfo=UTC),
        timezone="Asia/Karachi",
        stories=stories,
        overflow=4,
        claim="India blames Pakistan for the Pahalgam attack",
    )
    message = received(render_alert(alert, corpus_digest.envelope))
    text, html = parts(message)
    more = len(stories) - 1 + 4
    assert subject(message) == f"mediamon alert: India blames Pakistan for the Pahalgam attack (+{more} more)"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "23 Apr 2025, 15:00–15:05 PKT" in text
    assert "And 4 more stories in this window" in text
    for story in stories:
        assert " ".join(story.title.split()) in " ".join(text.split())
    assert "<style" not in html and "And 4 more stories" in html

    untitled = dataclasses.replace(alert, claim=None, overflow=0, stories=stories[:1])
    assert subject(received(render_alert(untitled, corpus_digest.envelope))) == (
        f"mediamon alert: {stories[0].title}"
    )


def test_spread_alert(corpus_digest: CorpusDigest) -> None:
    first, *others = week_articles("Pahalgam")[:4]
    spread = SpreadAlert(
        subscription_id=42,
        address="analyst@example.org",
        claim_id="pahalgam-blame",
        statement="India blames Pakistan for the Pahalgam attack, without evidence, and the world is asked "
        "to take its word",
        first=Outlet(first.source, first.url, first.published),
        followers=tuple(
            Follower(Outlet(a.source, a.url, a.published), (a.published - first.published).total_seconds())
            for a in others
        ),
        timezone="Asia/Karachi",
    )
    message = received(render_spread(spread, corpus_digest.envelope))
    text, html = parts(message)
    distinct = len({first.source, *(a.source for a in others)})
    title = subject(message)
    assert title.startswith("Claim spreading: India blames Pakistan for the Pahalgam attack")
    assert title.endswith(f"… — {distinct} outlets in 24 h")
    lag = others[0].published - first.published
    hours, minutes = divmod(round(lag.total_seconds() / 60), 60)
    expected = f"+{hours} h {minutes:02d} min" if hours else f"+{minutes} min"
    assert expected in text and expected in html
    assert f"First said by {first.source}" in text
    assert first.url in text


def test_apprise_target_is_not_an_address(corpus_digest: CorpusDigest) -> None:
    envelope = dataclasses.replace(corpus_digest.envelope, to="json://127.0.0.1:9/hook?token=a%2Fb")
    digest = dataclasses.replace(corpus_digest.digest, address=envelope.to)
    message = received(render_digest(digest, envelope))
    assert "To" not in message
    assert message[mime.TARGET_HEADER] == "json://127.0.0.1:9/hook?token=a%2Fb"
    text, _ = parts(message)
    assert "json://" not in text  # the URL holds credentials: the footer does not repeat it
