"""One-click unsubscribe (web/app.py) over real HTTP: uvicorn on loopback, httpx as the client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from notify.tokens import make_token
from schema.models import Subscription
from services.subscriptions import NewSubscription, add_subscription
from tests.support.net import free_port
from web.app import create_app

SECRET = "web-test-secret"


@pytest.fixture
def served(sessions: sessionmaker[Session]) -> Iterator[str]:
    """The app under uvicorn on a free loopback port; its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(sessions, SECRET), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def subscription(sessions: sessionmaker[Session]) -> tuple[int, str]:
    subscription_id = add_subscription(
        sessions, NewSubscription(address="analyst@example.org"), load_kb(DEFAULT_KB_PATH)
    )
    return subscription_id, make_token(SECRET, subscription_id)


def active(sessions: sessionmaker[Session], subscription_id: int) -> bool:
    with sessions() as session:
        return session.get_one(Subscription, subscription_id).active


def test_get_shows_a_button_and_changes_nothing(sessions, served):
    subscription_id, token = subscription(sessions)
    page = httpx.get(f"{served}/unsubscribe/{token}")
    assert page.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text and "<button" in page.text
    assert "an…@example.org" in page.text, "the address is recognisable but not spelled out"
    assert active(sessions, subscription_id), "mail scanners follow links: a GET must not unsubscribe"


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_unsubscribes_without_login_or_redirect(sessions, served, encoding):
    subscription_id, token = subscription(sessions)
    if encoding == "urlencoded":
        response = httpx.post(f"{served}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    else:
        response = httpx.post(
            f"{served}/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")}
        )
    assert response.status_code == 200 and not response.is_redirect
    assert "You are unsubscribed" in response.text
    assert not active(sessions, subscription_id)
    with sessions() as session:
        unsubscribed = session.get_one(Subscription, subscription_id).unsubscribed_at
    assert unsubscribed is not None and unsubscribed <= datetime.now(UTC)
    again = httpx.post(f"{served}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200, "a second click is harmless"


def test_a_post_without_the_one_click_body_is_refused(sessions, served):
    subscription_id, token = subscription(sessions)
    response = httpx.post(f"{served}/unsubscribe/{token}", data={"unsubscribe": "yes"})
    assert response.status_code == 400 and "One-Click" in response.text
    assert active(sessions, subscription_id)


def test_tampered_or_foreign_tokens_get_404_and_change_nothing(sessions, served):
    subscription_id, token = subscription(sessions)
    forged = make_token("another-secret", subscription_id)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "garbage"):
        assert httpx.get(f"{served}/unsubscribe/{bad}").status_code == 404
        assert (
            httpx.post(f"{served}/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"}).status_code
            == 404
        )
    assert active(sessions, subscription_id)
    assert httpx.get(f"{served}/healthz").text == "ok"
