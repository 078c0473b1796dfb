"""The digest's HTML part in a real browser: Debian's headless Chromium, driven by Playwright.

The page is loaded from the message as received (parsed back from bytes), every network request
is refused and recorded (a mail client that fetched anything would leak the reader), and the
visible text is checked. The screenshot is kept as a test artefact, tests/artifacts/digest.png.
Playwright's own browser download is never used: only /usr/bin/chromium. Without it the test
is skipped on a developer's machine and fails in CI, which installs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from notify import mime
from notify.render import render_digest
from tests.notify.digest_data import CorpusDigest, build_corpus_digest
from tests.support.browser import chromium

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def corpus_digest() -> CorpusDigest:
    return build_corpus_digest()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("render the digest") as launched:
        yield launched


def html_part(message: EmailMessage) -> str:
    received = message_from_bytes(mime.to_bytes(message), policy=default)
    assert isinstance(received, EmailMessage)
    part = received.get_body(preferencelist=("html",))
    assert part is not None
    html = part.get_content()
    assert isinstance(html, str)
    return html


@dataclasses.dataclass
class Rendered:
    text: str
    requests: list[str]
    dialogs: list[str]


def render(browser: Any, html: str, screenshot: Path | None = None) -> Rendered:
    """Load ``html`` as a mail client would show it, refusing and recording every request."""
    requests: list[str] = []
    dialogs: list[str] = []

    def refuse(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page = browser.new_page(viewport={"width": 720, "height": 900})
    try:
        page.route("**/*", refuse)
        page.on("dialog", dismiss)
        page.set_content(html, wait_until="load")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        return Rendered(page.inner_text("body"), requests, dialogs)
    finally:
        page.close()


def test_digest_in_chromium(browser: Any, corpus_digest: CorpusDigest) -> None:
    html = html_part(render_digest(corpus_digest.digest, corpus_digest.envelope))
    shot = ARTIFACTS / "digest.png"
    page = render(browser, html, screenshot=shot)

    assert page.requests == []  # no image, font, stylesheet or script fetched
    visible = " ".join(page.text.split())
    for title in corpus_digest.titles:
        assert " ".join(title.split()) in visible
    assert "+2 outlets" in visible
    assert all(o.name in visible for o in corpus_digest.grouped[0].outlets)
    assert "Since your last digest".upper() in visible.upper()
    assert "PKT" in visible
    assert "Unsubscribe" in visible
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_title_stays_text_in_chromium(browser: Any, corpus_digest: CorpusDigest) -> None:
    section = corpus_digest.digest.claims[0]
    story = section.stories[0]
    hostile = dataclasses.replace(
        story,
        title=f"<script>alert('pwned')</script><img src=https://evil.example/t.png> {story.title}",
    )
    digest = dataclasses.replace(
        corpus_digest.digest, claims=(dataclasses.replace(section, stories=(hostile,)),), entities=()
    )
    page = render(browser, html_part(render_digest(digest, corpus_digest.envelope)))
    assert page.dialogs == []  # the script never ran
    assert page.requests == []  # the image was never fetched
    assert "<script>alert('pwned')</script>" in page.text  # shown as the text the site wrote
