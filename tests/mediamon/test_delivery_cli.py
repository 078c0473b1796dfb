"""The embedded default end to end: `run --once` stores real pages, `subscriptions add`, then
`digest run` delivers to a real SMTP server on loopback, or as .eml files with no SMTP set."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from tests.integration.test_pipeline import seed_page
from tests.support.cli import local_site_env, mediamon
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss
from tests.support.smtp import smtp_server

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return local_site_env(
        tmp_path / "cli.db",
        MEDIAMON_SECRET_KEY="cli-test-secret",
        MEDIAMON_PUBLIC_URL="https://mediamon.example",
        MEDIAMON_OUTBOX_DIR=str(tmp_path / "outbox"),
    )


@pytest.fixture
def stored(env, tmp_path) -> None:
    """Both seed articles, served as pages and stored by a one-shot run."""
    kb = load_kb(DEFAULT_KB_PATH)
    with CorpusSite() as site:
        items = []
        for n, source in enumerate(kb.sources.values()):
            site.set_static(f"/news/seed{n}.html", seed_page(SEEDS_DIR / source.file))
            items.append(FeedItem(f"seed {n}", site.url(f"/news/seed{n}.html")))
        site.set_static("/feeds/seeds.rss", build_rss(items), content_type="application/rss+xml")
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(site.url("/feeds/seeds.rss") + "\n")
        ran = mediamon(env, "run", "--once", "--feeds", str(feeds))
        assert ran.returncode == 0, ran.stderr


def subscribe_now(env, *extra: str) -> int:
    """A daily subscription whose hour has just passed: its first digest is tomorrow's, covering today."""
    at = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    added = mediamon(env, "subscriptions", "add", "analyst@example.org", "--at", at, "--tz", "UTC", *extra)
    assert added.returncode == 0, added.stderr
    return int(added.stdout.strip())


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


def test_digest_run_delivers_once_to_the_smtp_server(env, stored):
    subscription_id = subscribe_now(env)
    with smtp_server() as (url, mailbox):
        env = {**env, "MEDIAMON_SMTP_URL": url, "MEDIAMON_MAIL_FROM": "mediamon <digest@mediamon.example>"}
        first = mediamon(env, "digest", "run", "--now", tomorrow())
        again = mediamon(env, "digest", "run", "--now", tomorrow())
    assert first.returncode == 0, first.stderr
    assert "1 digest(s) written" in first.stdout and "sent 1" in first.stdout
    assert "0 digest(s) written" in again.stdout and "sent 0" in again.stdout
    (message,) = mailbox.messages
    assert message["To"] == "analyst@example.org"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://mediamon.example/unsubscribe/" in message["List-Unsubscribe"]
    # On the wire as written: an RFC 2047-encoded List-Unsubscribe is ignored by Gmail.
    assert b"\nList-Unsubscribe: <https://mediamon.example/unsubscribe/" in mailbox.raw[0].replace(
        b"\r\n", b"\n"
    )
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "stories" in str(message["Subject"])

    listed = mediamon(env, "deliveries")
    assert listed.returncode == 0 and "sent" in listed.stdout
    subs = json.loads(mediamon(env, "subscriptions", "list", "--format", "json").stdout)
    assert [s["id"] for s in subs] == [subscription_id]


def test_without_smtp_the_digest_is_written_as_an_eml_file(env, stored, tmp_path):
    subscribe_now(env, "--claim", "isi-arms-militant-proxies", "--send-empty")
    ran = mediamon(env, "digest", "run", "--now", tomorrow())
    assert ran.returncode == 0, ran.stderr
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"]


def test_preview_writes_html_and_text_without_storing_anything(env, stored, tmp_path):
    subscription_id = subscribe_now(env)
    out = tmp_path / "preview.html"
    shown = mediamon(env, "digest", "preview", "--subscription", str(subscription_id), "-o", str(out))
    assert shown.returncode == 0, shown.stderr
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith(("<!doctype", "<html"))
    assert out.with_suffix(".txt").read_text(encoding="utf-8").strip()
    listed = mediamon(env, "deliveries")
    assert listed.returncode == 0 and "0 deliveries" in listed.stdout, "a preview stores and sends nothing"


def test_clear_errors_for_missing_secret_bad_subscription_and_unknown_id(env):
    no_secret = {k: v for k, v in env.items() if k != "MEDIAMON_SECRET_KEY"}
    ran = mediamon(no_secret, "digest", "run")
    assert ran.returncode == 2 and "MEDIAMON_SECRET_KEY" in ran.stderr and "Traceback" not in ran.stderr
    bad = mediamon(env, "subscriptions", "add", "analyst@example.org", "--entity", "atlantis")
    assert bad.returncode == 2 and "unknown entity: atlantis" in bad.stderr
    bad_tz = mediamon(env, "subscriptions", "add", "analyst@example.org", "--tz", "Karachi")
    assert bad_tz.returncode == 2 and "IANA" in bad_tz.stderr
    gone = mediamon(env, "subscriptions", "remove", "42")
    assert gone.returncode == 1 and "no subscription 42" in gone.stderr
    preview = mediamon(env, "digest", "preview", "--subscription", "42", "-o", "x.html")
    assert preview.returncode == 1 and "no subscription 42" in preview.stderr
