"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against the
app under a real uvicorn server on 127.0.0.1, over a SQLite store of real articles.

The pages are used as an analyst uses them, with JavaScript switched off (they must not need
it): the overview loads with its chart drawn, the period picker and the normalize toggle work,
the spikes and top lists show what was stored, a claim opens on its history, and a search
returns the articles with links to them. Every request the browser makes is recorded: none may
leave the test server. A full-page screenshot of the overview is kept as a test artefact
(tests/artifacts/dashboard.png); with MEDIAMON_UPDATE_SCREENSHOTS=1 it also replaces the
README's picture (docs/images/dashboard.png), so an ordinary run leaves the tree clean.

Playwright's own browser download is never used: only /usr/bin/chromium. Without it the test is
skipped on a developer's machine and fails in CI, which installs it (.ci/run).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from schema.db import make_engine, make_session_factory, upgrade_database
from tests.support.browser import chromium
from tests.support.net import free_port
from tests.web.corpus import BURST_ENTITY, BURST_WORD, CLAIM, NOW, THRESHOLD, Planned, fill
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "tests" / "artifacts" / "dashboard.png"
README_PICTURE = ROOT / "docs" / "images" / "dashboard.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("test the dashboard") as launched:
        yield launched


@pytest.fixture(scope="module")
def stored_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Planned]]]:
    """The app under uvicorn on a free loopback port, over a store of real articles."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'dashboard.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    stored = fill(sessions)
    app = create_app(sessions, "dashboard-secret", clock=lambda: NOW, on_theme_threshold=THRESHOLD)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", stored
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def page(browser: Any, stored_app: tuple[str, list[Planned]]) -> Iterator[tuple[Any, list[str]]]:
    """A page with JavaScript off, recording every URL it requests."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    tab = context.new_page()
    try:
        yield tab, requested
    finally:
        context.close()


def _visible_text(tab: Any, selector: str) -> str:
    return " ".join(tab.locator(selector).inner_text().split())


def test_overview_draws_the_timeline_and_lists_what_was_stored(page, stored_app, tmp_path):
    tab, requested = page
    base, stored = stored_app
    response = tab.goto(f"{base}/")
    assert response is not None and response.status == 200

    chart = tab.locator("#timeline svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 200
    assert tab.locator("#timeline svg path").count() > 50, "axes, ticks, glyphs and the lines are drawn"
    lines = tab.locator("#timeline svg g[id^='line2d'] path")
    assert lines.count() >= 4, "one line per series at least"

    cards = _visible_text(tab, ".cards")
    assert f"{len(stored)} articles stored" in cards
    assert f"{sum(p.relevance >= THRESHOLD for p in stored)} on the theme" in cards
    outlets = _visible_text(tab, "#top-outlets")
    for host in ("dawn.com", "app.com.pk"):
        assert f"{host} {sum(p.host == host for p in stored)}" in outlets
    entities = _visible_text(tab, "#top-entities")
    assert f"Tehreek-e-Taliban Pakistan {sum('ttp' in p.entities for p in stored)}" in entities
    spikes = tab.locator("#spikes li.spike")
    burst = [p for p in stored if BURST_ENTITY in p.entities]
    first = " ".join(spikes.first.inner_text().split())
    assert f"India on 2025-05-08: {len(burst)} articles" in first
    assert f"Named with: Pakistan Army {len(burst)}" in first
    story_links = {spikes.first.locator("ul.stories a").nth(i).get_attribute("href") for i in range(3)}
    assert story_links <= {p.article.url for p in burst}
    claims = tab.locator("#top-claims a").first
    assert claims.get_attribute("href") == f"/claims/{CLAIM}"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000
    if os.environ.get("MEDIAMON_UPDATE_SCREENSHOTS") == "1":
        README_PICTURE.write_bytes(SCREENSHOT.read_bytes())

    # The period picker and the normalize toggle are plain GET forms.
    tab.locator(".picker button[value='7d']").click()
    tab.wait_for_url("**/?period=7d*")
    assert "7d" in _visible_text(tab, ".picker button.on")
    week = [p for p in stored if (NOW - p.article.published).days < 7 + 1]
    assert f"{len(week)} articles stored" in _visible_text(tab, ".cards")
    tab.locator(".picker input[name='normalize']").check()
    tab.locator(".picker button[value='30d']").click()
    tab.wait_for_url("**normalize=true*")
    assert "share of all stored articles" in _visible_text(tab, "#timeline h2")
    assert tab.locator("#timeline svg path").count() > 50

    assert requested, "the browser made requests"
    assert all(url.startswith(f"{base}/") for url in requested), [
        u for u in requested if not u.startswith(base)
    ]
    assert f"{base}/static/dashboard.css" in requested, "the vendored stylesheet is served"


def test_a_claim_opens_on_its_history(page, stored_app):
    tab, requested = page
    base, stored = stored_app
    tab.goto(f"{base}/")
    tab.locator(f"#top-claims a[href='/claims/{CLAIM}']").click()
    tab.wait_for_url(f"**/claims/{CLAIM}")
    on_claim = [p for p in stored if any(c == CLAIM for c, _ in p.claims)]
    first = min(on_claim, key=lambda p: (p.article.published, p.id))
    seen = _visible_text(tab, "#first-seen")
    assert first.host in seen and first.article.title in seen
    assert tab.locator("#first-seen a").get_attribute("href") == first.article.url
    outlets = _visible_text(tab, "#outlets")
    for host in {p.host for p in on_claim}:
        assert host in outlets
    flips = _visible_text(tab, "#changes")
    assert "asserts→denies" in flips or "denies→asserts" in flips, "the plan alternates stances"
    assert tab.locator("#claim-timeline svg path").count() > 50
    assert tab.locator("#events tbody tr").count() == len(on_claim)
    assert all(url.startswith(f"{base}/") for url in requested)


def test_search_returns_articles_with_links(page, stored_app):
    tab, requested = page
    base, stored = stored_app
    tab.goto(f"{base}/search")
    tab.locator("form.search input[name='q']").fill(BURST_WORD)
    tab.locator("form.search button[type='submit']").click()
    tab.wait_for_url(f"**/search?q={BURST_WORD}*")
    hits = tab.locator("#results .hit")
    titled = {p.article.url for p in stored if BURST_WORD in p.article.title.lower()}
    assert hits.count() >= len(titled) >= 6
    links = [hits.nth(i).locator("a.title").get_attribute("href") for i in range(hits.count())]
    assert titled <= set(links), "every article with the word in its title is found, with its link"
    assert set(links) <= {p.article.url for p in stored}
    assert tab.locator("#results mark").count() >= len(titled), "the hits are highlighted"
    assert all(url.startswith(f"{base}/") for url in requested), "following a result is the reader's choice"


def test_the_burst_entity_is_on_top_of_the_week(page, stored_app):
    """The six drone articles of 8 May put India among the week's top entities."""
    tab, _requested = page
    base, stored = stored_app
    tab.goto(f"{base}/?period=7d")
    entities = _visible_text(tab, "#top-entities")
    assert "India" in entities
    tab.locator("#top-entities a", has_text="India").click()
    tab.wait_for_url(f"**entity={BURST_ENTITY}*")
    named_with = _visible_text(tab, "#cooccurring")
    assert named_with.startswith(f"Named with {BURST_ENTITY}")
    burst = [p for p in stored if BURST_ENTITY in p.entities]
    assert f"Pakistan Army {len(burst)}" in named_with, "every drone article named the army too"
