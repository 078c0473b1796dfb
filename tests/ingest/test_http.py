"""ingest/http.py against a real HTTP server on 127.0.0.1 (tests/support/corpus_site.py)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.clean import CleanArticle, clean_html
from ingest.http import Fetcher, http_date, parse_retry_after
from tests.support.corpus_site import PAGES_DIR, CorpusSite, Request, Response, load_manifest

PAGE = load_manifest()[0]["file"]


def _unique(prefix: str) -> str:
    return f"/{prefix}-{uuid.uuid4().hex}"


@pytest.fixture
def refusing_fetcher(fetcher: Fetcher) -> Iterator[Fetcher]:
    """Same limits as ``fetcher`` but no private host allowed: the production default."""
    with Fetcher(replace(fetcher.policy, allowed_private_hosts=frozenset())) as client:
        yield client


# --------------------------------------------------------------------------- plain and conditional GET


def test_200_with_content(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(corpus_site.url(f"/pages/{PAGE}"))
    assert result.ok, result.error
    assert result.status == 200
    assert result.content == (PAGES_DIR / PAGE).read_bytes()
    assert result.content_type.startswith("text/html")
    assert result.final_url == result.url == corpus_site.url(f"/pages/{PAGE}")
    assert result.etag
    assert result.last_modified
    assert result.elapsed_ms >= 0


def test_user_agent_and_accept_are_sent(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    path = _unique("echo")
    seen: list[Request] = []

    def echo(request: Request) -> Response:
        seen.append(request)
        return Response(200, b"ok", {"Content-Type": "text/plain"})

    corpus_site.add_route(path, echo)
    result = fetcher.fetch(corpus_site.url(path), accept="application/rss+xml")
    assert result.ok
    assert seen[0].headers["user-agent"] == "mediamon-test"
    assert seen[0].headers["accept"] == "application/rss+xml"
    assert "br" in seen[0].headers["accept-encoding"]


def test_conditional_get_round_trips_etag_and_last_modified(
    corpus_site: CorpusSite, fetcher: Fetcher
) -> None:
    url = corpus_site.url(f"/pages/{PAGE}")
    first = fetcher.fetch(url)
    assert first.ok
    assert first.etag
    assert first.last_modified

    by_etag = fetcher.fetch(url, etag=first.etag)
    assert by_etag.status == 304
    assert by_etag.not_modified
    assert not by_etag.ok
    assert by_etag.error is None
    assert by_etag.content == b""
    assert by_etag.etag == first.etag  # the validator comes back for the next poll

    by_date = fetcher.fetch(url, last_modified=first.last_modified)
    assert by_date.status == 304

    stale = fetcher.fetch(url, etag='"not-the-current-etag"')
    assert stale.status == 200
    assert stale.content == first.content

    older = http_date(datetime(2000, 1, 1, tzinfo=UTC))
    assert fetcher.fetch(url, last_modified=older).status == 200


def test_conditional_get_on_feeds(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    for path in ("/feeds/corpus.rss?n=5", "/feeds/corpus.atom?n=5"):
        first = fetcher.fetch(corpus_site.url(path))
        assert first.ok
        assert first.etag
        assert first.last_modified
        assert b"/pages/" in first.content
        again = fetcher.fetch(corpus_site.url(path), etag=first.etag, last_modified=first.last_modified)
        assert again.not_modified
        other_n = fetcher.fetch(corpus_site.url(path.replace("n=5", "n=6")), etag=first.etag)
        assert other_n.status == 200  # a different body has a different ETag


# --------------------------------------------------------------------------- redirects


def test_redirect_chain_is_followed(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    url = corpus_site.url(f"/redirect/3/pages/{PAGE}")
    result = fetcher.fetch(url)
    assert result.ok, result.error
    assert result.url == url
    assert result.final_url == corpus_site.url(f"/pages/{PAGE}")
    assert result.content == (PAGES_DIR / PAGE).read_bytes()


def test_redirect_limit(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    hops = fetcher.policy.max_redirects
    assert fetcher.fetch(corpus_site.url(f"/redirect/{hops}/pages/{PAGE}")).ok
    before = corpus_site.hits(f"/pages/{PAGE}")
    result = fetcher.fetch(corpus_site.url(f"/redirect/{hops + 1}/pages/{PAGE}"))
    assert result.error_kind == "redirects"
    assert not result.ok
    assert corpus_site.hits(f"/pages/{PAGE}") == before  # gave up before the target


# --------------------------------------------------------------------------- timeouts and size limits


def test_slow_response_times_out(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    policy = replace(fetcher.policy, read_timeout=0.3, retries=1, backoff=0.01)
    before = corpus_site.hits("/slow")
    started = time.monotonic()
    with Fetcher(policy) as impatient:
        result = impatient.fetch(corpus_site.url("/slow?seconds=5"))
    elapsed = time.monotonic() - started
    assert result.error_kind == "network"
    assert "timeout" in (result.error or "").lower()
    assert elapsed < 3, "the read timeout was not applied"
    assert corpus_site.hits("/slow") - before == 2  # network errors are retried


def test_oversize_stream_is_cut_off(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    started = time.monotonic()
    result = fetcher.fetch(corpus_site.url("/oversize?mb=200"))
    assert result.error_kind == "too_large"
    assert result.content == b""
    assert time.monotonic() - started < 5
    record = corpus_site.streams[-1]
    assert record.done.wait(5), "the server never noticed the client hung up"
    assert record.aborted
    assert record.sent < record.total // 4  # stopped early, not read to the end


def test_oversize_declared_is_refused_before_reading(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    started = time.monotonic()
    result = fetcher.fetch(corpus_site.url("/oversize-declared?mb=100"))
    assert result.error_kind == "too_large"
    assert time.monotonic() - started < 2


def test_gzip_bomb_is_too_large(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(corpus_site.url("/gzip-bomb"))
    assert result.error_kind == "too_large"
    assert result.content == b""


def test_per_call_max_bytes(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    size = (PAGES_DIR / PAGE).stat().st_size
    assert fetcher.fetch(corpus_site.url(f"/pages/{PAGE}"), max_bytes=size).ok
    small = fetcher.fetch(corpus_site.url(f"/pages/{PAGE}"), max_bytes=size - 1)
    assert small.error_kind == "too_large"


def test_brotli_is_decoded(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(corpus_site.url("/brotli"))
    assert result.ok, result.error
    assert result.headers["content-encoding"] == "br"
    assert result.content == (PAGES_DIR / PAGE).read_bytes()


# --------------------------------------------------------------------------- retries


def test_flaky_503_then_success(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    key = uuid.uuid4().hex
    result = fetcher.fetch(corpus_site.url(f"/flaky/{key}?fail=2&code=503"))
    assert result.ok, result.error
    assert result.content == (PAGES_DIR / PAGE).read_bytes()
    assert corpus_site.hits(f"/flaky/{key}") == 3


def test_flaky_beyond_retries_is_http_error(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    key = uuid.uuid4().hex
    result = fetcher.fetch(corpus_site.url(f"/flaky/{key}?fail=5&code=502"))
    assert result.error_kind == "http"
    assert result.status == 502
    assert corpus_site.hits(f"/flaky/{key}") == 1 + fetcher.policy.retries


def test_429_short_retry_after_is_waited_out(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    waits: list[float] = []
    key = uuid.uuid4().hex
    with Fetcher(fetcher.policy, sleep=waits.append) as recording:
        result = recording.fetch(corpus_site.url(f"/flaky/{key}?fail=1&code=429"))
    assert result.ok
    assert waits == [fetcher.policy.backoff]  # no Retry-After: plain backoff

    path = "/status/429"
    before = corpus_site.hits(path)
    waits.clear()
    with Fetcher(fetcher.policy, sleep=waits.append) as recording:
        result = recording.fetch(corpus_site.url(f"{path}?retry_after=3"))
    assert result.status == 429
    assert result.retry_after == 3.0
    assert waits == [3.0, 3.0]  # honoured (it is under max_retry_wait), retried twice
    assert corpus_site.hits(path) - before == 3


def test_429_long_retry_after_returns_at_once(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    path = "/status/429"
    before = corpus_site.hits(path)
    wait = fetcher.policy.max_retry_wait + 90
    started = time.monotonic()
    result = fetcher.fetch(corpus_site.url(f"{path}?retry_after={int(wait)}"))
    assert time.monotonic() - started < 1
    assert result.error_kind == "http"
    assert result.status == 429
    assert result.retry_after == wait
    assert result.error == f"HTTP 429 (retry after {int(wait)} s)"
    assert corpus_site.hits(path) - before == 1


def test_the_error_text_shows_the_wait_a_server_asks_for(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    an_hour = fetcher.fetch(corpus_site.url("/status/429?retry_after=3600"))
    assert an_hour.error == "HTTP 429 (retry after 3600 s)"
    assert an_hour.error_kind == "http"
    unavailable = fetcher.fetch(corpus_site.url("/status/503?retry_after=7200"))
    assert unavailable.error == "HTTP 503 (retry after 7200 s)"
    no_wait = fetcher.fetch(corpus_site.url("/status/429"))
    assert no_wait.error == "HTTP 429"


@pytest.mark.parametrize("code", [404, 410, 403])
def test_client_errors_are_not_retried(corpus_site: CorpusSite, fetcher: Fetcher, code: int) -> None:
    path = f"/status/{code}"
    before = corpus_site.hits(path)
    result = fetcher.fetch(corpus_site.url(path))
    assert result.error_kind == "http"
    assert result.status == code
    assert corpus_site.hits(path) - before == 1


# --------------------------------------------------------------------------- SSRF guard


def test_loopback_refused_without_permission(corpus_site: CorpusSite, refusing_fetcher: Fetcher) -> None:
    path = _unique("refusal-probe")
    result = refusing_fetcher.fetch(corpus_site.url(path))
    assert result.error_kind == "refused"
    assert not result.ok
    assert corpus_site.hits(path) == 0


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http:///no-host",
    ],
)
def test_private_and_odd_targets_refused(refusing_fetcher: Fetcher, url: str) -> None:
    started = time.monotonic()
    result = refusing_fetcher.fetch(url)
    assert result.error_kind == "refused", result.error
    assert result.content == b""
    assert time.monotonic() - started < 1  # refused before any connection attempt


def test_dns_rebinding_is_refused_at_connect_time(
    corpus_site: CorpusSite, refusing_fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile DNS server answers a public address to the early check and loopback a moment
    later, when the socket connects. (Its answers are simulated: no DNS server of ours can be
    the machine's resolver. The server on loopback is real.)"""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"])  # public once, then loopback for ever

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return real_getaddrinfo(next(answers, "127.0.0.1"), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    path = _unique("rebound")
    result = refusing_fetcher.fetch(f"http://rebind.example:{corpus_site.port}{path}")
    assert result.error_kind == "refused", result.error
    assert "127.0.0.1" in (result.error or "")
    assert corpus_site.hits(path) == 0, "no request reached the private address"


def test_redirect_to_disallowed_host_refused_at_the_hop(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    # 127.0.0.1 is allowed; "localhost" is the same machine but not in the allowed set.
    target_path = _unique("never-reached")
    target = f"http://localhost:{corpus_site.port}{target_path}"
    result = fetcher.fetch(corpus_site.url(f"/redirect-to?url={target}"))
    assert result.error_kind == "refused", result.error
    assert result.final_url == target
    assert corpus_site.hits(target_path) == 0

    metadata = fetcher.fetch(corpus_site.url("/redirect-to?url=http://169.254.169.254/latest/"))
    assert metadata.error_kind == "refused"


# --------------------------------------------------------------------------- charsets


def test_charset_from_header_and_latin1_page(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(corpus_site.url("/latin1"))
    assert result.ok
    assert result.charset == "iso-8859-1"
    assert "é".encode("iso-8859-1") in result.content
    article = clean_html(result.content, result.final_url, charset=result.charset)
    assert isinstance(article, CleanArticle), article
    assert "café" in article.text
    assert "Müller" in article.text
    assert "\ufffd" not in article.text


def test_charset_property_variants(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    variants = {
        'text/html; charset="UTF-8"': "utf-8",
        "text/html;charset=Windows-1252": "windows-1252",
        "text/html; foo=bar; charset='koi8-r'": "koi8-r",
        "text/html": None,
    }
    for content_type, expected in variants.items():
        path = _unique("charset")
        corpus_site.set_static(path, b"<p>x</p>", content_type=content_type)
        assert fetcher.fetch(corpus_site.url(path)).charset == expected, content_type


# --------------------------------------------------------------------------- Retry-After parsing


def test_parse_retry_after_seconds() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


def test_parse_retry_after_http_date() -> None:
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    later = http_date(now + timedelta(seconds=90))
    assert later == "Fri, 01 Mar 2024 12:01:30 GMT"
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(90.0)
    earlier = http_date(now - timedelta(hours=1))
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0


def test_freshness_from_cache_control_or_expires() -> None:
    from ingest.http import FetchResult

    assert FetchResult("u", "u", headers={"cache-control": "public, max-age=600"}).fresh_for_s == 600
    assert FetchResult("u", "u", headers={"cache-control": "no-cache"}).fresh_for_s is None
    expires = {"date": "Mon, 23 Nov 2026 10:00:00 GMT", "expires": "Mon, 23 Nov 2026 11:30:00 GMT"}
    assert FetchResult("u", "u", headers=expires).fresh_for_s == 5400
    assert FetchResult("u", "u", headers={"expires": "garbage"}).fresh_for_s is None
