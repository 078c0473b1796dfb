"""The dashboard's pages (web/dashboard.py) without a browser: what they refuse, and that no
page refers to anything outside the server but the articles it links to.

The browser test (test_dashboard_browser.py) uses the pages; these check their edges on both
stores: an empty store, unknown ids, a search with nothing to find.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.corpus import CLAIM, NOW, fill_kb
from web.app import create_app

#: Every address a page refers to: links, images, stylesheets, scripts, forms (and the SVG
#: charts' references to their own glyphs, "#…").
_REFERENCES = re.compile(r'(?:href|src|action)="([^"]*)"')


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app over a store with the knowledge base and no article yet (a fresh install)."""
    fill_kb(sessions)
    with TestClient(create_app(sessions, None, clock=lambda: NOW)) as test_client:
        yield test_client


def test_an_empty_store_shows_every_page(client):
    for path in ("/", "/?period=90d&normalize=true", "/claims", f"/claims/{CLAIM}", "/search", "/docs"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html")
        references = _REFERENCES.findall(page.text)
        assert references, path
        assert [r for r in references if not r.startswith(("/", "#"))] == [], path
        assert "<script" not in page.text, "no page needs JavaScript"
    overview = client.get("/").text
    assert "<svg" in overview and "No spike in this period" in overview
    assert "0</span><span>articles stored" in overview


def test_unknown_ids_and_unsearchable_queries_are_explained(client):
    claim = client.get("/claims/no-such-claim")
    assert claim.status_code == 404 and "No claim &#39;no-such-claim&#39;" in claim.text
    entity = client.get("/", params={"entity": "no-such-entity"})
    assert entity.status_code == 422 and "unknown entity id(s): no-such-entity" in entity.text
    nothing = client.get("/search", params={"q": "-excluded"})
    assert nothing.status_code == 422 and "at least one word" in nothing.text
    bad_cursor = client.get("/search", params={"q": "drone", "cursor": "garbage"})
    assert bad_cursor.status_code == 422 and "not a search cursor" in bad_cursor.text
    odd_period = client.get("/", params={"period": "1000y"})
    assert odd_period.status_code == 200 and 'value="30d" class="on"' in odd_period.text, "back to 30d"


def test_the_stylesheet_is_served_from_here(client):
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@import" not in css.text and "url(" not in css.text, "the stylesheet fetches nothing"
